package bench

import (
	"runtime"
	"runtime/debug"
	"sort"
	"time"
)

// Median runs fn n times (after one warm-up) and returns the median time.
func Median(n int, fn func()) time.Duration {
	fn()
	ds := make([]time.Duration, n)
	for i := range ds {
		t := time.Now()
		fn()
		ds[i] = time.Since(t)
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds[n/2]
}

// Allocated returns the bytes fn allocates with the collector off: an upper
// bound of the heap it needs at its peak.
func Allocated(fn func()) uint64 {
	runtime.GC()
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
