//go:build !linux

package edge

import (
	"errors"
	"math"
	"os"
)

// freeBytes is unknown here: the disk-full guard only works on Linux.
func freeBytes(string) (int64, error) { return math.MaxInt64, nil }

func unallocated(os.FileInfo) int64 { return 0 }

var errNoAllocate = errors.New("preallocation is only implemented on Linux")

func allocate(string) error { return errNoAllocate }
