package edge

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// smallFS mounts a tmpfs of size (e.g. "64m") for the test, or skips it
// where mounting is not allowed. On tmpfs a write through a mapping into
// a hole of a full filesystem raises SIGBUS, as on any filesystem that
// cannot allocate the block.
func smallFS(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// fillFS writes a file in dir until the filesystem is full.
func fillFS(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{1 << 20, 4 << 10} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
	}
	if free, _ := freeBytes(dir); free != 0 {
		t.Fatalf("%d bytes still free", free)
	}
}

// Issue 9 item 17: the cache's own writes fill a small filesystem. The
// guard stops them while there is still room for what Badger may write
// unasked (flushes, compactions): no SIGBUS, deliveries keep working from
// memory, the fault is counted, and the cache closes cleanly.
func TestCacheStopsWritingBeforeItsDiskIsFull(t *testing.T) {
	fs := smallFS(t, "64m")
	r := runChild(t, "fill", filepath.Join(fs, "cache"))
	if r.Disk || !strings.Contains(r.Faults, "disk_full=1") {
		t.Errorf("the disk tier should have stopped writing: %+v", r)
	}
	if !r.Works {
		t.Errorf("deliveries must go on from memory: %+v", r)
	}
	if r.FreeMiB < 8 || r.CloseErr != "" {
		t.Errorf("the guard must keep room for Badger's own writes and close: %+v", r)
	}
	t.Logf("stopped with %.1f MiB free of 64; %+v", r.FreeMiB, r)
}

// Issue 9 item 17: the filesystem fills up under a running cache (another
// writer), then the edge restarts on the full filesystem after a crash
// left sparse files. Neither the next cache write nor the restart faults;
// the restart gives the cache's space back to the volume and runs from
// memory; once space is back, the directory (disabled, so possibly missing
// purges) is rebuilt empty.
func TestCacheOnAFullDisk(t *testing.T) {
	fs := smallFS(t, "64m")
	dir := filepath.Join(fs, "cache")

	r := runChild(t, "fill-by-another", dir)
	if r.Disk || !strings.Contains(r.Faults, "disk_full=1") || !r.Works {
		t.Errorf("a full disk must disable the disk tier, not the deliveries: %+v", r)
	}
	if !strings.Contains(r.CloseErr, ErrCacheAbandoned.Error()) {
		t.Errorf("with no room to flush, closing must abandon Badger: %+v", r)
	}
	os.Remove(filepath.Join(fs, "filler"))
	r = runChild(t, "reopen", dir)
	if !r.Disk || r.Hits != 0 || !r.Works || r.CloseErr != "" {
		t.Errorf("a directory whose disk tier was disabled may miss purges: it must be rebuilt: %+v", r)
	}

	// A crash leaves sparse log files; ten entries leave less than the
	// disk tier needs once the rest of the filesystem is taken.
	os.RemoveAll(dir)
	runChild(t, "seed-and-crash", dir, "EDGEPIX_CACHE_SEED=10")
	fillFS(t, fs)
	r = runChild(t, "reopen", dir)
	if r.Disk || r.Hits != 0 || !strings.Contains(r.Faults, "disk_full=1") || !r.Works || r.CloseErr != "" {
		t.Errorf("on a full disk the edge must start from memory: %+v", r)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the cache must give its space back: %d files left", len(ents))
	}

	os.Remove(filepath.Join(fs, "filler"))
	r = runChild(t, "reopen", dir)
	if !r.Disk || r.Hits != 0 || !r.Works || r.CloseErr != "" || r.Faults != "" {
		t.Errorf("with space back the disk tier must work again: %+v", r)
	}
}
