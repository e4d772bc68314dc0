package origin

import (
	"context"

	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/transform/grammar"
)

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

// resolver adapts the store to grammar.NamedResolver for one cloud.
type resolver struct {
	ctx   context.Context
	store *catalog.NamedStore
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
