package origin

import (
	"strconv"
	"time"

	"github.com/edgepix/edgepix/catalog"
	"github.com/valyala/fasthttp"
)

// newBatch returns a pending batch with a fresh id.
func newBatch(cloud, kind, publicID string, total int) *catalog.Batch {
	now := time.Now().UTC()
	return &catalog.Batch{ID: randomHex(32), Cloud: cloud, Kind: kind, PublicID: publicID, Status: catalog.BatchPending,
		Total: total, Results: []any{}, Errors: []string{}, CreatedAt: now, UpdatedAt: now}
}

func batchView(b *catalog.Batch) map[string]any {
	return map[string]any{"batch_id": b.ID, "kind": b.Kind, "public_id": b.PublicID, "status": b.Status,
		"progress": map[string]int{"done": b.Done, "total": b.Total}, "results": b.Results, "errors": b.Errors,
		"created_at": b.CreatedAt.Format(time.RFC3339), "updated_at": b.UpdatedAt.Format(time.RFC3339)}
}

// handleBatches serves GET /v1_1/{cloud}/batches[?status=&kind=&max_results=]
// (HTTP Basic).
func (s *Server) handleBatches(ctx *fasthttp.RequestCtx, acct Account) {
	if !basicAuth(ctx, acct) {
		apiError(ctx, 401, "Invalid credentials")
		return
	}
	args := ctx.QueryArgs()
	limit := 100
	if v := string(args.Peek("max_results")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			apiError(ctx, 400, "max_results must be between 1 and 500")
			return
		}
		limit = n
	}
	list, err := s.batches.List(ctx, acct.Cloud, string(args.Peek("status")), string(args.Peek("kind")), limit)
	if err != nil {
		failure(ctx, err, 500)
		return
	}
	out := make([]map[string]any, 0, len(list))
	for _, b := range list {
		out = append(out, batchView(b))
	}
	writeJSON(ctx, map[string]any{"batches": out})
}

// handleBatch serves GET /v1_1/{cloud}/batches/{id} (HTTP Basic).
func (s *Server) handleBatch(ctx *fasthttp.RequestCtx, acct Account, id string) {
	if !basicAuth(ctx, acct) {
		apiError(ctx, 401, "Invalid credentials")
		return
	}
	b, ok, err := s.batches.Get(ctx, acct.Cloud, id)
	if err != nil {
		failure(ctx, err, 500)
		return
	}
	if !ok {
		apiError(ctx, 404, "Batch not found - "+id)
		return
	}
	writeJSON(ctx, batchView(b))
}
