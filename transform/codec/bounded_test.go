//go:build linux

package codec

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const boundedChildEnv = "EDGEPIX_BOUNDED_CHILD"

// inBoundedChild runs fn in a child test process whose address space may
// grow by at most capBytes, so that a decoder allocating for a bomb fails
// the test (the child dies or its assertions fail) instead of exhausting
// the machine. Only top-level tests can use it.
func inBoundedChild(t *testing.T, capBytes uint64, fn func(t *testing.T)) {
	t.Helper()
	if os.Getenv(boundedChildEnv) == t.Name() {
		size := vmStatus(t, "VmSize")
		lim := syscall.Rlimit{Cur: size + capBytes, Max: size + capBytes}
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
			t.Fatal(err)
		}
		fn(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), boundedChildEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		tail := string(out)
		if len(tail) > 4000 {
			tail = tail[:4000]
		}
		t.Fatalf("bounded child (%d MiB cap) failed: %v\n%s", capBytes>>20, err, tail)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "bounded:") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

// vmStatus returns a /proc/self/status field in bytes (VmSize, VmHWM...).
func vmStatus(t *testing.T, field string) uint64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// allocDuring returns the bytes allocated on the Go heap while fn ran.
func allocDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
