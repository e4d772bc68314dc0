package origin

import (
	"encoding/json"

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
