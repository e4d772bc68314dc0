package edge

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Why the disk tier needs a space guard: Badger writes its write-ahead log
// (.mem), value log (.vlog) and DISCARD file through shared mappings of
// files it creates sparse (ftruncate), and its tables (.sst) through
// mappings of new files. On a full filesystem such a write raises SIGBUS,
// which no Go code can recover from, so the process dies on the next cache
// write and again on restart (reading a hole of a mapped .mem file faults
// on tmpfs). The guard prevents it:
//   - the mapped log files are preallocated (fallocate) as soon as they
//     appear, so writes into them find their blocks reserved;
//   - before every write, the free space must cover what Badger may still
//     write into blocks nobody reserved: the tables a compaction rewrites
//     (at most the whole LSM tree, as compactions only rewrite what they
//     read), the flush of every memtable, the next log files and the write
//     itself. Below that, the disk tier stops writing; reads go on.

// diskSizes are Badger's file sizes, derived from the disk bound.
type diskSizes struct {
	memtable int64 // MemTableSize; a .mem file is twice that
	vlog     int64 // ValueLogFileSize; a .vlog file is twice that
	maxValue int64 // the largest entry written to disk
}

func sizesFor(diskBytes int64) diskSizes {
	// The memtables hold keys and the smallest entries (the rest is in
	// the value log: see badgerOptions), and each costs its size in heap.
	m := min(max(diskBytes/256, 1<<20), 4<<20)
	v := min(max(diskBytes/16, 1<<20), 64<<20)
	// An entry never outgrows a value-log file, so Badger never extends
	// one (an extension is a new sparse region).
	return diskSizes{memtable: m, vlog: v, maxValue: min(v/2, diskBytes)}
}

// flushReserve is the free space Badger may use on its own besides
// rewriting the LSM tree: three memtables (two immutable, one active;
// Badger's arena is up to ~1.3 memtable) flushed to tables, and some
// slack for the MANIFEST and DISCARD.
func (s diskSizes) flushReserve() int64 { return 5*s.memtable + 4<<20 }

// reserve is the free space a write of n bytes needs besides the LSM
// tree: the flushes, the next .mem and .vlog files, and the write twice
// (it may land in a new file before that file is preallocated).
func (s diskSizes) reserve(n int64) int64 {
	return s.flushReserve() + 2*s.memtable + 2*s.vlog + 2*n
}

// errNoRoom: the filesystem lacks the space the disk tier needs.
type errNoRoom struct{ free, need int64 }

func (e *errNoRoom) Error() string {
	return fmt.Sprintf("%d MiB free on the cache's filesystem, %d MiB needed", e.free>>20, e.need>>20)
}

// room checks that the filesystem holding dir has need bytes free.
func room(dir string, need int64) error {
	free, err := freeBytes(dir)
	if err != nil {
		return err
	}
	if free < need {
		return &errNoRoom{free, need}
	}
	return nil
}

// mapped reports whether Badger writes the named file through a mapping.
func mapped(name string) bool {
	return strings.HasSuffix(name, ".vlog") || strings.HasSuffix(name, ".mem") || name == "DISCARD"
}

// scanDir sums what a directory left by an earlier run needs: its tables
// (a compaction may rewrite them) and the holes of its mapped files.
func scanDir(dir string) (tables, holes int64, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, err
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			continue
		}
		switch {
		case strings.HasSuffix(e.Name(), ".sst"):
			tables += fi.Size()
		case mapped(e.Name()):
			holes += unallocated(fi)
		}
	}
	return tables, holes, nil
}

// preallocate reserves the blocks of every mapped file in dir that still
// has holes. errNoAllocate means the filesystem cannot; the guard's
// margin is then the only protection.
func preallocate(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !mapped(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil || unallocated(fi) == 0 {
			continue // gone (a flushed memtable) or complete
		}
		err = allocate(filepath.Join(dir, e.Name()))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("preallocating %s: %w", e.Name(), err)
		}
	}
	return nil
}
