package edge

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Pages of a cache file mapped and written stay resident until
// trimMapped finds them over its budget: then they leave the resident
// set, and the file keeps what was written through the mapping.
func TestTrimMappedReclaimsCachePages(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "000001.vlog"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const size = 8 << 20
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	for i := 0; i < size; i += 4096 {
		m[i] = byte(i >> 12)
	}
	if got := trimMapped(dir, size); got < size*3/4 {
		t.Fatalf("%d bytes resident after writing %d through the mapping", got, size)
	}
	if got := trimMapped(dir, size); got < size*3/4 {
		t.Fatalf("under its budget, trimMapped reclaimed pages: %d resident", got)
	}
	trimMapped(dir, size/2)
	if got := trimMapped(dir, size); got > size/4 {
		t.Errorf("%d bytes still resident after a trim", got)
	}
	for i := 0; i < size; i += 4096 {
		if m[i] != byte(i>>12) {
			t.Fatalf("byte %d lost", i)
		}
	}
	b := make([]byte, 1)
	f.ReadAt(b, 4096*7)
	if b[0] != 7 {
		t.Fatalf("the file holds %d at page 7", b[0])
	}
	if got := trimMapped(t.TempDir(), 0); got != 0 {
		t.Errorf("an empty directory has %d bytes resident", got)
	}
}
