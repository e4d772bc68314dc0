// Package catalog keeps the origin's records in JetStream key-value
// buckets shared by every origin on one NATS: assets and their tag index,
// batches of background work, named transformations, upload presets and
// the assembly of chunked uploads. Buckets are replicated as asked (see
// internal/replicated) and read through their leaders, so a record just
// written by one origin is read back by any other.
//
// Every error of a bucket that does not answer (NATS down, no JetStream
// quorum, a timeout) wraps ErrUnavailable; not-found and conflicts are
// errors of their own.
package catalog

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/edgepix/edgepix/internal/replicated"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrUnavailable is wrapped by the errors of a store that did not answer:
// the call may succeed if tried again later.
var ErrUnavailable = errors.New("store unavailable")

// Options say how buckets are created.
type Options struct {
	Replicas int          // least copies of each bucket (1 embedded, 3 on a cluster)
	Log      *slog.Logger // where replica changes are reported
}

// Catalog is every store of the origin.
type Catalog struct {
	Assets  *AssetStore
	Batches *BatchStore
	Named   *NamedStore
	Presets *PresetStore
	Uploads *UploadStore
}

// Open opens (or creates) every bucket.
func Open(ctx context.Context, js jetstream.JetStream, o Options) (*Catalog, error) {
	c := &Catalog{}
	var err error
	if c.Assets, err = NewAssetStore(ctx, js, o); err != nil {
		return nil, fmt.Errorf("asset store: %w", err)
	}
	if c.Batches, err = NewBatchStore(ctx, js, o); err != nil {
		return nil, fmt.Errorf("batches: %w", err)
	}
	if c.Named, err = NewNamedStore(ctx, js, o); err != nil {
		return nil, fmt.Errorf("named transformations: %w", err)
	}
	if c.Presets, err = NewPresetStore(ctx, js, o); err != nil {
		return nil, fmt.Errorf("upload presets: %w", err)
	}
	if c.Uploads, err = NewUploadStore(ctx, js, o); err != nil {
		return nil, fmt.Errorf("chunked uploads: %w", err)
	}
	return c, nil
}

// bucket opens one bucket with file storage and one value per key.
func bucket(ctx context.Context, js jetstream.JetStream, o Options, name string, ttl time.Duration) (*replicated.Bucket, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b, err := replicated.KeyValue(ctx, js, jetstream.KeyValueConfig{Bucket: name, Storage: jetstream.FileStorage,
		History: 1, TTL: ttl, Replicas: o.Replicas}, log)
	return b, fault(err)
}

// fault marks an error of a bucket as ErrUnavailable unless it says
// something about the data (not found, a conflict, a bad key).
func fault(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrUnavailable),
		errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyExists),
		errors.Is(err, jetstream.ErrKeyDeleted), errors.Is(err, jetstream.ErrInvalidKey):
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func unb64(s string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return string(b), err == nil
}

// ValidID reports whether id can name a batch or a chunked upload:
// 1 to 64 letters, digits, '_' and '-'.
func ValidID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
