package origin

import (
	"encoding/json"
	"errors"

	"github.com/edgepix/edgepix/catalog"
	"github.com/valyala/fasthttp"
)

// apiError writes Cloudinary's error shape {"error":{"message":...}}.
func apiError(ctx *fasthttp.RequestCtx, status int, msg string) {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"message": msg}})
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

// writeJSON writes v as a 200 JSON response.
func writeJSON(ctx *fasthttp.RequestCtx, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		apiError(ctx, 500, "internal error: "+err.Error())
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

// unavailable reports whether err comes from a store or queue that did
// not answer.
func unavailable(err error) bool { return errors.Is(err, catalog.ErrUnavailable) }

// retryAfter is the Retry-After of an answer to a store fault, in seconds.
const retryAfter = "5"

// failure answers err: 503 with Retry-After when a store or queue did not
// answer, the status of a limitError or statusError, else def.
func failure(ctx *fasthttp.RequestCtx, err error, def int) {
	var se *statusError
	switch {
	case unavailable(err):
		ctx.Response.Header.Set("Retry-After", retryAfter)
		apiError(ctx, 503, err.Error())
	case errors.As(err, &se):
		failure(ctx, se.err, se.status)
	default:
		le, ok := err.(*limitError)
		if !ok {
			le = &limitError{def, err.Error()}
		}
		refuse(ctx, le)
	}
}
