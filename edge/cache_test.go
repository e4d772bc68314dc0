package edge

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/metrics"
)

func TestMemLRUEvictsLeastRecentlyUsed(t *testing.T) {
	m := newLRU[int](100)
	for _, k := range []string{"a", "b", "c"} {
		m.put(k, 0, 25)
	}
	m.get("a") // a is now the most recent
	m.put("d", 0, 25)
	if ev := m.put("e", 0, 25); len(ev) != 1 || ev[0] != "b" {
		t.Errorf("evicted %v, want [b]", ev)
	}
	if _, ok := m.get("b"); ok {
		t.Error("b should have been evicted first")
	}
	if _, ok := m.get("a"); !ok {
		t.Error("a was used recently and must stay")
	}
	if m.size > 100 {
		t.Errorf("size %d over the bound", m.size)
	}
}

func TestCacheSurvivesRestartAndCorruption(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := filepath.Join(t.TempDir(), "cache")
	c := openCache(dir, 1<<20, 64<<20, metrics.New(), log)
	want := newEntry("image/png", `"x"`, time.Unix(1700000000, 0).UTC(), []byte("png"))
	c.put("k", want, c.generation())
	closeCache(t, c)

	c = openCache(dir, 1<<20, 64<<20, metrics.New(), log)
	got, ok := c.get("k")
	if !ok || string(got.body()) != "png" || string(got.contentType()) != "image/png" ||
		string(got.lastModified()) != "Tue, 14 Nov 2023 22:13:20 GMT" || string(got.etagValue()) != `"x"` {
		t.Fatalf("after restart: %+v %v", got, ok)
	}
	closeCache(t, c)

	// Corrupt the directory: the cache is rebuilt, not fatal.
	os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("garbage"), 0o644)
	c = openCache(dir, 1<<20, 64<<20, metrics.New(), log)
	defer closeCache(t, c)
	if c.disk == nil {
		t.Fatal("a corrupt cache must be rebuilt, not dropped")
	}
	if _, ok := c.get("k"); ok {
		t.Error("entries of the corrupt cache cannot be trusted")
	}
	c.put("k2", want, c.generation())
	if _, ok := c.get("k2"); !ok {
		t.Error("the rebuilt cache does not work")
	}
}

func TestEntryEncoding(t *testing.T) {
	e := newEntry("image/jpeg", `"abc"`, time.Unix(1700000000, 0), []byte{1, 2, 3})
	d, err := decodeEntry(e.encode())
	if err != nil || string(d.body()) != string(e.body()) || string(d.etagValue()) != `"abc"` ||
		string(d.contentType()) != "image/jpeg" || string(d.lastModified()) != string(e.lastModified()) {
		t.Fatalf("%+v %v", d, err)
	}
	if _, err := decodeEntry([]byte{0, 0, 0, 99, '{'}); err == nil {
		t.Error("a truncated entry must be refused")
	}
}

func TestDiskTierIsBoundedAndPurgeable(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := filepath.Join(t.TempDir(), "cache")
	c := openCache(dir, 4<<10, 100<<10, metrics.New(), log) // 100 KiB on disk
	body := make([]byte, 10<<10)
	for i := range 30 {
		c.put(fmt.Sprintf("demo/image/upload/a%02d\x00k", i), bodyEntry(body), c.generation())
	}
	settle(c)
	if n := c.index.bytes(); n > 100<<10 {
		t.Errorf("disk tier holds %d bytes, over its 100 KiB bound", n)
	}
	if _, ok := c.get("demo/image/upload/a00\x00k"); ok {
		t.Error("the oldest entry should have been evicted")
	}
	if _, ok := c.get("demo/image/upload/a29\x00k"); !ok {
		t.Error("the newest entry must be cached")
	}
	c.put("demo/image/upload/x\x00one", bodyEntry([]byte("1")), c.generation())
	c.put("demo/image/upload/x\x00two", bodyEntry([]byte("2")), c.generation())
	c.put("demo/image/upload/xy\x00one", bodyEntry([]byte("3")), c.generation())
	settle(c)
	if n := c.purge("demo/image/upload/x\x00"); n != 2 {
		t.Errorf("purged %d entries, want 2", n)
	}
	if _, ok := c.get("demo/image/upload/x\x00one"); ok {
		t.Error("a purged entry is still served")
	}
	if _, ok := c.get("demo/image/upload/xy\x00one"); !ok {
		t.Error("purge went past its asset")
	}
	closeCache(t, c)

	// The bound and the purge hold across a restart: the index is rebuilt.
	c = openCache(dir, 4<<10, 50<<10, metrics.New(), log)
	defer closeCache(t, c)
	if n := c.index.bytes(); n > 50<<10 || n == 0 {
		t.Errorf("after reopening with a 50 KiB bound the disk tier holds %d bytes", n)
	}
	if _, ok := c.get("demo/image/upload/x\x00two"); ok {
		t.Error("a purged entry came back after restart")
	}
}

// A fill that began before a purge must not put back what the purge
// removed (the origin may have answered with the deleted asset).
func TestPurgeWinsOverAnOlderFill(t *testing.T) {
	c := openCache(filepath.Join(t.TempDir(), "cache"), 1<<20, 1<<20, metrics.New(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer closeCache(t, c)
	g := c.generation() // a miss starts asking the origin
	c.purge("demo/image/upload/a\x00")
	c.put("demo/image/upload/a\x00k", bodyEntry([]byte("stale")), g)
	if _, ok := c.get("demo/image/upload/a\x00k"); ok {
		t.Error("a fill from before the purge was cached")
	}
}

// settle waits until the disk writer has done what was queued.
func settle(c *cache) {
	if c.disk != nil {
		c.disk.await(func() {})
	}
}

// closeCache closes a cache that must close cleanly.
func closeCache(t *testing.T, c *cache) {
	t.Helper()
	if err := c.close(time.Minute); err != nil {
		t.Error(err)
	}
}

// bodyEntry is an entry of body with no headers.
func bodyEntry(body []byte) *entry { return newEntry("", "", time.Time{}, body) }

// A read does not reorder the LRU (it only marks the entry used), yet the
// entry read survives the next eviction and the one just put is never the
// one evicted.
func TestLRUSecondChance(t *testing.T) {
	m := newLRU[int](100)
	for _, k := range []string{"a", "b", "c", "d"} {
		m.put(k, 0, 25)
	}
	m.get("a")
	m.get("b")
	if ev := m.put("e", 0, 25); len(ev) != 1 || ev[0] != "c" {
		t.Fatalf("evicted %v, want [c]", ev)
	}
	if ev := m.put("big", 0, 90); len(ev) != 4 || m.ll.Len() != 1 {
		t.Fatalf("evicted %v, kept %d; want all but the new entry", ev, m.ll.Len())
	}
	if _, ok := m.get("big"); !ok {
		t.Fatal("the entry just put was evicted")
	}
}

// purge drops every entry whose key starts with prefix, from both tiers.
func (c *cache) purge(prefix string) int {
	return c.purgeMatch(func(k string) bool { return strings.HasPrefix(k, prefix) })
}
