package edge

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/purge"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/valyala/fasthttp"
)

// hitEdge is an edge with no origin (a miss answers 502) whose cache the
// test fills itself.
func hitEdge(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{CacheDir: filepath.Join(t.TempDir(), "cache"), DiskBytes: 64 << 20,
		Secrets: map[string]string{"demo": "secret"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// store caches body as the answer of path for an Accept class.
func store(t *testing.T, s *Server, path, class string, body []byte) *entry {
	t.Helper()
	cloud, rest, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	p, err := grammar.ParsePath(rest)
	if err != nil {
		t.Fatal(err)
	}
	e := newEntry("image/jpeg", fmt.Sprintf(`"%x"`, len(body)), time.Unix(1700000000, 0), body)
	s.cache.put(newRoute(cloud, p, p.Format()).key(classIndex(class)), e, s.cache.generation())
	return e
}

// get sends one request through the handler, reusing ctx.
func get(s *Server, ctx *fasthttp.RequestCtx, method, path string, headers ...string) {
	ctx.Request.Reset()
	ctx.Response.Reset()
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(path)
	for i := 0; i+1 < len(headers); i += 2 {
		ctx.Request.Header.Set(headers[i], headers[i+1])
	}
	s.Handler(ctx)
}

// A URL seen before is answered from its remembered route with the same
// headers as the first time, and without allocating; HEAD and
// If-None-Match are answered from it too.
func TestHitFromARememberedRoute(t *testing.T) {
	s := hitEdge(t)
	const path = "/demo/image/upload/c_fill,w_300,h_200/v7/photo.jpg"
	e := store(t, s, path, "", []byte("jpeg bytes"))
	ctx := &fasthttp.RequestCtx{}
	var first string
	for i := range 2 {
		get(s, ctx, "GET", path)
		h := &ctx.Response.Header
		got := fmt.Sprintf("%d %s|%s|%s|%s|%s|%s|%s", ctx.Response.StatusCode(), ctx.Response.Body(), h.Peek("X-Cache"),
			h.Peek("ETag"), h.Peek("Last-Modified"), h.Peek("Cache-Control"), h.ContentType(), h.Peek("Access-Control-Allow-Origin"))
		want := `200 jpeg bytes|HIT|"a"|Tue, 14 Nov 2023 22:13:20 GMT|public, max-age=31536000, immutable|image/jpeg|*`
		if got != want {
			t.Fatalf("request %d: %s, want %s", i+1, got, want)
		}
		if i == 0 {
			first = h.String()
		} else if h.String() != first {
			t.Errorf("the remembered route answers\n%s\nthe first answer was\n%s", h.String(), first)
		}
	}
	if s.routes.get([]byte(path)) == nil {
		t.Fatal("the route was not remembered")
	}
	if n := testing.AllocsPerRun(200, func() { get(s, ctx, "GET", path) }); n != 0 {
		t.Errorf("a hit allocates %v times", n)
	}
	get(s, ctx, "GET", path, "If-None-Match", `W/"zz", `+string(e.etagValue()))
	if ctx.Response.StatusCode() != 304 || len(ctx.Response.Body()) != 0 {
		t.Errorf("If-None-Match: %d %q", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	get(s, ctx, "HEAD", path)
	if ctx.Response.StatusCode() != 200 || ctx.Response.Header.ContentLength() != len("jpeg bytes") || !ctx.Response.SkipBody {
		t.Errorf("HEAD: %d, length %d", ctx.Response.StatusCode(), ctx.Response.Header.ContentLength())
	}
}

// f_auto: the remembered route picks the key of the request's Accept
// class, and says the answer varies on Accept.
func TestHitAutoFormatFollowsAccept(t *testing.T) {
	s := hitEdge(t)
	const path = "/demo/image/upload/f_auto,w_100/photo.jpg"
	store(t, s, path, "", []byte("jpeg"))
	store(t, s, path, "webp", []byte("webp"))
	ctx := &fasthttp.RequestCtx{}
	for range 2 { // the first time through resolve, then from the route
		for _, c := range []struct{ accept, body string }{{"image/webp,*/*", "webp"}, {"", "jpeg"}, {"text/html", "jpeg"}} {
			get(s, ctx, "GET", path, "Accept", c.accept)
			if string(ctx.Response.Body()) != c.body || string(ctx.Response.Header.Peek("Vary")) != "Accept" {
				t.Errorf("Accept %q: %q, Vary %q", c.accept, ctx.Response.Body(), ctx.Response.Header.Peek("Vary"))
			}
		}
	}
}

// A purge reaches URLs served from remembered routes: the route stays,
// the entry goes (this edge has no origin: the miss answers 502).
func TestPurgeReachesRememberedRoutes(t *testing.T) {
	s := hitEdge(t)
	const path = "/demo/image/upload/w_100/photo.jpg"
	store(t, s, path, "", []byte("old"))
	ctx := &fasthttp.RequestCtx{}
	get(s, ctx, "GET", path)
	get(s, ctx, "GET", path)
	if string(ctx.Response.Body()) != "old" {
		t.Fatalf("before the purge: %d %q", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	s.Purge(purge.Message{Cloud: "demo", ResourceType: "image", Type: "upload", PublicID: "photo"})
	get(s, ctx, "GET", path)
	if ctx.Response.StatusCode() != 502 {
		t.Fatalf("after the purge: %d %q", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}

// Only authorised URLs are remembered: a bad signature next to a good one
// is refused every time.
func TestRoutesRememberOnlyAuthorisedURLs(t *testing.T) {
	s := hitEdge(t)
	p, _ := grammar.ParsePath("image/authenticated/w_100/photo.jpg")
	good := "/demo/" + p.Signed("secret").String()
	bad := strings.Replace(good, "s--", "s--x", 1)
	store(t, s, good, "", []byte("private"))
	ctx := &fasthttp.RequestCtx{}
	for range 2 {
		get(s, ctx, "GET", good)
		if ctx.Response.StatusCode() != 200 {
			t.Fatalf("%s: %d %s", good, ctx.Response.StatusCode(), ctx.Response.Header.Peek("X-Cld-Error"))
		}
		get(s, ctx, "GET", bad)
		if ctx.Response.StatusCode() != 401 {
			t.Fatalf("%s: %d", bad, ctx.Response.StatusCode())
		}
	}
	if s.routes.get([]byte(bad)) != nil {
		t.Error("a refused URL was remembered")
	}
}

// The routes remembered are bounded, whatever the URLs.
func TestRoutesAreBounded(t *testing.T) {
	rs := newRoutes()
	for i := range maxRoutes + 100 {
		rs.put(fmt.Sprintf("/demo/image/upload/w_%d/x.jpg", i), &route{})
	}
	for i := range maxAccepts + 10 {
		rs.class(fmt.Appendf(nil, "image/webp;q=0.%d", i))
	}
	if len(rs.byPath) > maxRoutes || len(rs.accepts) > maxAccepts {
		t.Fatalf("%d routes, %d Accept headers remembered", len(rs.byPath), len(rs.accepts))
	}
}

// With the defaults (a 1 GiB disk cache), the edge's heap budget leaves
// room under 200 MB for the binary and Badger's mapped pages.
func TestDefaultMemoryLimit(t *testing.T) {
	if got := MemoryLimit(0, 0); got != 148<<20 || DefaultMemBytes(1<<30) != 64<<20 {
		t.Fatalf("MemoryLimit(0, 0) = %d MiB, memory tier %d MiB", got>>20, DefaultMemBytes(1<<30)>>20)
	}
}

// Remembered routes stay within maxRouteBytes however long the URLs:
// an anonymous client sending distinct 4 KB URLs cannot grow the heap.
func TestRoutesBoundedInBytes(t *testing.T) {
	rs := newRoutes()
	long := strings.Repeat("x", 4000)
	for i := range 20000 {
		r := &route{keys: [len(acceptClasses)]string{long, long, long, long}}
		rs.put(fmt.Sprintf("/demo/image/upload/%d/%s.jpg", i, long), r)
		if rs.bytes > maxRouteBytes {
			t.Fatalf("after %d routes: %d bytes remembered, bound %d", i+1, rs.bytes, maxRouteBytes)
		}
	}
	if len(rs.byPath) == 0 {
		t.Fatal("nothing remembered")
	}
}
