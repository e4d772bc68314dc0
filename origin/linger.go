package origin

import (
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// How long, and how much, a connection answered before its body was read
// keeps reading (and discarding) what the client still sends.
const (
	lingerTime  = time.Second
	lingerBytes = 8 << 20
)

// closeUnread ends a request whose body is left unread: the answer already
// set on ctx says Connection: close and is written, then the connection
// reads and discards what the client is still sending, for at most
// lingerTime and lingerBytes, before it closes. Closed at once, the unread
// bytes would make the kernel reset the connection and a client still
// writing its body would see the reset, not the answer (the SDKs report
// "connection reset" instead of the 413). What it costs is bounded: a
// goroutine and a read buffer for a second.
func closeUnread(ctx *fasthttp.RequestCtx) {
	ctx.SetConnectionClose()
	ctx.HijackSetNoResponse(true) // written by the hijack handler below
	ctx.Hijack(func(c net.Conn) {
		c.SetDeadline(time.Now().Add(lingerTime))
		if _, err := ctx.Response.WriteTo(c); err != nil {
			return
		}
		io.CopyN(io.Discard, c, lingerBytes)
	})
}
