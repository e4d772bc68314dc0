package edge

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMemLRUEvictsLeastRecentlyUsed(t *testing.T) {
	m := newMemLRU(100)
	for _, k := range []string{"a", "b", "c"} {
		m.put(k, &entry{Body: make([]byte, 25)})
	}
	m.get("a") // a is now the most recent
	m.put("d", &entry{Body: make([]byte, 25)})
	m.put("e", &entry{Body: make([]byte, 25)})
	if _, ok := m.get("b"); ok {
		t.Error("b should have been evicted first")
	}
	if _, ok := m.get("a"); !ok {
		t.Error("a was used recently and must stay")
	}
	if m.size > 100 {
		t.Errorf("size %d over the bound", m.size)
	}
	m.put("huge", &entry{Body: make([]byte, 60)})
	if _, ok := m.get("huge"); ok {
		t.Error("an entry over a quarter of the bound belongs on disk only")
	}
}

func TestCacheSurvivesRestartAndCorruption(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := openCache(dir, 1<<20, log)
	if err != nil {
		t.Fatal(err)
	}
	want := &entry{ContentType: "image/png", ETag: `"x"`, LastModified: time.Unix(1700000000, 0).UTC(), Body: []byte("png")}
	c.put("k", want)
	c.close()

	c, err = openCache(dir, 1<<20, log)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := c.get("k")
	if !ok || string(got.Body) != "png" || got.ContentType != "image/png" || !got.LastModified.Equal(want.LastModified) {
		t.Fatalf("after restart: %+v %v", got, ok)
	}
	c.close()

	// Corrupt the directory: the cache is rebuilt, not fatal.
	os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("garbage"), 0o644)
	c, err = openCache(dir, 1<<20, log)
	if err != nil {
		t.Fatalf("a corrupt cache must be rebuilt: %v", err)
	}
	defer c.close()
	if _, ok := c.get("k"); ok {
		t.Error("entries of the corrupt cache cannot be trusted")
	}
	c.put("k2", want)
	if _, ok := c.get("k2"); !ok {
		t.Error("the rebuilt cache does not work")
	}
}

func TestEntryEncoding(t *testing.T) {
	e := &entry{ContentType: "image/jpeg", ETag: `"abc"`, Body: []byte{1, 2, 3}}
	d, err := decodeEntry(e.encode())
	if err != nil || string(d.Body) != string(e.Body) || d.ETag != e.ETag {
		t.Fatalf("%+v %v", d, err)
	}
	if _, err := decodeEntry([]byte{0, 0, 0, 99, '{'}); err == nil {
		t.Error("a truncated entry must be refused")
	}
}
