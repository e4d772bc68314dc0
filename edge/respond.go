package edge

import (
	"bytes"
	"mime"
	"strings"

	"github.com/valyala/fasthttp"
)

// Header names and values of every answer, made once.
var (
	hdrAllowOrigin  = []byte("Access-Control-Allow-Origin")
	hdrCache        = []byte("X-Cache")
	hdrETag         = []byte("Etag") // SetCanonical takes names in fasthttp's canonical case
	hdrLastModified = []byte("Last-Modified")
	hdrCacheControl = []byte("Cache-Control")
	hdrVary         = []byte("Vary")
	hdrAccept       = []byte("Accept")
	hdrIfNoneMatch  = []byte("If-None-Match")
	anyOrigin       = []byte("*")
	cacheHit        = []byte("HIT")
	cacheMiss       = []byte("MISS")
	ccTransient     = []byte("public, max-age=60") // a placeholder until the asset exists
	ccImmutable     = []byte("public, max-age=31536000, immutable")
	ccDefault       = []byte("public, max-age=3600")
)

// respond writes a cached entry with validators and caching headers. The
// body is sent from the entry itself, not copied.
func respond(ctx *fasthttp.RequestCtx, r *route, e *entry, hit bool) {
	h := &ctx.Response.Header
	h.SetCanonical(hdrAllowOrigin, anyOrigin) // images may be drawn on canvases of any site
	if hit {
		h.SetCanonical(hdrCache, cacheHit)
	} else {
		h.SetCanonical(hdrCache, cacheMiss)
	}
	h.SetCanonical(hdrETag, e.etagValue())
	h.SetCanonical(hdrLastModified, e.lastModified())
	switch {
	case e.transient:
		h.SetCanonical(hdrCacheControl, ccTransient)
	case r.immutable:
		h.SetCanonical(hdrCacheControl, ccImmutable)
	default:
		h.SetCanonical(hdrCacheControl, ccDefault)
	}
	if r.attachment {
		h.Set("Content-Disposition", r.disposition(string(e.contentType())))
	}
	h.SetContentTypeBytes(e.contentType())
	if inm := ctx.Request.Header.PeekBytes(hdrIfNoneMatch); len(inm) > 0 && etagMatch(inm, e.etagValue()) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	if ctx.IsHead() {
		h.SetContentLength(len(e.body()))
		ctx.Response.SkipBody = true
		return
	}
	ctx.Response.SetBodyRaw(e.body())
}

// disposition is the Content-Disposition of an attachment: the name
// fl_attachment gives, else the public id's, with the extension of the
// content type (else the URL's) when the name has none.
func (r *route) disposition(contentType string) string {
	name, ext := r.name, r.ext
	if name == "" {
		name = r.id
	}
	if sub, ok := strings.CutPrefix(contentType, "image/"); ok {
		ext = strings.Replace(sub, "jpeg", "jpg", 1)
	}
	if ext != "" && !strings.Contains(name, ".") {
		name += "." + ext
	}
	return mime.FormatMediaType("attachment", map[string]string{"filename": name})
}

// etagMatch reports whether an If-None-Match header names etag (or *).
func etagMatch(header, etag []byte) bool {
	for len(header) > 0 {
		var t []byte
		t, header, _ = bytes.Cut(header, []byte{','})
		t = bytes.TrimSpace(t)
		if string(t) == "*" || bytes.Equal(t, etag) || bytes.Equal(bytes.TrimPrefix(t, []byte("W/")), etag) {
			return true
		}
	}
	return false
}
