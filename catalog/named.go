package catalog

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Named is a stored named transformation (used in URLs as t_<name>).
type Named struct {
	Name             string    `json:"name"`
	Transformation   string    `json:"transformation"`
	AllowedForStrict bool      `json:"allowed_for_strict"`
	CreatedAt        time.Time `json:"created_at"`
}

// NamedStore keeps named transformations in the "transformations" bucket.
type NamedStore struct{ kvJSON[Named] }

// NewNamedStore opens (or creates) the bucket.
func NewNamedStore(ctx context.Context, js jetstream.JetStream, o Options) (*NamedStore, error) {
	kv, err := bucket(ctx, js, o, "transformations", 0)
	if err != nil {
		return nil, err
	}
	return &NamedStore{kvJSON[Named]{kv}}, nil
}

// Put stores a named transformation.
func (s *NamedStore) Put(ctx context.Context, cloud string, n *Named) error {
	return s.put(ctx, cloud, n.Name, n)
}

// List returns every named transformation of a cloud, sorted by name.
func (s *NamedStore) List(ctx context.Context, cloud string) ([]*Named, error) {
	all, err := s.All(ctx, cloud)
	if err != nil {
		return nil, err
	}
	out := make([]*Named, 0, len(all))
	for _, n := range all {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b *Named) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
