// Package httpx wraps the fasthttp handlers of both servers with what
// every request gets: a request id, a structured log line, Prometheus
// counters, /metrics, and recovery from panics.
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

// Wrap returns h with request ids, logging, metrics and panic recovery,
// serving GET /metrics itself.
func Wrap(server string, h fasthttp.RequestHandler, m *metrics.Metrics, log *slog.Logger) fasthttp.RequestHandler {
	prom := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	lat := m.Latency.WithLabelValues(server)
	return func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/metrics" {
			prom(ctx)
			return
		}
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

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
