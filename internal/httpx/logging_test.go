package httpx

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"

	"github.com/edgepix/edgepix/internal/metrics"
	"github.com/valyala/fasthttp"
)

// cacheHandler answers with the X-Cache value and status of its path.
func cacheHandler(ctx *fasthttp.RequestCtx) {
	switch string(ctx.Path()) {
	case "/hit":
		ctx.Response.Header.Set("X-Cache", "HIT")
	case "/miss":
		ctx.Response.Header.Set("X-Cache", "MISS")
	case "/fail":
		ctx.SetStatusCode(502)
	}
	ctx.SetBodyString("body")
}

// logLines runs the paths through Wrap with an info-level JSON log and
// returns the request lines' paths and levels.
func logLines(t *testing.T, paths []string, opts ...Option) (lines []string) {
	t.Helper()
	var out bytes.Buffer
	h := Wrap("edge", cacheHandler, metrics.New(), slog.New(slog.NewJSONHandler(&out, nil)), opts...)
	for _, p := range paths {
		ctx := &fasthttp.RequestCtx{}
		ctx.Request.SetRequestURI(p)
		ctx.Request.Header.Set(RequestIDHeader, "id"+p[1:])
		h(ctx)
		if got := string(ctx.Response.Header.Peek(RequestIDHeader)); got != "id"+p[1:] {
			t.Errorf("%s: request id %q, want the client's", p, got)
		}
	}
	dec := json.NewDecoder(&out)
	for dec.More() {
		var l struct {
			Level, Path string
			ID          string `json:"request_id"`
		}
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		if l.ID != "id"+l.Path[1:] {
			t.Errorf("%s logged with request id %q", l.Path, l.ID)
		}
		lines = append(lines, l.Level+" "+l.Path)
	}
	return lines
}

// At info level, hits are not logged; misses, other answers and errors are.
func TestWrapLogsHitsAtDebug(t *testing.T) {
	got := logLines(t, []string{"/hit", "/miss", "/hit", "/other", "/fail"})
	want := []string{"INFO /miss", "INFO /other", "ERROR /fail"}
	if !slices.Equal(got, want) {
		t.Fatalf("logged %q, want %q", got, want)
	}
}

// SampleHits(n) logs one hit in n at info.
func TestWrapSamplesHits(t *testing.T) {
	paths := []string{"/miss"}
	for range 9 {
		paths = append(paths, "/hit")
	}
	got := logLines(t, paths, SampleHits(3))
	want := []string{"INFO /miss", "INFO /hit", "INFO /hit", "INFO /hit"}
	if !slices.Equal(got, want) {
		t.Fatalf("logged %q, want %q", got, want)
	}
}

// A hit through Wrap allocates nothing of Wrap's own: the id, the
// headers, the counters and the (skipped) log line.
func TestWrapHitAllocatesNothing(t *testing.T) {
	var out bytes.Buffer
	hit := func(ctx *fasthttp.RequestCtx) { ctx.Response.Header.SetCanonical(cacheKey, hitValue) }
	h := Wrap("edge", hit, metrics.New(), slog.New(slog.NewJSONHandler(&out, nil)))
	ctx := &fasthttp.RequestCtx{}
	ctx.Request.SetRequestURI("/x")
	h(ctx)
	if n := testing.AllocsPerRun(200, func() { ctx.Response.Reset(); h(ctx) }); n != 0 && !raceEnabled {
		t.Errorf("a hit allocates %v times in Wrap", n)
	}
	if len(ctx.Response.Header.Peek(RequestIDHeader)) != 16 || out.Len() != 0 {
		t.Errorf("request id %q, log %q", ctx.Response.Header.Peek(RequestIDHeader), out.String())
	}
}
