// Package edge is the delivery server: it parses delivery URLs, serves
// derived images from a two-tier cache (memory, then Badger on disk) and asks
// the origin on a miss, one request per key at a time.
package edge

import (
	"container/list"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// entry is one cached response.
type entry struct {
	ContentType  string    `json:"ct"`
	ETag         string    `json:"etag"`
	LastModified time.Time `json:"lm"`
	Body         []byte    `json:"-"`
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

// memLRU is the hot tier: a byte-bounded least-recently-used map.
type memLRU struct {
	mu    sync.Mutex
	limit int64
	size  int64
	ll    *list.List
	items map[string]*list.Element
}

type memItem struct {
	key string
	e   *entry
}

func newMemLRU(limit int64) *memLRU {
	return &memLRU{limit: limit, ll: list.New(), items: map[string]*list.Element{}}
}

func (m *memLRU) get(k string) (*entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.items[k]
	if !ok {
		return nil, false
	}
	m.ll.MoveToFront(el)
	return el.Value.(*memItem).e, true
}

func (m *memLRU) put(k string, e *entry) {
	sz := int64(len(e.Body))
	if sz > m.limit/4 {
		return // too big for the hot tier; disk only
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.items[k]; ok {
		m.size -= int64(len(el.Value.(*memItem).e.Body))
		m.ll.Remove(el)
	}
	m.items[k] = m.ll.PushFront(&memItem{k, e})
	m.size += sz
	for m.size > m.limit {
		last := m.ll.Back()
		it := last.Value.(*memItem)
		m.ll.Remove(last)
		delete(m.items, it.key)
		m.size -= int64(len(it.e.Body))
	}
}

// cache combines the memory tier and Badger.
type cache struct {
	mem  *memLRU
	disk *badger.DB
	log  *slog.Logger
}

// openCache opens Badger in dir. A directory Badger cannot open (corrupt,
// or from an incompatible version) is moved aside and rebuilt: the cache is
// only a cache, so this is reported, never fatal.
func openCache(dir string, memBytes int64, log *slog.Logger) (*cache, error) {
	opts := badger.DefaultOptions(dir).WithLogger(nil).WithNumVersionsToKeep(1)
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
	return &cache{mem: newMemLRU(memBytes), disk: db, log: log}, nil
}

func (c *cache) get(k string) (*entry, bool) {
	if e, ok := c.mem.get(k); ok {
		return e, true
	}
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
	c.mem.put(k, e)
	return e, true
}

func (c *cache) put(k string, e *entry) {
	c.mem.put(k, e)
	if err := c.disk.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte(k), e.encode())
	}); err != nil {
		c.log.Warn("edge cache write", "key", k, "err", err)
	}
}

func (c *cache) close() error { return c.disk.Close() }
