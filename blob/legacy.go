package blob

import (
	"context"
	"math"
	"strings"
	"time"
)

// FS is the former context-free API of the file store, kept so that the
// origin builds until it adopts Store; it is the same store as Dir.
//
// Deprecated: use Store (Open or NewDir).
type FS struct{ d *Dir }

// NewFS opens the file store rooted at root.
//
// Deprecated: use NewDir.
func NewFS(root string) (*FS, error) {
	d, err := NewDir(root)
	if err != nil {
		return nil, err
	}
	return &FS{d: d}, nil
}

// Store is the Store behind s.
func (s *FS) Store() *Dir { return s.d }

// Put stores data under key atomically.
func (s *FS) Put(key string, data []byte) error {
	return PutBytes(context.Background(), s.d, key, data)
}

// Get returns the data stored under key.
func (s *FS) Get(key string) ([]byte, error) {
	return GetBytes(context.Background(), s.d, key, math.MaxInt64-1)
}

// Delete removes key; a missing key is not an error.
func (s *FS) Delete(key string) error { return s.d.Delete(context.Background(), key) }

// DeletePrefix removes everything under the folder prefix.
func (s *FS) DeletePrefix(prefix string) error {
	return s.d.DeletePrefix(context.Background(), prefix)
}

// List returns the keys directly inside the folder prefix, sorted.
func (s *FS) List(prefix string) ([]string, error) {
	all, err := Keys(context.Background(), s.d, prefix)
	var keys []string
	for _, k := range all {
		if !strings.Contains(k[len(prefix)+1:], "/") {
			keys = append(keys, k)
		}
	}
	return keys, err
}

// DeleteStale removes each folder directly under prefix whose files were
// all last written more than age ago, and returns how many went.
func (s *FS) DeleteStale(prefix string, age time.Duration) (int, error) {
	return DeleteStale(context.Background(), s.d, prefix, time.Now().Add(-age))
}
