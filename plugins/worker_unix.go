//go:build unix

package plugins

import "syscall"

// limitWorkerMemory caps the worker's data segment at workerMemory: a
// compile that needs more dies (out of memory) instead of taking the
// machine's memory.
func limitWorkerMemory() {
	syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: workerMemory, Max: workerMemory})
}
