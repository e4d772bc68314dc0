//go:build unix

package plugins

import "syscall"

// limitWorkerMemory caps a worker's data segment at n bytes: a worker
// that needs more dies (out of memory) instead of taking the machine's
// memory.
func limitWorkerMemory(n uint64) {
	syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: n, Max: n})
}
