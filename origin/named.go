package origin

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/edgepix/edgepix/transform/grammar"
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
func NewNamedStore(ctx context.Context, js jetstream.JetStream) (*NamedStore, error) {
	kv, err := openKVJSON[Named](ctx, js, "transformations")
	if err != nil {
		return nil, err
	}
	return &NamedStore{kv}, nil
}

// validName is what Cloudinary accepts after t_: letters, digits, _ and -.
func validName(n string) bool {
	if n == "" || len(n) > 200 {
		return false
	}
	for _, r := range n {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Get loads one named transformation; ok is false when it does not exist.
func (s *NamedStore) Get(ctx context.Context, cloud, name string) (*Named, bool, error) {
	return s.get(ctx, cloud, name)
}

// Put stores a named transformation.
func (s *NamedStore) Put(ctx context.Context, cloud string, n *Named) error {
	return s.put(ctx, cloud, n.Name, n)
}

// Delete removes one; it reports whether it existed.
func (s *NamedStore) Delete(ctx context.Context, cloud, name string) (bool, error) {
	return s.remove(ctx, cloud, name)
}

// List returns every named transformation of a cloud, sorted by name.
func (s *NamedStore) List(ctx context.Context, cloud string) ([]*Named, error) {
	all, err := s.all(ctx, cloud)
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

// resolver adapts the store to grammar.NamedResolver for one cloud.
type resolver struct {
	ctx   context.Context
	store *NamedStore
	cloud string
}

// ResolveNamed implements grammar.NamedResolver.
func (r resolver) ResolveNamed(name string) (string, bool, error) {
	n, ok, err := r.store.Get(r.ctx, r.cloud, name)
	if !ok || err != nil {
		return "", false, err
	}
	return n.Transformation, true, nil
}

var _ grammar.NamedResolver = resolver{}
