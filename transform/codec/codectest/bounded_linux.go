// Package codectest helps tests prove that hostile inputs are refused
// before they cost memory: heap growth of a call, and a child test process
// with a capped address space for inputs that would otherwise exhaust the
// machine.
package codectest

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

const childEnv = "EDGEPIX_BOUNDED_CHILD"

// InBoundedChild runs fn in a child test process whose address space may
// grow by at most capBytes, so that code allocating for a bomb fails the
// test (the child dies or its assertions fail) instead of exhausting the
// machine. Only top-level tests can use it. Lines the child logs with
// "bounded:" are repeated in the parent's log.
func InBoundedChild(t *testing.T, capBytes uint64, fn func(t *testing.T)) {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		size := VMStatus(t, "VmSize")
		lim := syscall.Rlimit{Cur: size + capBytes, Max: size + capBytes}
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
			t.Fatal(err)
		}
		fn(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
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

// VMStatus returns a /proc/self/status field in bytes (VmSize, VmHWM...).
func VMStatus(t testing.TB, field string) uint64 {
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

// AllocDuring returns the bytes allocated on the Go heap while fn ran.
func AllocDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
