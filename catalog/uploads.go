package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/edgepix/edgepix/internal/replicated"
	"github.com/nats-io/nats.go/jetstream"
)

// Assembly is the state of a chunked upload whose parts cover the file:
// claimed by the origin that assembles it, then done with the answer its
// last part got, which a retried or concurrent last part gets too.
type Assembly struct {
	Done   bool      `json:"done"`
	Status int       `json:"status,omitempty"` // the answer, once done
	Body   []byte    `json:"body,omitempty"`
	At     time.Time `json:"at"` // claimed, or done

	rev uint64
}

// UploadStore keeps the assemblies of chunked uploads in the "uploads"
// bucket, for a day.
type UploadStore struct{ kv *replicated.Bucket }

// NewUploadStore opens (or creates) the bucket.
func NewUploadStore(ctx context.Context, js jetstream.JetStream, o Options) (*UploadStore, error) {
	kv, err := bucket(ctx, js, o, "uploads", 24*time.Hour)
	if err != nil {
		return nil, err
	}
	return &UploadStore{kv: kv}, nil
}

func uploadKey(cloud, id string) string { return cloud + "." + id }

// Claim makes the caller the assembler of upload id, unless another
// holds it: then it returns that assembly (done, or claimed less than
// stale ago) and false. A claim older than stale was abandoned (its
// origin died) and is taken over.
func (s *UploadStore) Claim(ctx context.Context, cloud, id string, stale time.Duration) (*Assembly, bool, error) {
	if !ValidID(id) {
		return nil, false, errors.New("invalid upload id")
	}
	claim, err := json.Marshal(&Assembly{At: time.Now().UTC()})
	if err != nil {
		return nil, false, err
	}
	_, err = s.kv.Create(ctx, uploadKey(cloud, id), claim)
	if err == nil {
		return nil, true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, false, fault(err)
	}
	a, ok, err := s.Get(ctx, cloud, id)
	if err != nil || !ok { // gone meanwhile (released): let the caller try again
		return nil, false, err
	}
	if a.Done || time.Since(a.At) < stale {
		return a, false, nil
	}
	if _, err := s.kv.Update(ctx, uploadKey(cloud, id), claim, a.rev); errors.Is(err, jetstream.ErrKeyExists) {
		return a, false, nil // taken over by another
	} else if err != nil {
		return nil, false, fault(err)
	}
	return nil, true, nil
}

// Get loads an assembly; ok is false when there is none.
func (s *UploadStore) Get(ctx context.Context, cloud, id string) (*Assembly, bool, error) {
	e, err := s.kv.Get(ctx, uploadKey(cloud, id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fault(err)
	}
	var a Assembly
	if err := json.Unmarshal(e.Value(), &a); err != nil {
		return nil, false, err
	}
	a.rev = e.Revision()
	return &a, true, nil
}

// Finish records the answer of an assembled upload.
func (s *UploadStore) Finish(ctx context.Context, cloud, id string, status int, body []byte) error {
	v, err := json.Marshal(&Assembly{Done: true, Status: status, Body: body, At: time.Now().UTC()})
	if err != nil {
		return err
	}
	_, err = s.kv.Put(ctx, uploadKey(cloud, id), v)
	return fault(err)
}

// Release gives a claim up (the assembly failed for a reason worth
// retrying), so that the next last part assembles again.
func (s *UploadStore) Release(ctx context.Context, cloud, id string) error {
	return fault(s.kv.Delete(ctx, uploadKey(cloud, id)))
}
