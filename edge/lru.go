package edge

import (
	"container/list"
	"sync"
	"sync/atomic"
)

// lru is a byte-bounded map that evicts the least recently used entries,
// approximately: a read only marks its entry used (under a read lock, so
// reads never wait for each other, nor for a reader the kernel has
// descheduled), and eviction gives a used entry a second chance, moving
// it to the front, before it takes the first unused one from the back.
// The memory tier keeps entries in one; the disk tier keeps only sizes,
// to bound Badger.
type lru[V any] struct {
	mu    sync.RWMutex
	limit int64
	size  int64
	ll    *list.List // front: newest or given a second chance
	items map[string]*list.Element
}

type lruItem[V any] struct {
	key  string
	v    V
	size int64
	used atomic.Bool
}

func newLRU[V any](limit int64) *lru[V] {
	return &lru[V]{limit: limit, ll: list.New(), items: map[string]*list.Element{}}
}

// get returns the value and marks it used.
func (m *lru[V]) get(k string) (V, bool) {
	m.mu.RLock()
	el, ok := m.items[k]
	m.mu.RUnlock()
	if !ok {
		var zero V
		return zero, false
	}
	it := el.Value.(*lruItem[V])
	if !it.used.Load() {
		it.used.Store(true)
	}
	return it.v, true
}

// put adds or replaces k and returns the keys evicted to stay in bounds.
func (m *lru[V]) put(k string, v V, size int64) (evicted []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(k)
	el := m.ll.PushFront(&lruItem[V]{key: k, v: v, size: size})
	m.items[k] = el
	m.size += size
	for m.size > m.limit && m.ll.Len() > 1 {
		evicted = append(evicted, m.evictLocked(el))
	}
	return evicted
}

// evictLocked removes the least recently used key but keep, and returns
// it.
func (m *lru[V]) evictLocked(keep *list.Element) string {
	for {
		el := m.ll.Back()
		it := el.Value.(*lruItem[V])
		if (el == keep || it.used.Swap(false)) && m.ll.Len() > 1 {
			m.ll.MoveToFront(el)
			continue
		}
		m.removeLocked(it.key)
		return it.key
	}
}

// trim evicts keys until the size is within the bound, and returns them.
func (m *lru[V]) trim() (evicted []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for m.size > m.limit && m.ll.Len() > 0 {
		evicted = append(evicted, m.evictLocked(nil))
	}
	return evicted
}

// pushBack adds k as the least recently used (when loading an index).
func (m *lru[V]) pushBack(k string, v V, size int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(k)
	m.items[k] = m.ll.PushBack(&lruItem[V]{key: k, v: v, size: size})
	m.size += size
}

// removeMatch drops every key satisfying match and returns them.
func (m *lru[V]) removeMatch(match func(string) bool) (removed []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.items {
		if match(k) {
			m.removeLocked(k)
			removed = append(removed, k)
		}
	}
	return removed
}

func (m *lru[V]) remove(k string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(k)
}

func (m *lru[V]) removeLocked(k string) {
	if el, ok := m.items[k]; ok {
		m.size -= el.Value.(*lruItem[V]).size
		m.ll.Remove(el)
		delete(m.items, k)
	}
}

// bytes returns the total size held.
func (m *lru[V]) bytes() int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.size
}
