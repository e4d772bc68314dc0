package edge

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/edgepix/edgepix/internal/metrics"
)

// The heap a cache holds follows its bounds, not the traffic: 96 MiB of
// distinct entries through a cache with an 8 MiB memory tier and a
// 64 MiB disk tier leave at most the memory tier, Badger's memtables and
// some slack in the heap.
func TestCacheHeapFollowsItsBounds(t *testing.T) {
	c := openCache(filepath.Join(t.TempDir(), "cache"), 8<<20, 64<<20, metrics.New(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer closeCache(t, c)
	heap := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapInuse)
	}
	before := heap()
	body := make([]byte, 96<<10)
	for i := range 1024 {
		body[0], body[1] = byte(i), byte(i>>8)
		c.put(fmt.Sprintf("demo/image/upload/p%04d\x00k", i), bodyEntry(body), c.generation())
		if i%64 == 63 {
			settle(c) // the writer keeps up, as a disk does between renders
		}
	}
	settle(c)
	grown := heap() - before
	if limit := int64(8<<20 + 3*sizesFor(64<<20).memtable + 8<<20); grown > limit {
		t.Fatalf("the heap grew %d MiB for an 8 MiB memory tier (limit %d MiB)", grown>>20, limit>>20)
	}
	if c.mem.bytes() > 8<<20 || c.index.bytes() > 64<<20 {
		t.Fatalf("tiers over their bounds: %d, %d", c.mem.bytes(), c.index.bytes())
	}
	t.Logf("heap grew %d MiB", grown>>20)
}
