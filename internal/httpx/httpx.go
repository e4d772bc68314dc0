// Package httpx wraps the fasthttp handlers of both servers with what
// every request gets: a request id, a structured log line, Prometheus
// counters, recovery from panics and X-Content-Type-Options: nosniff; it
// serves /metrics where it is asked to, and builds the servers with their
// connection limits and timeouts (server.go).
package httpx

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/edgepix/edgepix/internal/metrics"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// RequestIDHeader carries the request id in and out (and from edge to
// origin, so one delivery can be followed across both logs).
const RequestIDHeader = "X-Request-Id"

var (
	requestIDKey = []byte(RequestIDHeader)
	nosniffKey   = []byte("X-Content-Type-Options")
	nosniff      = []byte("nosniff")
	cacheKey     = []byte("X-Cache")
	hitValue     = []byte("HIT")
)

// Option adjusts what Wrap logs.
type Option func(*options)

type options struct{ hitSample uint64 }

// SampleHits logs one in n cache hits (responses marked X-Cache: HIT) at
// info level; the others, like every hit when n is 0, are logged at debug
// level only. A hit is the edge's hot path: a log line costs it more than
// the rest of the request (a JSON encoding and a write to the log).
func SampleHits(n int) Option {
	return func(o *options) { o.hitSample = uint64(max(n, 0)) }
}

// Wrap returns h with request ids, logging, metrics, panic recovery and
// nosniff. It does not serve /metrics: see WithMetrics. Errors (5xx) are
// logged at error level, cache hits at debug level (see SampleHits), every
// other request at info level.
func Wrap(server string, h fasthttp.RequestHandler, m *metrics.Metrics, log *slog.Logger, opts ...Option) fasthttp.RequestHandler {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	lat := m.Latency.WithLabelValues(server)
	codes := m.RequestCodes(server)
	var hits atomic.Uint64
	return func(ctx *fasthttp.RequestCtx) {
		start := ctx.Time() // when the request was read: fasthttp took the time already
		var buf [16]byte
		id := ctx.Request.Header.PeekBytes(requestIDKey)
		if len(id) == 0 || len(id) > 64 {
			id = newID(&buf)
		}
		ctx.Response.Header.SetCanonical(requestIDKey, id)
		recovered(ctx, h, id, log)
		// The edge serves bytes users uploaded: browsers must not guess
		// another type than the one we send.
		ctx.Response.Header.SetCanonical(nosniffKey, nosniff)
		d := time.Since(start)
		code := ctx.Response.StatusCode()
		lat.Observe(d.Seconds())
		codes.Inc(code)
		level := slog.LevelInfo
		cache := ctx.Response.Header.PeekBytes(cacheKey)
		switch {
		case code >= 500:
			level = slog.LevelError
		case bytes.Equal(cache, hitValue):
			if o.hitSample == 0 || hits.Add(1)%o.hitSample != 0 {
				level = slog.LevelDebug
			}
		}
		if log.Enabled(ctx, level) {
			log.LogAttrs(ctx, level, "request", slog.String("request_id", string(id)),
				slog.String("method", string(ctx.Method())), slog.String("path", string(ctx.Path())),
				slog.Int("status", code), slog.Int("bytes", len(ctx.Response.Body())),
				slog.Duration("duration", d), slog.String("cache", string(cache)))
		}
	}
}

// recovered runs h, answering 500 if it panics.
func recovered(ctx *fasthttp.RequestCtx, h fasthttp.RequestHandler, id []byte, log *slog.Logger) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("panic", "request_id", string(id), "panic", r)
			ctx.Response.Reset()
			ctx.SetStatusCode(500)
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"error":{"message":"Internal error"}}`)
			ctx.Response.Header.Set("X-Cld-Error", "Internal error")
			ctx.Response.Header.SetCanonical(requestIDKey, id)
		}
	}()
	h(ctx)
}

// WithMetrics returns h serving the Prometheus metrics of m at GET
// /metrics itself (unlogged and uncounted), for the origin or the
// --metrics-addr listener; never on the public delivery port.
func WithMetrics(h fasthttp.RequestHandler, m *metrics.Metrics) fasthttp.RequestHandler {
	prom := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	return func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/metrics" && (ctx.IsGet() || ctx.IsHead()) {
			prom(ctx)
			ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
			return
		}
		h(ctx)
	}
}

// newID writes a random request id (16 hex digits) into buf.
func newID(buf *[16]byte) []byte {
	var b [8]byte
	rand.Read(b[:])
	hex.Encode(buf[:], b[:])
	return buf[:]
}
