package edge

import "time"

// The edge's memory is bounded by its configuration, whatever the
// traffic: the memory tier by MemBytes, the routes remembered by
// maxRoutes and maxRouteBytes, Badger by its memtables and block cache (badgerOptions), the
// disk writes waiting by maxQueued; the rest (connections, the Go
// runtime) is small. Badger's files are mapped, and what the process has
// touched of them would stay in its resident set (page cache the kernel
// reclaims only when memory runs short): mappedBudget bounds it.
// MemoryLimit adds up the heap's share for the Go runtime's soft memory
// limit, so that the collector keeps the heap near what is live instead
// of letting it double.

// mappedBudget bounds the pages of Badger's mapped files the edge keeps
// resident: past it, the disk tier's writer hands them back to the
// kernel (trimMapped), every trimEvery.
const (
	mappedBudget = 16 << 20
	trimEvery    = 2 * time.Second
)

// DefaultMemBytes is the memory tier's bound for a disk bound: a
// sixteenth of it, at most 64 MiB. The disk tier (Badger, with the page
// cache under it) serves what does not fit.
func DefaultMemBytes(diskBytes int64) int64 { return min(diskBytes/16, 64<<20) }

// baseHeap is the heap of an idle edge besides its caches: the runtime,
// the HTTP servers and clients, the plugin host, with room for the
// requests in flight.
const baseHeap = 32 << 20

// MemoryLimit is the Go heap an edge needs with these bounds (0: the
// defaults): the memory tier, the routes, Badger's memtables and block
// cache, the disk writes queued, and a base. `edgepix edge` runs under it (GOMEMLIMIT, unless set).
func MemoryLimit(memBytes, diskBytes int64) int64 {
	if diskBytes <= 0 {
		diskBytes = 1 << 30
	}
	if memBytes <= 0 {
		memBytes = DefaultMemBytes(diskBytes)
	}
	s := sizesFor(diskBytes)
	routes := int64(maxRouteBytes)
	return memBytes + routes + 3*s.memtable + blockCache + maxQueued + baseHeap
}
