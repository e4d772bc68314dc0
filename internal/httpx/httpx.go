// Package httpx wraps the fasthttp handlers of both servers with what
// every request gets: a request id, a structured log line, Prometheus
// counters, recovery from panics and X-Content-Type-Options: nosniff; it
// serves /metrics where it is asked to, and builds the servers with their
// connection limits and timeouts (server.go).
package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"time"

	"github.com/edgepix/edgepix/internal/metrics"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// RequestIDHeader carries the request id in and out (and from edge to
// origin, so one delivery can be followed across both logs).
const RequestIDHeader = "X-Request-Id"

// Wrap returns h with request ids, logging, metrics, panic recovery and
// nosniff. It does not serve /metrics: see WithMetrics.
func Wrap(server string, h fasthttp.RequestHandler, m *metrics.Metrics, log *slog.Logger) fasthttp.RequestHandler {
	lat := m.Latency.WithLabelValues(server)
	return func(ctx *fasthttp.RequestCtx) {
		start := time.Now()
		id := string(ctx.Request.Header.Peek(RequestIDHeader))
		if id == "" || len(id) > 64 {
			id = newID()
		}
		ctx.Response.Header.Set(RequestIDHeader, id)
		func() {
			defer func() {
				if r := recover(); r != nil {
					log.Error("panic", "request_id", id, "panic", r)
					ctx.Response.Reset()
					ctx.SetStatusCode(500)
					ctx.SetContentType("application/json")
					ctx.SetBodyString(`{"error":{"message":"Internal error"}}`)
					ctx.Response.Header.Set("X-Cld-Error", "Internal error")
					ctx.Response.Header.Set(RequestIDHeader, id)
				}
			}()
			h(ctx)
		}()
		// The edge serves bytes users uploaded: browsers must not guess
		// another type than the one we send.
		ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
		d := time.Since(start)
		code := ctx.Response.StatusCode()
		lat.Observe(d.Seconds())
		m.Requests.WithLabelValues(server, strconv.Itoa(code)).Inc()
		level := slog.LevelInfo
		if code >= 500 {
			level = slog.LevelError
		}
		if log.Enabled(ctx, level) {
			log.LogAttrs(ctx, level, "request", slog.String("request_id", id),
				slog.String("method", string(ctx.Method())), slog.String("path", string(ctx.Path())),
				slog.Int("status", code), slog.Int("bytes", len(ctx.Response.Body())),
				slog.Duration("duration", d), slog.String("cache", string(ctx.Response.Header.Peek("X-Cache"))))
		}
	}
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

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
