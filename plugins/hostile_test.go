//go:build linux

package plugins

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/wasmasm"
)

// stopped bounds how long a test waits for a call that must be stopped:
// not a speed check (bench/ measures that), only so that a call that is
// never stopped fails the test instead of hanging it.
const stopped = 30 * time.Second

// runBounded runs one call and fails the test if it does not return
// within its timeout plus stopped; it returns the error and how long
// past the timeout the answer came.
func runBounded(t *testing.T, h *Host, name string, wasm []byte, lim Limits) (error, time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := h.Run(context.Background(), name, wasm, testImage(64, 64), nil, lim)
		done <- err
	}()
	select {
	case err := <-done:
		return err, time.Since(start) - lim.Timeout
	case <-time.After(lim.Timeout + stopped):
		t.Fatalf("%s: the call was not stopped", name)
		return nil, 0
	}
}

// keepServing runs a good plugin in a loop until stop is called, failing
// the test if any call fails.
func keepServing(t *testing.T, h *Host) (stop func() int) {
	var wg sync.WaitGroup
	quit := make(chan struct{})
	n := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-quit:
				return
			default:
			}
			src := testImage(64, 64)
			out, err := h.Run(context.Background(), "good", wasmasm.Invert(), clone(src), nil, Limits{Timeout: time.Minute})
			if err != nil || string(out.Pix) != string(inverted(src).Pix) {
				t.Errorf("a good plugin failed while a hostile one ran: %v", err)
				return
			}
			n++
		}
	}()
	return func() int { close(quit); wg.Wait(); return n }
}

// Each hostile plugin fails its own call with the right status, twice
// (the failed instance or worker is gone, the next call starts clean),
// while a good plugin keeps being served.
func TestHostilePlugins(t *testing.T) {
	h, _ := newHost(t)
	// The deadline leaves the non-looping ones room to reach their own
	// failure on a busy machine; the loops need it to end.
	lim := Limits{Timeout: 2 * time.Second, MemoryBytes: 16 << 20, MaxPixels: 25_000_000}
	stop := keepServing(t, h)
	for _, c := range []struct {
		name   string
		wasm   []byte
		status int
		want   string
	}{
		{"infinite loop", wasmasm.Spin, 504, "timed out"},
		{"call tree", wasmasm.CallTree, 504, "timed out"},
		{"memory growth", wasmasm.Grow, 500, "unreachable"},
		{"table bomb", wasmasm.TableBomb, 500, "worker process died"},
		{"runtime crash", wasmasm.ExitCrash, 500, "exit_code(2)"},
		{"trap", wasmasm.Trap, 500, "unreachable"},
		{"bad pointer", wasmasm.BadPointer, 500, "outside memory"},
		{"short output", wasmasm.ShortOutput, 500, "past the end of memory"},
		{"huge output", wasmasm.HugeOutput, 400, "pixel limit"},
	} {
		for range 2 {
			err, late := runBounded(t, h, c.name, c.wasm, lim)
			wantRefusal(t, c.name, err, c.status, c.want)
			if c.status == 504 {
				t.Logf("%s: answered %v after the deadline", c.name, late.Round(time.Millisecond))
			}
		}
	}
	if n := stop(); n == 0 {
		t.Error("the good plugin was never served")
	}
}

// More spinning plugins than workers: each gets 504, the host process's
// collector completes meanwhile (no guest code runs in it), and a good
// plugin queued behind them is served.
func TestMoreSpinnersThanWorkers(t *testing.T) {
	h, _ := newHost(t)
	lim := Limits{Timeout: 400 * time.Millisecond}
	n := 2 * cap(h.pool.sem)
	errs := make(chan error, n)
	for range n {
		go func() {
			err, _ := runBounded(t, h, "spin", wasmasm.Spin, lim)
			errs <- err
		}()
	}
	gc := make(chan struct{})
	go func() { runtime.GC(); close(gc) }()
	select {
	case <-gc:
	case <-time.After(stopped):
		t.Fatal("runtime.GC did not complete while plugins spun")
	}
	src := testImage(32, 32)
	if out, err := h.Run(context.Background(), "good", wasmasm.Invert(), clone(src), nil, Limits{}); err != nil ||
		string(out.Pix) != string(inverted(src).Pix) {
		t.Errorf("a good plugin behind the spinners: %v", err)
	}
	for range n {
		wantRefusal(t, "spinner", <-errs, 504, "timed out")
	}
}

// A call over its CPU time is stopped before its wall time.
func TestCPUTimeLimit(t *testing.T) {
	h, _ := newHost(t)
	err, _ := runBounded(t, h, "spin", wasmasm.Spin, Limits{Timeout: time.Minute, CPUTime: 300 * time.Millisecond})
	wantRefusal(t, "spin", err, 504, "used more than 300ms of CPU time")
}

// A worker killed from outside fails the call it was running with 500,
// and the next call gets a new worker.
func TestWorkerDiesMidCall(t *testing.T) {
	h, _ := newHost(t)
	done := make(chan error, 1)
	go func() {
		err, _ := runBounded(t, h, "spin", wasmasm.Spin, Limits{Timeout: time.Minute})
		done <- err
	}()
	var pid int
	for pid == 0 {
		time.Sleep(10 * time.Millisecond)
		h.pool.mu.Lock()
		if len(h.pool.started) > 0 {
			pid = h.pool.started[0]
		}
		h.pool.mu.Unlock()
	}
	time.Sleep(100 * time.Millisecond) // let it reach the guest
	syscall.Kill(pid, syscall.SIGKILL)
	wantRefusal(t, "killed worker", <-done, 500, "worker process died (signal: killed)")
	src := testImage(8, 8)
	if out, err := h.Run(context.Background(), "good", wasmasm.Invert(), clone(src), nil, Limits{}); err != nil ||
		string(out.Pix) != string(inverted(src).Pix) {
		t.Errorf("after a worker died: %v", err)
	}
}

// A slot that passes to another module is zeroed: nothing of the first
// module's memory reaches the second.
func TestSlotMemoryZeroedBetweenModules(t *testing.T) {
	h, _ := newHost(t)
	h.pool.slots = 1 // one slot per worker: the second module replaces the first
	secret := wasmasm.ABIModule(wasmasm.Cat(wasmasm.Const(100), wasmasm.Const(0x5ec2e7), wasmasm.Mem(wasmasm.I32Store, 2),
		wasmasm.Const(0))) // stores a secret at 100 (and fails: no output)
	peek := wasmasm.ABIModule(wasmasm.Cat( // a 1x1 output whose pixel is memory at 100
		wasmasm.Const(92), wasmasm.Const(0x01000000), wasmasm.Mem(wasmasm.I32Store, 2),
		wasmasm.Const(96), wasmasm.Const(0x01000000), wasmasm.Mem(wasmasm.I32Store, 2),
		wasmasm.Const(92)))
	h.Run(context.Background(), "secret", secret, testImage(4, 4), nil, Limits{})
	out, err := h.Run(context.Background(), "peek", peek, testImage(4, 4), nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Pix) != "\x00\x00\x00\x00" {
		t.Errorf("the next module read %x from the previous one's memory", out.Pix)
	}
}

// The inputs are deallocated when the slot's next call begins: an arena
// plugin's memory does not grow from call to call, and a dealloc that
// traps only costs the instance, not a call.
func TestDeallocBeforeTheNextCall(t *testing.T) {
	h, _ := newHost(t)
	src := testImage(300, 300)
	for range 20 { // 20 × 360 KB without dealloc would need more than the 1 page + growth seen below
		if _, err := h.Run(context.Background(), "invert", wasmasm.Invert(), clone(src), nil, Limits{MemoryBytes: 1 << 20}); err != nil {
			t.Fatalf("the arena was not emptied between calls: %v", err)
		}
	}
	for i := range 3 {
		out, err := h.Run(context.Background(), "bad dealloc", wasmasm.TrapInDealloc, clone(src), nil, Limits{})
		if err != nil || string(out.Pix) != string(src.Pix) {
			t.Fatalf("call %d after a dealloc that traps: %v", i, err)
		}
	}
}

// snapshot counts what a host could leak: goroutines, open files and
// plugin memories mapped.
func snapshot(t *testing.T) (goroutines, fds, maps int) {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return runtime.NumGoroutine(), len(ents), strings.Count(string(b), "memfd:edgepix-plugin")
}

// After hostile calls of every kind, calls in flight at Close, and Close,
// nothing is left: no worker process (all reaped), no goroutine, no file,
// no shared memory.
func TestNothingLeaks(t *testing.T) {
	g0, f0, m0 := snapshot(t)
	h, err := New(t.TempDir(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	lim := Limits{Timeout: 300 * time.Millisecond}
	for _, wasm := range [][]byte{wasmasm.Invert(), wasmasm.Spin, wasmasm.CallTree, wasmasm.TableBomb, wasmasm.Trap, wasmasm.ExitCrash} {
		runBounded(t, h, "hostile", wasm, lim)
	}
	inFlight := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := h.Run(context.Background(), "spin", wasmasm.Spin, testImage(8, 8), nil, Limits{Timeout: time.Minute})
			inFlight <- err
		}()
	}
	time.Sleep(200 * time.Millisecond)
	h.pool.mu.Lock()
	pids := append([]int(nil), h.pool.started...)
	h.pool.mu.Unlock()
	if _, _, m := snapshot(t); m <= m0 {
		t.Fatal("no plugin memory was mapped: the test does not test")
	}
	h.Close()
	for range 3 {
		if err := <-inFlight; !errors.Is(err, errClosed) && !errors.Is(err, context.Canceled) {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("a call in flight at Close: %v", err)
			}
		}
	}
	for _, pid := range pids {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			t.Errorf("worker %d is still there (alive or not reaped)", pid)
		}
	}
	deadline := time.Now().Add(stopped)
	for {
		g, f, m := snapshot(t)
		if g <= g0 && f <= f0 && m <= m0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("left behind: %d goroutines (before %d), %d files (%d), %d plugin memories (%d)", g, g0, f, f0, m, m0)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
