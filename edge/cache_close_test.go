package edge

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/metrics"
)

// closeOrHang runs close and fails the test if it has not returned after a
// generous while (Badger's own Close never would, here).
func closeOrHang(t *testing.T, close func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Minute):
		t.Fatal("Close did not return")
		return nil
	}
}

// Issue 15: once the cache folder is gone, Badger's Close retries its
// memtable flush every second, forever. CloseWithin abandons it at the
// deadline and says so.
func TestCloseAbandonsACacheWhoseFolderIsGone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "edge-cache")
	s, err := New(Config{CacheDir: dir, DiskBytes: 64 << 20}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.cache.put("demo/image/upload/a\x00k", bodyEntry([]byte("in the memtable")), s.cache.generation())
	settle(s.cache)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	err = closeOrHang(t, func() error { return s.CloseWithin(time.Second) })
	if !errors.Is(err, ErrCacheAbandoned) || !strings.Contains(err.Error(), "did not close in time") {
		t.Errorf("CloseWithin = %v, want ErrCacheAbandoned", err)
	}
}

// A healthy cache closes cleanly within its deadline, and keeps its data.
func TestCloseWithinKeepsAHealthyCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "edge-cache")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := New(Config{CacheDir: dir, DiskBytes: 64 << 20}, log)
	if err != nil {
		t.Fatal(err)
	}
	s.cache.put("demo/image/upload/a\x00k", bodyEntry(make([]byte, 300<<10)), s.cache.generation())
	if err := closeOrHang(t, func() error { return s.CloseWithin(time.Minute) }); err != nil {
		t.Fatal(err)
	}
	c := openCache(dir, 1<<20, 64<<20, metrics.New(), log)
	defer closeCache(t, c)
	if _, ok := c.get("demo/image/upload/a\x00k"); !ok {
		t.Error("a write queued before Close was lost")
	}
}

// Issue 9 item 17 (write errors): after its first failed write Badger
// aborts the process on the next one (a nil memtable assertion, through
// log.Fatal). The first error (seen by the space guard, the
// preallocation, or Badger itself under a read-only folder) must stop
// every later write; deliveries go on; Close does not wait on the broken
// Badger.
func TestWritesStopAtTheFirstError(t *testing.T) {
	for _, action := range []string{"folder-gone", "folder-unwritable", "folder-read-only"} {
		t.Run(action, func(t *testing.T) {
			r := runChild(t, action, filepath.Join(t.TempDir(), "cache"))
			if r.Skipped != "" {
				t.Skip("cannot mount here:", r.Skipped)
			}
			if r.Disk || !strings.Contains(r.Faults, "write_error=1") || !r.Works {
				t.Errorf("a failed write must disable the disk tier, not deliveries: %+v", r)
			}
			if !strings.Contains(r.CloseErr, ErrCacheAbandoned.Error()) {
				t.Errorf("a failed disk tier must be abandoned at close: %+v", r)
			}
		})
	}
}

// A writer stuck in one job (as in a Badger call that never returns) does
// not hold up purges or Close past their bounds: the tier is disabled as
// stalled, then abandoned.
func TestAStalledWriterIsBounded(t *testing.T) {
	m := metrics.New()
	c := openCache(filepath.Join(t.TempDir(), "cache"), 1<<20, 64<<20, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.put("demo/image/upload/a\x00k", bodyEntry(make([]byte, 300<<10)), c.generation())
	settle(c)
	c.disk.stall = 200 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	if !c.disk.offer(0, func() { <-release }) {
		t.Fatal("the job was not queued")
	}
	if n := c.purge("demo/image/upload/a\x00"); n != 1 {
		t.Errorf("purged %d", n)
	}
	if c.disk.writable.Load() || c.disk.readable.Load() || !strings.Contains(faultsText(m), "stalled=1") {
		t.Errorf("a stalled writer must disable the disk tier: %s", faultsText(m))
	}
	if _, ok := c.get("demo/image/upload/a\x00k"); ok {
		t.Error("a purged entry is served")
	}
	err := closeOrHang(t, func() error { return c.close(200 * time.Millisecond) })
	if !errors.Is(err, ErrCacheAbandoned) {
		t.Errorf("close = %v, want ErrCacheAbandoned", err)
	}
}
