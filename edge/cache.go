// Package edge is the delivery server: it parses delivery URLs, serves
// derived images from a two-tier cache (memory, then Badger on disk) and asks
// the origin on a miss, one request per key at a time.
package edge

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/edgepix/edgepix/internal/metrics"
)

// cache combines the memory tier and Badger. The disk tier is bounded by
// an in-memory LRU index of its keys and sizes, rebuilt on open; it is
// optional (nil, or disabled after a fault: see diskTier).
type cache struct {
	// purgeMu orders purges against fills: a fill that began before a
	// purge (gen changed) must not put back what the purge removed. It is
	// never held across a Badger call.
	purgeMu sync.RWMutex
	gen     atomic.Uint64
	mem     *lru[*entry]
	index   *lru[struct{}] // the keys on disk: a key not in it is never read from disk
	disk    *diskTier
	log     *slog.Logger
	// held: nothing cached is served (every get is a miss) until the
	// cache has caught up with the purges it missed.
	held atomic.Bool
	// pos is the last purge applied (see cache_position.go).
	pos      atomic.Uint64
	posKnown atomic.Bool
}

// openCache opens the cache in dir, bounded to diskBytes on disk, with a
// memory tier of memBytes. It cannot fail: see openDisk.
func openCache(dir string, memBytes, diskBytes int64, m *metrics.Metrics, log *slog.Logger) *cache {
	d, index := openDisk(dir, diskBytes, log, m)
	c := &cache{mem: newLRU[*entry](memBytes), index: index, disk: d, log: log}
	c.loadPosition()
	return c
}

// generation changes with every purge; fills carry the one they began in.
func (c *cache) generation() uint64 { return c.gen.Load() }

func (c *cache) get(k string) (*entry, bool) {
	if c.held.Load() {
		return nil, false
	}
	if e, ok := c.mem.get(k); ok {
		c.index.get(k)
		return e, true
	}
	if c.disk == nil {
		return nil, false
	}
	if _, ok := c.index.get(k); !ok {
		return nil, false
	}
	g := c.generation()
	v, err := c.disk.read(k)
	var e *entry
	if err == nil {
		e, err = decodeEntry(v)
	}
	if err != nil {
		if !errors.Is(err, errDiskOff) {
			c.log.Warn("edge cache read", "key", k, "err", err)
		}
		return nil, false
	}
	c.purgeMu.RLock()
	if c.gen.Load() == g {
		c.putMem(k, e)
	}
	c.purgeMu.RUnlock()
	return e, true
}

// putMem keeps small entries in the hot tier; one over a quarter of its
// bound stays on disk only.
func (c *cache) putMem(k string, e *entry) {
	if n := e.size(k); n <= c.mem.limit/4 {
		c.mem.put(k, e, n)
	}
}

// put stores an entry fetched during generation g; if a purge happened
// since, the entry may be stale and is not kept. The disk write is queued:
// the delivery does not wait for it.
func (c *cache) put(k string, e *entry, g uint64) {
	c.purgeMu.RLock()
	fresh := c.gen.Load() == g
	if fresh {
		c.putMem(k, e)
	}
	c.purgeMu.RUnlock()
	if !fresh || c.disk == nil {
		return
	}
	v := e.encode()
	if int64(len(v)) > c.disk.sizes.maxValue {
		return
	}
	c.disk.offer(int64(len(v)), func() { c.store(k, v, g) })
}

// store writes an entry to Badger (in the writer), then indexes it, unless
// a purge came in the meantime: then it deletes it again.
func (c *cache) store(k string, v []byte, g uint64) {
	if c.generation() != g {
		return
	}
	if err := c.disk.write(int64(len(v)), func(db *badger.DB) error {
		return db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(k), v) })
	}); err != nil {
		if c.disk.writable.Load() { // refused, not a fault (those are logged once)
			c.log.Warn("edge cache write", "key", k, "err", err)
		}
		return
	}
	c.purgeMu.RLock()
	drop := []string{k}
	if c.gen.Load() == g {
		drop = c.index.put(k, struct{}{}, int64(len(v)))
	}
	c.purgeMu.RUnlock()
	for _, k := range drop {
		c.mem.remove(k)
	}
	c.disk.remove(drop)
}

// purgeMatch drops every entry whose key satisfies match (a scan of the
// key index, in memory; purges are rare). It returns once Badger has the
// deletes (or the disk tier is disabled, which unmarks its directory).
func (c *cache) purgeMatch(match func(string) bool) int {
	c.purgeMu.Lock()
	c.gen.Add(1)
	c.mem.removeMatch(match)
	keys := c.index.removeMatch(match)
	c.purgeMu.Unlock()
	if c.disk != nil && len(keys) > 0 {
		c.disk.await(func() { c.disk.remove(keys) })
	}
	return len(keys)
}
