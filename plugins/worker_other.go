//go:build !unix

package plugins

// limitWorkerMemory does nothing where there is no RLIMIT_DATA.
func limitWorkerMemory(n uint64) {}
