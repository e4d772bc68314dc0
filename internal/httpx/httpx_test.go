package httpx

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/edgepix/edgepix/internal/metrics"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

func TestWrapRecoversCountsAndServesMetrics(t *testing.T) {
	m := metrics.New()
	h := WithMetrics(Wrap("test", func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/boom" {
			panic("boom")
		}
		ctx.SetBodyString("ok")
	}, m, slog.New(slog.NewTextHandler(io.Discard, nil))), m)
	ln := fasthttputil.NewInmemoryListener()
	defer ln.Close()
	go fasthttp.Serve(ln, h)
	c := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	get := func(path string) *fasthttp.Response {
		resp := &fasthttp.Response{}
		req := fasthttp.AcquireRequest()
		req.SetRequestURI("http://x" + path)
		if err := c.Do(req, resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := get("/boom"); r.StatusCode() != 500 || !strings.Contains(string(r.Body()), "Internal error") ||
		len(r.Header.Peek(RequestIDHeader)) == 0 {
		t.Fatalf("panic: %d %s", r.StatusCode(), r.Body())
	}
	if r := get("/fine"); r.StatusCode() != 200 || string(r.Body()) != "ok" {
		t.Fatalf("after a panic the server must keep serving: %d", r.StatusCode())
	}
	for _, p := range []string{"/boom", "/fine", "/metrics"} {
		if r := get(p); string(r.Header.Peek("X-Content-Type-Options")) != "nosniff" {
			t.Errorf("%s: no X-Content-Type-Options: nosniff", p)
		}
	}
	body := string(get("/metrics").Body())
	for _, want := range []string{`edgepix_http_requests_total{code="500",server="test"}`, `code="200",server="test"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// Without WithMetrics, /metrics is an ordinary path for the handler.
func TestWrapLeavesMetricsToTheHandler(t *testing.T) {
	h := Wrap("edge", func(ctx *fasthttp.RequestCtx) {
		ctx.SetStatusCode(404)
		ctx.SetBodyString("not an asset")
	}, metrics.New(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := &fasthttp.RequestCtx{}
	ctx.Request.SetRequestURI("/metrics")
	h(ctx)
	if ctx.Response.StatusCode() != 404 || strings.Contains(string(ctx.Response.Body()), "edgepix_") {
		t.Fatalf("/metrics answered by Wrap: %d %.80s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}
