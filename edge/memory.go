package edge

// The edge's memory is bounded by its configuration, whatever the
// traffic: the memory tier by MemBytes, the routes remembered by
// maxRoutes, Badger by its memtables and block cache (badgerOptions), and
// the rest (connections, the Go runtime) is small. MemoryLimit adds them
// up for the Go runtime's soft memory limit, so that the collector keeps
// the heap near what is live instead of letting it double.

// DefaultMemBytes is the memory tier's bound for a disk bound: a
// sixteenth of it, at most 64 MiB. The disk tier (Badger, with the page
// cache under it) serves what does not fit.
func DefaultMemBytes(diskBytes int64) int64 { return min(diskBytes/16, 64<<20) }

// baseHeap is the heap of an idle edge besides its caches: the runtime,
// the HTTP servers and clients, the plugin host, with room for the
// requests in flight.
const baseHeap = 48 << 20

// MemoryLimit is the Go heap an edge needs with these bounds (0: the
// defaults): the memory tier, the routes, Badger's memtables and block
// cache, and a base. `edgepix edge` runs under it (GOMEMLIMIT, unless set).
func MemoryLimit(memBytes, diskBytes int64) int64 {
	if diskBytes <= 0 {
		diskBytes = 1 << 30
	}
	if memBytes <= 0 {
		memBytes = DefaultMemBytes(diskBytes)
	}
	s := sizesFor(diskBytes)
	routes := int64(maxRoutes) << 10 // a route is well under 1 KiB
	return memBytes + routes + 3*s.memtable + blockCache + baseHeap
}
