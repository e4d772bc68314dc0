package origin

import (
	"bytes"
	"errors"
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
	unsigned bool // an unsigned upload through an unsigned preset
}

// readForm parses multipart, url-encoded, or (with no Content-Type at all)
// url-encoded bodies, plus the query string.
func readForm(ctx *fasthttp.RequestCtx) (*form, error) {
	f := &form{params: url.Values{}}
	for k, v := range ctx.QueryArgs().All() {
		f.params.Add(string(k), string(v))
	}
	ct := string(ctx.Request.Header.ContentType())
	mt, _, _ := mime.ParseMediaType(ct)
	switch mt {
	case "multipart/form-data":
		mf, err := ctx.MultipartForm()
		if err != nil {
			return nil, err
		}
		for k, vs := range mf.Value {
			for _, v := range vs {
				f.params.Add(k, v)
			}
		}
		if fhs := mf.File["file"]; len(fhs) > 0 {
			fh := fhs[0]
			r, err := fh.Open()
			if err != nil {
				return nil, err
			}
			var buf bytes.Buffer
			_, err = buf.ReadFrom(r)
			r.Close()
			if err != nil {
				return nil, err
			}
			f.file, f.filename, f.hasFile = buf.Bytes(), fh.Filename, true
		}
	default:
		vals, err := url.ParseQuery(string(ctx.PostBody()))
		if err != nil {
			return nil, err
		}
		for k, vs := range vals {
			f.params[k] = append(f.params[k], vs...)
		}
	}
	return f, nil
}

// signedForm reads the request's parameters and verifies its signature,
// writing the error response itself when either fails.
func signedForm(ctx *fasthttp.RequestCtx, acct Account) (*form, bool) {
	f, err := readForm(ctx)
	if err != nil {
		apiError(ctx, 400, "Invalid request body: "+err.Error())
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
