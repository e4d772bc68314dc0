// Package blob stores originals and derived files on the filesystem. Writes
// go to a temporary file that is fsynced and renamed into place, so a reader
// never sees a half-written file, even after a crash.
package blob

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrNotFound is returned for a missing key.
var ErrNotFound = errors.New("blob: not found")

// FS is a filesystem blob store rooted at a directory.
type FS struct{ root string }

// NewFS creates the root directory if needed.
func NewFS(root string) (*FS, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	return &FS{root: root}, nil
}

// path maps a key ("a/b/c") to a file under root, refusing escapes.
func (s *FS) path(key string) (string, error) {
	clean := filepath.Clean("/" + key)
	if key == "" || strings.Contains(key, "..") || clean == "/" {
		return "", fmt.Errorf("blob: invalid key %q", key)
	}
	return filepath.Join(s.root, clean), nil
}

// Put stores data under key atomically.
func (s *FS) Put(key string, data []byte) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(p)); err == nil { // persist the rename
		d.Sync()
		d.Close()
	}
	return nil
}

// Get returns the data stored under key.
func (s *FS) Get(key string) ([]byte, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return b, err
}

// Delete removes key; a missing key is not an error.
func (s *FS) Delete(key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// DeletePrefix removes the folder prefix ("a/b") and everything under it;
// a missing folder is not an error.
func (s *FS) DeletePrefix(prefix string) error {
	p, err := s.path(prefix)
	if err != nil {
		return err
	}
	return os.RemoveAll(p)
}

// List returns the keys of the files directly inside folder prefix, sorted;
// a missing folder lists nothing.
func (s *FS) List(prefix string) ([]string, error) {
	p, err := s.path(prefix)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".tmp-") {
			keys = append(keys, strings.TrimSuffix(prefix, "/")+"/"+e.Name())
		}
	}
	return keys, nil
}

// DeleteStale removes each folder directly under prefix whose files were
// all last written more than age ago (abandoned work, such as the chunks
// of an upload that never finished), and returns how many went.
func (s *FS) DeleteStale(prefix string, age time.Duration) (int, error) {
	p, err := s.path(prefix)
	if err != nil {
		return 0, err
	}
	dirs, err := os.ReadDir(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	cutoff := time.Now().Add(-age)
	n := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		dir := filepath.Join(p, d.Name())
		fresh := false
		filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				if info, err := e.Info(); err == nil && info.ModTime().After(cutoff) {
					fresh = true
					return filepath.SkipAll
				}
			}
			return nil
		})
		if !fresh {
			if err := os.RemoveAll(dir); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
