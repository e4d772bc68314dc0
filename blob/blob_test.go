package blob

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

func TestPutGetDelete(t *testing.T) {
	s, err := NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put("orig/demo/a/b.jpg", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("orig/demo/a/b.jpg")
	if err != nil || !bytes.Equal(got, []byte("hello")) {
		t.Fatalf("%q %v", got, err)
	}
	if err := s.Put("orig/demo/a/b.jpg", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get("orig/demo/a/b.jpg")
	if string(got) != "v2" {
		t.Fatalf("overwrite: %q", got)
	}
	if _, err := s.Get("missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if err := s.Put("../escape", []byte("x")); err == nil {
		t.Fatal("a key escaping the root was accepted")
	}
	s.Delete("orig/demo/a/b.jpg")
	if _, err := s.Get("orig/demo/a/b.jpg"); !errors.Is(err, ErrNotFound) {
		t.Fatal("not deleted")
	}
	// No temporary files are left behind.
	tmp, _ := filepath.Glob(filepath.Join(s.root, "orig/demo/a/.tmp-*"))
	if len(tmp) != 0 {
		t.Fatalf("leftover temp files %v", tmp)
	}
}
