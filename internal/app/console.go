package app

import (
	"log/slog"

	"github.com/edgepix/edgepix/console"
	"github.com/edgepix/edgepix/internal/httpx"
	"github.com/edgepix/edgepix/origin"
	"github.com/valyala/fasthttp"
)

// withConsole adds the web console at /console to the origin's routes
// (never the edge's). The console's API calls go to the origin's own
// handler, in-process, through the same request wrapper as any client's.
func (a *App) withConsole(o *origin.Server, cfg Config, log *slog.Logger) (fasthttp.RequestHandler, error) {
	c, err := console.New(console.Config{Accounts: a.Accounts, API: httpx.Wrap("origin", o.Handler, a.Metrics, log),
		DeliveryBase: cfg.PublicURL, Password: cfg.ConsolePassword, Log: log.With("component", "console")})
	if err != nil {
		return nil, err
	}
	a.ConsoleURL = a.OriginURL + console.Prefix + "/"
	return func(ctx *fasthttp.RequestCtx) {
		if console.Owns(string(ctx.Path())) {
			c.Handler(ctx)
			return
		}
		o.Handler(ctx)
	}, nil
}
