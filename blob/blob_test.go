package blob

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
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

func TestDeleteStale(t *testing.T) {
	s, err := NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.Put("chunks/c/old/0", []byte("x"))
	s.Put("chunks/c/new/0", []byte("y"))
	old := time.Now().Add(-48 * time.Hour)
	p, _ := s.path("chunks/c/old/0")
	os.Chtimes(p, old, old)
	if n, err := s.DeleteStale("chunks/c", 24*time.Hour); err != nil || n != 1 {
		t.Fatalf("DeleteStale: %d %v", n, err)
	}
	if _, err := s.Get("chunks/c/old/0"); err != ErrNotFound {
		t.Error("the stale folder is still there")
	}
	if _, err := s.Get("chunks/c/new/0"); err != nil {
		t.Error("a fresh folder was removed")
	}
	if n, err := s.DeleteStale("chunks/none", time.Hour); err != nil || n != 0 {
		t.Errorf("missing prefix: %d %v", n, err)
	}
}
