package origin

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// UploadLimits bound the uploads the origin handles at once and the
// chunked uploads it keeps open.
type UploadLimits struct {
	MaxUploads            int           // upload requests handled at once (default 8)
	MaxUploadsPerAccount  int           // of which for one account (default 4)
	UploadWait            time.Duration // how long an upload waits for its turn before 503/429 (default 30 s)
	MaxOpenChunkedUploads int           // unfinished chunked uploads per account (default 16)
}

func (l UploadLimits) withDefaults() UploadLimits {
	if l.MaxUploads <= 0 {
		l.MaxUploads = 8
	}
	if l.MaxUploadsPerAccount <= 0 {
		l.MaxUploadsPerAccount = max(l.MaxUploads/2, 1)
	}
	if l.UploadWait <= 0 {
		l.UploadWait = 30 * time.Second
	}
	if l.MaxOpenChunkedUploads <= 0 {
		l.MaxOpenChunkedUploads = 16
	}
	return l
}

// maxSmallBody bounds every request body but an upload's: Admin API JSON,
// the other Upload API methods' parameters.
const maxSmallBody = 2 << 20

// limitError is a refusal with the HTTP status it answers.
type limitError struct {
	Status int
	Msg    string
}

func (e *limitError) Error() string { return e.Msg }

// tooLarge is the 413 for a body over limit bytes.
func tooLarge(what string, limit int64) *limitError {
	return &limitError{413, fmt.Sprintf("%s too large. Maximum is %d bytes", what, limit)}
}

// statusOf is the status an error answers: its own for a limitError,
// otherwise def.
func statusOf(err error, def int) int {
	if le, ok := err.(*limitError); ok {
		return le.Status
	}
	return def
}

// ConfigureHTTP sets the options the origin's fasthttp server needs:
// request bodies are streamed to the handler, not buffered before it runs.
// An upload's body is parsed as it arrives, its file spooled to SpoolDir;
// every other body is read into memory up to maxSmallBody by the wrapper
// installed around srv.Handler (so PostBody stays safe to call). A
// response to a body left unread says Connection: close (closeUnread). Spool files a
// previous run left in SpoolDir are removed.
func (s *Server) ConfigureHTTP(srv *fasthttp.Server) {
	srv.StreamRequestBody = true
	srv.DisablePreParseMultipartForm = true
	srv.MaxRequestBodySize = s.MaxRequestBody()
	if s.cfg.SpoolDir != "" { // files a previous run left (a crash mid-upload)
		old, _ := filepath.Glob(filepath.Join(s.cfg.SpoolDir, spoolPattern))
		for _, p := range old {
			os.Remove(p)
		}
	}
	next := srv.Handler
	srv.Handler = func(ctx *fasthttp.RequestCtx) {
		if !s.bufferBody(ctx) {
			return
		}
		next(ctx)
		if read, _ := ctx.UserValue(bodyReadKey{}).(bool); ctx.Request.IsBodyStream() && !read {
			// Answered without reading the whole body (refused first, or
			// over the limit): say the connection closes, or a client would
			// send its next request on a connection the server then drops.
			closeUnread(ctx)
		}
	}
}

// bufferBody refuses a body declared larger than an upload may be, and
// reads any other request's streamed body into memory, up to maxSmallBody.
// It answers the request itself (413) and returns false when it is over.
func (s *Server) bufferBody(ctx *fasthttp.RequestCtx) bool {
	upload := isUploadPath(string(ctx.Path()))
	limit := int64(maxSmallBody)
	if upload {
		limit = int64(s.MaxRequestBody())
	}
	if cl := ctx.Request.Header.ContentLength(); cl > 0 && int64(cl) > limit {
		apiError(ctx, 413, tooLarge("Request body", limit).Msg)
		closeUnread(ctx)
		return false
	}
	if upload || !ctx.Request.IsBodyStream() {
		return true
	}
	body, err := io.ReadAll(io.LimitReader(ctx.RequestBodyStream(), limit+1))
	switch {
	case err != nil:
		apiError(ctx, 400, "Reading the request body: "+err.Error())
		closeUnread(ctx)
		return false
	case int64(len(body)) > limit:
		apiError(ctx, 413, tooLarge("Request body", limit).Msg)
		closeUnread(ctx)
		return false
	}
	ctx.Request.SetBody(body)
	return true
}

// isUploadPath reports whether p is /v1_1/{cloud}/{resource_type}/upload.
func isUploadPath(p string) bool {
	parts := strings.Split(strings.TrimPrefix(p, "/v1_1/"), "/")
	return strings.HasPrefix(p, "/v1_1/") && len(parts) == 3 && parts[2] == "upload"
}

// uploadGate admits uploads: at most MaxUploads at once across the origin
// and MaxUploadsPerAccount for one client of an account (the cloud and the
// client's address: the gate runs before authentication, so keying it on
// the cloud alone would let an anonymous flood naming a cloud hold that
// cloud's uploads). Others queue (in arrival order) for up to UploadWait,
// then are refused.
type uploadGate struct {
	lim     UploadLimits
	all     chan struct{}
	mu      sync.Mutex
	clients map[string]*clientTurns
}

// clientTurns are one client's upload turns; users counts those holding
// or waiting for one, so the entry goes when nobody does.
type clientTurns struct {
	turns chan struct{}
	users int
}

func newUploadGate(l UploadLimits) *uploadGate {
	return &uploadGate{lim: l, all: make(chan struct{}, l.MaxUploads), clients: map[string]*clientTurns{}}
}

// enter waits for a turn for an upload by client (cloud/address);
// release ends it.
func (g *uploadGate) enter(client string) (release func(), err *limitError) {
	g.mu.Lock()
	c, ok := g.clients[client]
	if !ok {
		c = &clientTurns{turns: make(chan struct{}, g.lim.MaxUploadsPerAccount)}
		g.clients[client] = c
	}
	c.users++
	g.mu.Unlock()
	leave := func() {
		g.mu.Lock()
		if c.users--; c.users == 0 {
			delete(g.clients, client)
		}
		g.mu.Unlock()
	}
	t := time.NewTimer(g.lim.UploadWait)
	defer t.Stop()
	select {
	case c.turns <- struct{}{}:
	case <-t.C:
		leave()
		return nil, &limitError{429, fmt.Sprintf("Too many concurrent uploads from this client (%d); retry later", g.lim.MaxUploadsPerAccount)}
	}
	select {
	case g.all <- struct{}{}:
	case <-t.C:
		<-c.turns
		leave()
		return nil, &limitError{503, fmt.Sprintf("Too many concurrent uploads (%d); retry later", g.lim.MaxUploads)}
	}
	return func() { <-g.all; <-c.turns; leave() }, nil
}

// refuse answers a limitError, with Retry-After when it is a busy signal.
func refuse(ctx *fasthttp.RequestCtx, le *limitError) {
	if le.Status == 429 || le.Status == 503 {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(5))
	}
	apiError(ctx, le.Status, le.Msg)
}

// uploadLimits bound an upload's body: the file up to MaxUploadBytes,
// spooled to SpoolDir beyond spoolMemory, the other parameters to
// maxSmallBody.
func (s *Server) uploadLimits() formLimits {
	dir := s.cfg.SpoolDir
	if dir == "" {
		dir = os.TempDir()
	}
	return formLimits{body: int64(s.MaxRequestBody()), fields: maxSmallBody, file: s.cfg.MaxUploadBytes, dir: dir}
}
