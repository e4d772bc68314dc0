package app

import (
	"net"

	"github.com/edgepix/edgepix/internal/httpx"
	"github.com/edgepix/edgepix/internal/netlimit"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// smallBody bounds request bodies where none is expected (edge, metrics).
const smallBody = 64 << 10

// server is one listener's HTTP server, named for the logs.
type server struct {
	name string
	srv  *fasthttp.Server
}

func (a *App) countAccepts() {
	a.accepts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgepix_accept_errors_total",
		Help: "Failed accepts waited out and retried (out of file descriptors...), by server.",
	}, []string{"server"})
	a.Metrics.Registry.MustRegister(a.accepts)
}

// listen opens a listener that rides out accept errors such as EMFILE
// (logged and counted) instead of stopping its server.
func (a *App) listen(name, addr string) (net.Listener, error) {
	raw, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	count := a.accepts.WithLabelValues(name)
	ln := netlimit.Wrap(raw, func(err error) {
		count.Inc()
		a.log.Warn("accepting a connection failed; retrying", "server", name, "err", err)
	})
	a.listeners = append(a.listeners, ln)
	return ln, nil
}

// serve runs h on ln under the configured limits; configure adjusts the
// server (the origin streams its request bodies).
func (a *App) serve(name string, ln net.Listener, h fasthttp.RequestHandler, maxBody int, configure ...func(*fasthttp.Server)) {
	l := *a.cfg.Limits
	l.MaxBody = maxBody
	srv := httpx.NewServer("edgepix-"+name, h, l, a.log.With("server", name))
	for _, c := range configure {
		c(srv)
	}
	a.servers = append(a.servers, server{name, srv})
	go func() { a.done <- srv.Serve(ln) }()
}

// serveMetrics serves /metrics, /healthz and /readyz (every server's
// checks; unready until Start is done) on their own listener.
func (a *App) serveMetrics(ln net.Listener) {
	health := func(ctx *fasthttp.RequestCtx) {
		switch string(ctx.Path()) {
		case "/healthz":
			ctx.SetBodyString("ok\n")
		case "/readyz": // not started yet
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"status":"unready","failing":["starting"],"checks":{"starting":"not started yet"}}` + "\n")
		default:
			ctx.Error("Not found", fasthttp.StatusNotFound)
		}
	}
	log := a.log.With("server", "metrics")
	h := httpx.Wrap("metrics", health, a.Metrics, log)
	ready := func(ctx *fasthttp.RequestCtx) {
		if c := a.allRdy.Load(); c != nil {
			c.Serve(h)(ctx)
			return
		}
		h(ctx)
	}
	a.serve("metrics", ln, httpx.WithMetrics(ready, a.Metrics), smallBody)
}
