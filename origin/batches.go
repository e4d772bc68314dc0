package origin

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/valyala/fasthttp"
)

// Batch statuses.
const (
	BatchPending    = "pending"
	BatchProcessing = "processing"
	BatchComplete   = "complete"
	BatchFailed     = "failed"
)

// Batch is the state of one piece of background work (an async upload or
// the eager transformations of an asset).
type Batch struct {
	ID        string    `json:"batch_id"`
	Cloud     string    `json:"cloud"`
	Kind      string    `json:"kind"` // upload, eager
	PublicID  string    `json:"public_id,omitempty"`
	Status    string    `json:"status"`
	Total     int       `json:"total"`
	Done      int       `json:"done"`
	Results   []any     `json:"results"`
	Errors    []string  `json:"errors"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Notice    *notice   `json:"notice,omitempty"` // the notification it owes once finished
}

// BatchStore keeps batches in the "batches" bucket (30 days).
type BatchStore struct{ kv jetstream.KeyValue }

// NewBatchStore opens (or creates) the bucket.
func NewBatchStore(ctx context.Context, js jetstream.JetStream) (*BatchStore, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: "batches", Storage: jetstream.FileStorage, History: 1, TTL: 30 * 24 * time.Hour,
	})
	if err != nil {
		return nil, err
	}
	return &BatchStore{kv: kv}, nil
}

// newBatch returns a pending batch with a fresh id.
func newBatch(cloud, kind, publicID string, total int) *Batch {
	now := time.Now().UTC()
	return &Batch{ID: randomHex(32), Cloud: cloud, Kind: kind, PublicID: publicID, Status: BatchPending,
		Total: total, Results: []any{}, Errors: []string{}, CreatedAt: now, UpdatedAt: now}
}

// Put stores a batch.
func (s *BatchStore) Put(ctx context.Context, b *Batch) error {
	b.UpdatedAt = time.Now().UTC()
	v, err := json.Marshal(b)
	if err != nil {
		return err
	}
	_, err = s.kv.Put(ctx, b.Cloud+"."+b.ID, v)
	return err
}

// Get loads a batch; ok is false when it does not exist.
func (s *BatchStore) Get(ctx context.Context, cloud, id string) (*Batch, bool, error) {
	if !uploadIDRe.MatchString(id) {
		return nil, false, nil
	}
	e, err := s.kv.Get(ctx, cloud+"."+id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var b Batch
	if err := json.Unmarshal(e.Value(), &b); err != nil {
		return nil, false, err
	}
	return &b, true, nil
}

// List returns a cloud's batches, newest first, filtered by status and
// kind when they are not empty: failed ones are the dead letters.
func (s *BatchStore) List(ctx context.Context, cloud, status, kind string, limit int) ([]*Batch, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, cloud+".*")
	if err != nil {
		return nil, err
	}
	var out []*Batch
	for k := range lister.Keys() {
		b, ok, err := s.Get(ctx, cloud, strings.TrimPrefix(k, cloud+"."))
		if err != nil || !ok || (status != "" && b.Status != status) || (kind != "" && b.Kind != kind) {
			continue
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b *Batch) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out[:min(len(out), limit)], nil
}

func batchView(b *Batch) map[string]any {
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
		apiError(ctx, 500, err.Error())
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
		apiError(ctx, 500, err.Error())
		return
	}
	if !ok {
		apiError(ctx, 404, "Batch not found - "+id)
		return
	}
	writeJSON(ctx, batchView(b))
}
