package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/edgepix/edgepix/internal/replicated"
	"github.com/nats-io/nats.go/jetstream"
)

// Batch statuses.
const (
	BatchPending    = "pending"
	BatchProcessing = "processing"
	BatchComplete   = "complete"
	BatchFailed     = "failed"
)

// Batch is the state of one piece of background work (an async upload, the
// eager transformations of an asset, a sprite...): the record of work
// owed until it is complete or failed.
type Batch struct {
	ID        string    `json:"batch_id"`
	Cloud     string    `json:"cloud"`
	Kind      string    `json:"kind"` // upload, eager, sprite, multi, explode, explicit
	PublicID  string    `json:"public_id,omitempty"`
	Status    string    `json:"status"`
	Total     int       `json:"total"`
	Done      int       `json:"done"`
	Results   []any     `json:"results"`
	Errors    []string  `json:"errors"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Notice    *Notice   `json:"notice,omitempty"` // the notification it owes once finished
	// Job is the queued job, kept so that a batch whose job was lost can
	// be queued again; Requeues counts how often that happened.
	Job      json.RawMessage `json:"job,omitempty"`
	Requeues int             `json:"requeues,omitempty"`

	rev uint64 // revision read, for Requeue
}

// Finished reports whether the batch is complete or failed.
func (b *Batch) Finished() bool { return b.Status == BatchComplete || b.Status == BatchFailed }

// Notice is a notification a batch owes. It is stored with the finished
// batch before it is queued (an outbox), so a crash in between only means
// queuing it again when the job comes back.
type Notice struct {
	URL     string         `json:"url"`
	Type    string         `json:"type"`
	ID      string         `json:"id"`
	Payload map[string]any `json:"payload"`
}

// BatchStore keeps batches in the "batches" bucket (30 days) under
// cloud.id, and an index of the unfinished ones under open.cloud.id.
type BatchStore struct{ kv *replicated.Bucket }

// NewBatchStore opens (or creates) the bucket.
func NewBatchStore(ctx context.Context, js jetstream.JetStream, o Options) (*BatchStore, error) {
	kv, err := bucket(ctx, js, o, "batches", 30*24*time.Hour)
	if err != nil {
		return nil, err
	}
	return &BatchStore{kv: kv}, nil
}

func batchKey(cloud, id string) string { return cloud + "." + id }
func openKey(cloud, id string) string  { return "open." + cloud + "." + id }

// Create stores a new batch and lists it as unfinished.
func (s *BatchStore) Create(ctx context.Context, b *Batch) error {
	if !b.Finished() {
		if _, err := s.kv.Put(ctx, openKey(b.Cloud, b.ID), nil); err != nil {
			return fault(err)
		}
	}
	return s.Put(ctx, b)
}

// Put stores a batch; a finished one leaves the unfinished list.
func (s *BatchStore) Put(ctx context.Context, b *Batch) error {
	b.UpdatedAt = time.Now().UTC()
	v, err := json.Marshal(b)
	if err != nil {
		return err
	}
	rev, err := s.kv.Put(ctx, batchKey(b.Cloud, b.ID), v)
	if err != nil {
		return fault(err)
	}
	b.rev = rev
	if b.Finished() {
		s.kv.Delete(ctx, openKey(b.Cloud, b.ID)) // else the sweeper's Unfinished drops it
	}
	return nil
}

// Delete removes a batch (one that was never acknowledged).
func (s *BatchStore) Delete(ctx context.Context, cloud, id string) error {
	if err := s.kv.Delete(ctx, batchKey(cloud, id)); err != nil {
		return fault(err)
	}
	return fault(s.kv.Delete(ctx, openKey(cloud, id)))
}

// Get loads a batch; ok is false when it does not exist.
func (s *BatchStore) Get(ctx context.Context, cloud, id string) (*Batch, bool, error) {
	if !ValidID(id) {
		return nil, false, nil
	}
	e, err := s.kv.Get(ctx, batchKey(cloud, id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fault(err)
	}
	var b Batch
	if err := json.Unmarshal(e.Value(), &b); err != nil {
		return nil, false, err
	}
	b.rev = e.Revision()
	return &b, true, nil
}

// List returns a cloud's batches, newest first, filtered by status and
// kind when they are not empty: failed ones are the dead letters.
func (s *BatchStore) List(ctx context.Context, cloud, status, kind string, limit int) ([]*Batch, error) {
	keys, err := s.kv.KeysMatching(ctx, cloud+".*")
	if err != nil {
		return nil, fault(err)
	}
	var out []*Batch
	for _, k := range keys {
		b, ok, err := s.Get(ctx, cloud, strings.TrimPrefix(k, cloud+"."))
		if err != nil || !ok || (status != "" && b.Status != status) || (kind != "" && b.Kind != kind) {
			continue
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b *Batch) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out[:min(len(out), limit)], nil
}

// Unfinished returns every batch still pending or processing, of every
// cloud, oldest first. Index entries of batches that finished or expired
// are dropped on the way.
func (s *BatchStore) Unfinished(ctx context.Context) ([]*Batch, error) {
	keys, err := s.kv.KeysMatching(ctx, "open.*.*")
	if err != nil {
		return nil, fault(err)
	}
	var out []*Batch
	for _, k := range keys {
		// A dropped entry is listed too (its delete marker): dropped
		// once, it is skipped, not deleted again on every sweep.
		if _, err := s.kv.Get(ctx, k); errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			continue
		} else if err != nil {
			return nil, fault(err)
		}
		parts := strings.Split(k, ".")
		b, ok, err := s.Get(ctx, parts[1], parts[2])
		if err != nil {
			return nil, err
		}
		if !ok || b.Finished() {
			s.kv.Delete(ctx, k)
			continue
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b *Batch) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// ErrChanged is returned by Requeue when the batch changed since it was
// read (another origin queued it again, or its job moved it on).
var ErrChanged = errors.New("batch changed since it was read")

// Requeue counts one more requeue of b, provided the stored batch is still
// the one b was read as: of several origins finding the same stuck batch,
// one wins.
func (s *BatchStore) Requeue(ctx context.Context, b *Batch) error {
	n := *b
	n.Requeues++
	n.UpdatedAt = time.Now().UTC()
	v, err := json.Marshal(&n)
	if err != nil {
		return err
	}
	rev, err := s.kv.Update(ctx, batchKey(b.Cloud, b.ID), v, b.rev)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return ErrChanged
	}
	if err != nil {
		return fault(err)
	}
	b.Requeues, b.UpdatedAt, b.rev = n.Requeues, n.UpdatedAt, rev
	return nil
}
