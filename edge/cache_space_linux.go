package edge

import (
	"errors"
	"os"
	"syscall"
)

// freeBytes is the space an unprivileged writer may still use on dir's
// filesystem.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * st.Bsize, nil
}

// unallocated is how much of a file is holes: the bytes a write through a
// mapping would still have to allocate.
func unallocated(fi os.FileInfo) int64 {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0
	}
	return max(fi.Size()-st.Blocks*512, 0)
}

// errNoAllocate: the filesystem cannot reserve blocks ahead of writes.
var errNoAllocate = errors.New("the filesystem does not support fallocate")

// allocate reserves blocks for every byte of the file, without changing
// its size or contents, so that writes through a mapping cannot fault.
func allocate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	for {
		err = syscall.Fallocate(int(f.Fd()), 0, 0, fi.Size())
		if err != syscall.EINTR {
			break
		}
	}
	if errors.Is(err, syscall.EOPNOTSUPP) {
		return errNoAllocate
	}
	return err
}
