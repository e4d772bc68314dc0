package origin

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/url"
	"time"

	"github.com/edgepix/edgepix/sdk/signature"
	"github.com/valyala/fasthttp"
)

// form is a request's parameters plus an uploaded file part, if any.
type form struct {
	params   url.Values
	file     []byte
	filename string
	hasFile  bool
	unsigned bool   // an unsigned upload through an unsigned preset
	pending  *spool // the file parameter, streamed but not loaded yet
}

// formLimits bound what parsing a body reads and keeps.
type formLimits struct {
	body   int64  // the whole body
	fields int64  // every parameter but file: names and values together
	file   int64  // the file parameter (a file part, a URL or a data URI)
	dir    string // where the file parameter spills to disk; "" keeps it in memory
}

// smallForm bounds the parameters of every request but an upload.
var smallForm = formLimits{body: maxSmallBody, fields: maxSmallBody, file: maxSmallBody}

// maxParts bounds the parts of a multipart body.
const maxParts = 10_000

// formKey keeps a request's parsed form in its user values.
type formKey struct{}

// readForm returns the request's parameters: the query string plus a
// multipart, url-encoded or (with no Content-Type at all) url-encoded
// body. The body is parsed once per request; if handleUpload has not
// parsed it already, with the small limits.
func readForm(ctx *fasthttp.RequestCtx) (*form, error) {
	return parseForm(ctx, smallForm)
}

// parseForm reads the body as a stream, as it arrives: a file parameter
// beyond spoolMemory goes to a temporary file (see load), every other
// parameter counts against lim.fields. The form is kept for the rest of
// the request and closed (its file removed) when the request ends, if
// close was not called before.
func parseForm(ctx *fasthttp.RequestCtx, lim formLimits) (*form, error) {
	if f, ok := ctx.UserValue(formKey{}).(*form); ok {
		return f, nil
	}
	f := &form{params: url.Values{}}
	for k, v := range ctx.QueryArgs().All() {
		f.params.Add(string(k), string(v))
	}
	if ce := string(ctx.Request.Header.ContentEncoding()); ce != "" && ce != "identity" {
		return nil, &limitError{415, "Unsupported Content-Encoding " + ce}
	}
	var body io.Reader
	if ctx.Request.IsBodyStream() {
		body = ctx.RequestBodyStream()
	} else {
		body = bytes.NewReader(ctx.Request.Body())
	}
	lb := &limitedBody{r: body, max: lim.body}
	mt, mp, _ := mime.ParseMediaType(string(ctx.Request.Header.ContentType()))
	var err error
	if mt == "multipart/form-data" {
		err = f.readMultipart(lb, mp["boundary"], lim)
	} else {
		err = f.readURLEncoded(lb, lim)
	}
	// Read what is left (a multipart epilogue, or the rest of a body
	// refused midway, within lim.body): the client then gets its answer
	// on a connection that stays usable, rather than a reset.
	if _, derr := io.Copy(io.Discard, lb); derr == nil {
		ctx.SetUserValue(bodyReadKey{}, true)
	}
	if err != nil {
		f.close()
		return nil, err
	}
	ctx.SetUserValue(formKey{}, f)
	return f, nil
}

// bodyReadKey marks a request whose streamed body was read to its end.
type bodyReadKey struct{}

// limitedBody reads at most max bytes, then fails with a 413.
type limitedBody struct {
	r         io.Reader
	read, max int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.read > l.max {
		return 0, tooLarge("Request body", l.max)
	}
	if int64(len(p)) > l.max-l.read+1 {
		p = p[:l.max-l.read+1]
	}
	n, err := l.r.Read(p)
	if l.read += int64(n); l.read > l.max {
		return n, tooLarge("Request body", l.max)
	}
	return n, err
}

// load reads a spooled file parameter into memory (once the request is
// authenticated) and removes its temporary file.
func (f *form) load() error {
	if f.pending == nil {
		return nil
	}
	b, err := f.pending.Bytes()
	f.pending.Close()
	f.pending = nil
	if err != nil {
		return err
	}
	if f.hasFile {
		f.file = b
	} else {
		f.params.Set("file", string(b))
	}
	return nil
}

// close removes a file parameter left spooled.
func (f *form) close() {
	if f.pending != nil {
		f.pending.Close()
		f.pending = nil
	}
}

// Close lets fasthttp remove what is left when the request ends.
func (f *form) Close() error {
	f.close()
	return nil
}

// bodyError answers a body that could not be read: a limit's own status
// and message, else 400.
func bodyError(ctx *fasthttp.RequestCtx, err error) {
	if le, ok := err.(*limitError); ok {
		apiError(ctx, le.Status, le.Msg)
		return
	}
	apiError(ctx, 400, "Invalid request body: "+err.Error())
}

// signedForm reads the request's parameters and verifies its signature,
// writing the error response itself when either fails.
func signedForm(ctx *fasthttp.RequestCtx, acct Account) (*form, bool) {
	f, err := readForm(ctx)
	if err != nil {
		bodyError(ctx, err)
		return nil, false
	}
	if err := VerifyRequest(acct, f.params, time.Now()); err != nil {
		var ae *AuthError
		errors.As(err, &ae)
		apiError(ctx, ae.Status, ae.Msg)
		return nil, false
	}
	return f, true
}

// required returns a parameter that must be present, answering 400 itself
// when it is missing.
func (f *form) required(ctx *fasthttp.RequestCtx, name string) (string, bool) {
	v := f.get(name)
	if v == "" {
		apiError(ctx, 400, "Missing required parameter - "+name)
	}
	return v, v != ""
}

// get returns the first value of a parameter.
func (f *form) get(k string) string { return f.params.Get(k) }

// list returns an array parameter sent as name, name[] or name[N], with
// comma-separated values split.
func (f *form) list(name string) []string {
	var out []string
	for _, k := range signature.ArrayOrder(f.params) {
		vs := f.params[k]
		if k != name {
			if m := signature.ArrayKey.FindStringSubmatch(k); m == nil || m[1] != name {
				continue
			}
		}
		for _, v := range vs {
			for _, p := range bytes.Split([]byte(v), []byte(",")) {
				if s := string(bytes.TrimSpace(p)); s != "" {
					out = append(out, s)
				}
			}
		}
	}
	return out
}
