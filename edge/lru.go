package edge

import (
	"container/list"
	"sync"
)

// lru is a byte-bounded least-recently-used map. The memory tier keeps
// entries in one; the disk tier keeps only sizes, to bound Badger.
type lru[V any] struct {
	mu    sync.Mutex
	limit int64
	size  int64
	ll    *list.List
	items map[string]*list.Element
}

type lruItem[V any] struct {
	key  string
	v    V
	size int64
}

func newLRU[V any](limit int64) *lru[V] {
	return &lru[V]{limit: limit, ll: list.New(), items: map[string]*list.Element{}}
}

// get returns the value and marks it most recently used.
func (m *lru[V]) get(k string) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	m.ll.MoveToFront(el)
	return el.Value.(*lruItem[V]).v, true
}

// put adds or replaces k and returns the keys evicted to stay in bounds.
func (m *lru[V]) put(k string, v V, size int64) (evicted []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(k)
	m.items[k] = m.ll.PushFront(&lruItem[V]{k, v, size})
	m.size += size
	for m.size > m.limit && m.ll.Len() > 1 {
		it := m.ll.Back().Value.(*lruItem[V])
		m.removeLocked(it.key)
		evicted = append(evicted, it.key)
	}
	return evicted
}

// pushBack adds k as the least recently used (when loading an index).
func (m *lru[V]) pushBack(k string, v V, size int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(k)
	m.items[k] = m.ll.PushBack(&lruItem[V]{k, v, size})
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
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.size
}
