package plugins

import (
	"fmt"
	"os"

	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// shm is the linear memory of one instance slot: a memfd that the host
// and its worker both map whole, so the host writes the input pixels
// into the guest's memory and reads its output from there, with no copy
// in between. The host creates it sealed against shrinking: the file only
// grows, so the host, reading below the size fstat reports, never
// touches a page past its end (which would be SIGBUS) whatever the worker
// does.
type shm struct {
	f    *os.File
	mem  []byte // the whole of wasm32's 4 GiB, mapped shared (the file is smaller)
	size uint64 // worker: the file's size, as the instance's memory has grown
}

// shmSpan is what every slot maps: wasm32 addresses at most 4 GiB.
const shmSpan = 1 << 32

// newSHM creates a slot's memory (host side).
func newSHM() (*shm, error) {
	fd, err := unix.MemfdCreate("edgepix-plugin", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "edgepix-plugin")
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return nil, fmt.Errorf("sealing a plugin memory: %w", err)
	}
	return mapSHM(f)
}

// mapSHM maps an open slot memory (in the host, or in the worker that
// inherited it).
func mapSHM(f *os.File) (*shm, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, shmSpan, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_NORESERVE)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("mapping a plugin memory: %w", err)
	}
	return &shm{f: f, mem: mem}, nil
}

// close unmaps and closes the memory.
func (s *shm) close() {
	unix.Munmap(s.mem)
	s.f.Close()
}

// fileSize is how much of the mapping is backed: what may be read.
func (s *shm) fileSize() (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(s.f.Fd()), &st); err != nil {
		return 0, err
	}
	return uint64(st.Size), nil
}

// Allocate gives a new instance the slot's memory, zeroed
// (experimental.MemoryAllocator; worker side). The slot serves one
// instance at a time.
func (s *shm) Allocate(_, _ uint64) experimental.LinearMemory {
	s.zero()
	return s
}

// Reallocate grows the file to n bytes and returns the first n bytes of
// the mapping: the memory never moves. nil refuses the growth.
func (s *shm) Reallocate(n uint64) []byte {
	if n > shmSpan {
		return nil
	}
	if n > s.size {
		if err := unix.Ftruncate(int(s.f.Fd()), int64(n)); err != nil {
			return nil
		}
		s.size = n
	}
	return s.mem[:n:n]
}

// Free zeroes the memory and gives its pages back (the file keeps its
// size: it is sealed against shrinking).
func (s *shm) Free() { s.zero() }

func (s *shm) zero() {
	if s.size == 0 {
		if n, err := s.fileSize(); err == nil {
			s.size = n
		}
	}
	if s.size == 0 {
		return
	}
	if err := unix.Fallocate(int(s.f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, int64(s.size)); err != nil {
		clear(s.mem[:s.size]) // slower, and the pages stay, but the next instance must not see this one's data
	}
}
