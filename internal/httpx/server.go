package httpx

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// Limits bound what clients may hold of one server: connections, in total
// and per client address, and the time they take. A zero field leaves that
// bound off.
type Limits struct {
	// MaxConns bounds open connections; one more is answered 503 and
	// closed at once, so it holds no descriptor.
	MaxConns int
	// MaxConnsPerIP bounds one client address's connections; one more is
	// answered 429 and closed at once.
	MaxConnsPerIP int
	// HeaderTimeout is the time from a connection's opening (or a kept-alive
	// request's first byte) to the end of the request header: slow headers
	// (slowloris) are cut there.
	HeaderTimeout time.Duration
	// IdleTimeout is how long a kept-alive connection may wait for its next
	// request.
	IdleTimeout time.Duration
	// WriteTimeout is the time allowed to write one response.
	WriteTimeout time.Duration
	// MinBodyRate (bytes/s) sets a request body's deadline: HeaderTimeout +
	// length / MinBodyRate after the header (MaxBody for a chunked body), so
	// a slow but steady upload passes and a trickle is cut.
	MinBodyRate int64
	// MaxBody is the largest request body (0: fasthttp's 4 MiB).
	MaxBody int
}

// DefaultLimits are the bounds edgepix runs with unless told otherwise.
var DefaultLimits = Limits{MaxConns: 8192, MaxConnsPerIP: 256, HeaderTimeout: 10 * time.Second,
	IdleTimeout: time.Minute, WriteTimeout: 5 * time.Minute, MinBodyRate: 16 << 10}

// NewServer returns a fasthttp server of h under l. Its errors (including
// connections refused at a cap) go to log.
func NewServer(name string, h fasthttp.RequestHandler, l Limits, log *slog.Logger) *fasthttp.Server {
	return &fasthttp.Server{Handler: h, Name: name, Concurrency: l.MaxConns, MaxConnsPerIP: l.MaxConnsPerIP,
		ReadTimeout: l.HeaderTimeout, IdleTimeout: l.IdleTimeout, WriteTimeout: l.WriteTimeout,
		MaxRequestBodySize: l.MaxBody, HeaderReceived: l.bodyDeadline, ErrorHandler: parseError,
		CloseOnShutdown: true, Logger: logger{log}}
}

// bodyDeadline gives the request body its own read deadline.
func (l Limits) bodyDeadline(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	n := int64(h.ContentLength())
	if n == 0 || l.MinBodyRate <= 0 {
		return fasthttp.RequestConfig{} // nothing more to read: the header deadline stands
	}
	maxBody := int64(l.MaxBody)
	if maxBody <= 0 {
		maxBody = fasthttp.DefaultMaxRequestBodySize
	}
	if n < 0 || n > maxBody { // chunked, or refused once read that far
		n = maxBody
	}
	d := l.HeaderTimeout + time.Duration(float64(n)/float64(l.MinBodyRate)*float64(time.Second))
	return fasthttp.RequestConfig{ReadTimeout: d}
}

// parseError answers a request fasthttp could not read, as its default
// handler does, with nosniff.
func parseError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.As(err, &small):
		ctx.Error("Too big request header", fasthttp.StatusRequestHeaderFieldsTooLarge)
	case errors.As(err, &ne) && ne.Timeout():
		ctx.Error("Request timeout", fasthttp.StatusRequestTimeout)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		ctx.Error("Request body too large", fasthttp.StatusRequestEntityTooLarge)
	default:
		ctx.Error("Error when parsing request", fasthttp.StatusBadRequest)
	}
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
}

// logger sends fasthttp's messages (connection caps reached, accept
// errors) to the structured log.
type logger struct{ log *slog.Logger }

func (l logger) Printf(format string, args ...any) { l.log.Warn(fmt.Sprintf(format, args...)) }
