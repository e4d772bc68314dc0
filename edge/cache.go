// Package edge is the delivery server: it parses delivery URLs, serves
// derived images from a two-tier cache (memory, then Badger on disk) and asks
// the origin on a miss, one request per key at a time.
package edge

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// entry is one cached response.
type entry struct {
	ContentType  string    `json:"ct"`
	ETag         string    `json:"etag"`
	LastModified time.Time `json:"lm"`
	Body         []byte    `json:"-"`
	transient    bool      // served but not cached (a d_ placeholder)
}

// encode lays an entry out as a length-prefixed JSON header and the body.
func (e *entry) encode() []byte {
	h, _ := json.Marshal(e)
	out := make([]byte, 4+len(h)+len(e.Body))
	binary.BigEndian.PutUint32(out, uint32(len(h)))
	copy(out[4:], h)
	copy(out[4+len(h):], e.Body)
	return out
}

func decodeEntry(b []byte) (*entry, error) {
	if len(b) < 4 {
		return nil, errors.New("short cache entry")
	}
	n := int(binary.BigEndian.Uint32(b))
	if 4+n > len(b) {
		return nil, errors.New("corrupt cache entry")
	}
	var e entry
	if err := json.Unmarshal(b[4:4+n], &e); err != nil {
		return nil, err
	}
	e.Body = b[4+n:]
	return &e, nil
}

// cache combines the memory tier and Badger. The disk tier is bounded by
// an in-memory LRU index of its keys and sizes, rebuilt on open.
type cache struct {
	// purgeMu orders purges against fills: a fill that began before a
	// purge (gen changed) must not put back what the purge removed.
	purgeMu sync.RWMutex
	gen     atomic.Uint64
	mem     *lru[*entry]
	index   *lru[struct{}]
	disk    *badger.DB
	log     *slog.Logger
	stop    chan struct{}
	done    chan struct{}
}

// openCache opens Badger in dir, bounded to diskBytes, with a memory tier
// of memBytes. A directory Badger cannot open (corrupt, or from an
// incompatible version) is moved aside and rebuilt: the cache is only a
// cache, so this is reported, never fatal.
func openCache(dir string, memBytes, diskBytes int64, log *slog.Logger) (*cache, error) {
	vlog := min(max(diskBytes/8, 16<<20), 256<<20)
	// The memory tier is the read cache, so Badger's own block cache is
	// kept small, as are its memtables (Badger's defaults reserve ~600 MB).
	opts := badger.DefaultOptions(dir).WithLogger(nil).WithNumVersionsToKeep(1).
		WithValueLogFileSize(vlog).WithMemTableSize(16 << 20).WithNumMemtables(2).
		WithBlockCacheSize(16 << 20).WithNumLevelZeroTables(2).WithNumLevelZeroTablesStall(4)
	db, err := badger.Open(opts)
	if err != nil {
		log.Error("edge cache unreadable; rebuilding it", "dir", dir, "err", err)
		aside := fmt.Sprintf("%s.corrupt-%d", dir, time.Now().UnixNano())
		if rerr := os.Rename(dir, aside); rerr != nil {
			os.RemoveAll(dir)
		}
		db, err = badger.Open(opts)
		if err != nil {
			return nil, err
		}
	}
	c := &cache{mem: newLRU[*entry](memBytes), index: newLRU[struct{}](diskBytes), disk: db, log: log,
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := c.loadIndex(); err != nil {
		db.Close()
		return nil, err
	}
	go c.collect()
	return c, nil
}

// loadIndex lists the keys on disk; their order of use is not persisted,
// so they start as least recently used, then trims to the bound.
func (c *cache) loadIndex() error {
	err := c.disk.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			c.index.pushBack(string(item.Key()), struct{}{}, item.ValueSize())
		}
		return nil
	})
	if err != nil {
		return err
	}
	var drop []string
	for c.index.bytes() > c.index.limit {
		n := c.index.ll.Back().Value.(*lruItem[struct{}]).key
		c.index.remove(n)
		drop = append(drop, n)
	}
	c.deleteDisk(drop)
	return nil
}

// collect reclaims value-log space now and then, so evictions free disk.
func (c *cache) collect() {
	defer close(c.done)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			for c.disk.RunValueLogGC(0.5) == nil {
			}
		}
	}
}

// generation changes with every purge; fills carry the one they began in.
func (c *cache) generation() uint64 { return c.gen.Load() }

func (c *cache) get(k string) (*entry, bool) {
	if e, ok := c.mem.get(k); ok {
		c.index.get(k)
		return e, true
	}
	g := c.generation()
	var e *entry
	err := c.disk.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte(k))
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) error {
			var derr error
			e, derr = decodeEntry(append([]byte(nil), v...))
			return derr
		})
	})
	if err != nil {
		if !errors.Is(err, badger.ErrKeyNotFound) {
			c.log.Warn("edge cache read", "key", k, "err", err)
		}
		return nil, false
	}
	c.purgeMu.RLock()
	if c.gen.Load() == g {
		c.index.get(k)
		c.putMem(k, e)
	}
	c.purgeMu.RUnlock()
	return e, true
}

// putMem keeps small entries in the hot tier; one over a quarter of its
// bound stays on disk only.
func (c *cache) putMem(k string, e *entry) {
	if int64(len(e.Body)) <= c.mem.limit/4 {
		c.mem.put(k, e, int64(len(e.Body)))
	}
}

// put stores an entry fetched during generation g; if a purge happened
// since, the entry may be stale and is not kept.
func (c *cache) put(k string, e *entry, g uint64) {
	c.purgeMu.RLock()
	defer c.purgeMu.RUnlock()
	if c.gen.Load() != g {
		return
	}
	v := e.encode()
	if int64(len(v)) > c.index.limit {
		c.putMem(k, e)
		return
	}
	c.putMem(k, e)
	if err := c.disk.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte(k), v)
	}); err != nil {
		c.log.Warn("edge cache write", "key", k, "err", err)
		return
	}
	c.deleteDisk(c.index.put(k, struct{}{}, int64(len(v))))
}

// purge drops every entry whose key starts with prefix, from both tiers.
func (c *cache) purge(prefix string) int {
	return c.purgeMatch(func(k string) bool { return strings.HasPrefix(k, prefix) })
}

// purgeMatch drops every entry whose key satisfies match (a scan of the
// key index, in memory; purges are rare).
func (c *cache) purgeMatch(match func(string) bool) int {
	c.purgeMu.Lock()
	defer c.purgeMu.Unlock()
	c.gen.Add(1)
	c.mem.removeMatch(match)
	keys := c.index.removeMatch(match)
	c.deleteDisk(keys)
	return len(keys)
}

func (c *cache) deleteDisk(keys []string) {
	if len(keys) == 0 {
		return
	}
	wb := c.disk.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		c.mem.remove(k)
		if err := wb.Delete([]byte(k)); err != nil {
			c.log.Warn("edge cache delete", "key", k, "err", err)
		}
	}
	if err := wb.Flush(); err != nil {
		c.log.Warn("edge cache delete", "err", err)
	}
}

func (c *cache) close() error {
	close(c.stop)
	<-c.done
	return c.disk.Close()
}
