package console

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"

	"github.com/valyala/fasthttp"
)

// inproc is an http.RoundTripper that hands each request to the origin's
// own fasthttp handler in this process: the console's API calls take the
// same code path as any client's, without a network hop.
type inproc struct{ h fasthttp.RequestHandler }

// clientAddrKey carries the browser's address to the API call it causes,
// so per-client bounds apply to that client.
type clientAddrKey struct{}

func withClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

func (t inproc) RoundTrip(r *http.Request) (*http.Response, error) {
	var req fasthttp.Request
	req.Header.SetMethod(r.Method)
	req.SetRequestURI(r.URL.RequestURI())
	req.Header.SetHost(r.URL.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		req.SetBody(b)
	}
	remote := &net.TCPAddr{IP: net.IPv6loopback}
	if a, ok := r.Context().Value(clientAddrKey{}).(string); ok {
		if ap, err := net.ResolveTCPAddr("tcp", a); err == nil {
			remote = ap
		}
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, remote, nil)
	t.h(&ctx)
	resp := &http.Response{StatusCode: ctx.Response.StatusCode(), Status: http.StatusText(ctx.Response.StatusCode()),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, Request: r,
		Body: io.NopCloser(bytes.NewReader(bytes.Clone(ctx.Response.Body())))}
	for k, v := range ctx.Response.Header.All() {
		resp.Header.Add(string(k), string(v))
	}
	return resp, nil
}
