package origin

import (
	"errors"

	"github.com/edgepix/edgepix/notify"
	"github.com/valyala/fasthttp"
)

// handleDeliveries serves the delivery log (HTTP Basic):
// GET webhooks/deliveries[?batch_id=&status=] and
// POST webhooks/deliveries/{id}/redeliver.
func (s *Server) handleDeliveries(ctx *fasthttp.RequestCtx, acct Account, rest []string) {
	if !basicAuth(ctx, acct) {
		apiError(ctx, 401, "Invalid credentials")
		return
	}
	switch {
	case len(rest) == 0 && ctx.IsGet():
		args := ctx.QueryArgs()
		status := string(args.Peek("status"))
		if status != "" && status != notify.Pending && status != notify.Delivered && status != notify.Failed {
			apiError(ctx, 400, "status must be pending, delivered or failed")
			return
		}
		list, err := s.notifier.List(ctx, acct.Cloud, string(args.Peek("batch_id")), status)
		if err != nil {
			failure(ctx, err, 500)
			return
		}
		writeJSON(ctx, map[string]any{"deliveries": list})
	case len(rest) == 2 && rest[1] == "redeliver" && ctx.IsPost():
		d, err := s.notifier.Redeliver(ctx, acct.Cloud, rest[0])
		if errors.Is(err, notify.ErrNotFound) {
			apiError(ctx, 404, "Delivery not found - "+rest[0])
			return
		}
		if err != nil {
			failure(ctx, err, 500)
			return
		}
		writeJSON(ctx, d)
	default:
		apiError(ctx, 404, "Not found")
	}
}
