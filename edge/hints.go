package edge

import (
	"strconv"
	"strings"

	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/valyala/fasthttp"
)

// hintHeaders are the client hints dpr_auto and w_auto read, newest names
// first; the response's Accept-CH asks browsers for them.
const acceptCH = "Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width, DPR, Width, Viewport-Width"

// clientHints resolves dpr_auto and w_auto from the request's client hints
// (docs/transform.md): the returned path carries the values, so the cache
// key and the path sent to the origin say what is rendered. A signed URL,
// already authorised, is signed again with secret. The response asks for
// the hints (Accept-CH) and varies on those the URL uses.
func clientHints(ctx *fasthttp.RequestCtx, p *grammar.Path, secret string) (*grammar.Path, error) {
	dpr, width := p.Chain.UsesHints()
	if !dpr && !width {
		return p, nil
	}
	h := &ctx.Response.Header
	h.Set("Accept-CH", acceptCH)
	var vary []string
	if dpr {
		vary = append(vary, "Sec-CH-DPR", "DPR")
	}
	if width {
		vary = append(vary, "Sec-CH-Width", "Width", "Sec-CH-Viewport-Width", "Viewport-Width")
	}
	if v := string(h.Peek("Vary")); v != "" {
		vary = append([]string{v}, vary...)
	}
	h.Set("Vary", strings.Join(vary, ", "))
	req := &ctx.Request.Header
	r, err := p.WithHints(grammar.Hints{
		DPR:           hintFloat(req, "Sec-CH-DPR", "DPR"),
		Width:         int(hintFloat(req, "Sec-CH-Width", "Width")),
		ViewportWidth: int(hintFloat(req, "Sec-CH-Viewport-Width", "Viewport-Width")),
	})
	if err != nil {
		return nil, err
	}
	if p.Signature != "" {
		r = r.Signed(secret)
	}
	return r, nil
}

// hintFloat reads the first of the named headers that holds a positive
// number (rounded up for widths by the caller's int conversion of a
// ceiling), or 0.
func hintFloat(h *fasthttp.RequestHeader, names ...string) float64 {
	for _, n := range names {
		v := strings.TrimSpace(string(h.Peek(n)))
		if v == "" {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err == nil && f > 0 && f < 1e5 {
			return f
		}
	}
	return 0
}

// hasFlag reports whether a component of ch sets fl_<name>.
func hasFlag(ch grammar.Chain, name string) bool {
	_, ok := ch.Flag(name)
	return ok
}
