//go:build linux

package plugins

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/wasmasm"
)

// withCustom appends a custom section of n bytes to wasm: a distinct
// module that compiles and runs as wasm does.
func withCustom(wasm []byte, n int) []byte {
	body := append(append(wasmasm.U32(3), "pad"...), make([]byte, n)...)
	return append(append(append(wasm, 0), wasmasm.U32(uint32(len(body)))...), body...)
}

// padded is a working plugin grown past MaxModuleBytes.
func padded() []byte { return withCustom(wasmasm.Invert(), MaxModuleBytes) }

func wantRefusal(t *testing.T, what string, err error, status int, msg string) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) || pe.Status != status || !strings.Contains(pe.Msg, msg) {
		t.Errorf("%s: %v, want %d mentioning %q", what, err, status, msg)
	}
}

// Run refuses what Validate refuses, before compiling: a module over
// MaxModuleBytes (one that would compile), and modules over the limits
// read from the binary.
func TestOversizeRefusedByRunAndValidate(t *testing.T) {
	h, _ := newHost(t)
	var compiles atomic.Int32
	h.onCompile = func(string) { compiles.Add(1) }
	manyTypes := wasmasm.Module{MemoryMin: 1}
	for range maxTypes + 1 { // each function has its own type
		manyTypes.Funcs = append(manyTypes.Funcs, wasmasm.Func{Body: wasmasm.Const(0), Results: []byte{wasmasm.I32}})
	}
	bigFunc := wasmasm.Module{MemoryMin: 1, Funcs: []wasmasm.Func{{Body: make([]byte, maxFunctionBytes)}}} // nops
	for name, c := range map[string]struct {
		wasm []byte
		msg  string
	}{
		"oversize":          {padded(), "over the 16777216 byte limit"},
		"types":             {manyTypes.Bytes(), "types, over the limit"},
		"function size":     {bigFunc.Bytes(), "bytes of code, over the limit"},
		"truncated section": {wasmasm.Invert()[:40], "runs past the end"},
	} {
		wantRefusal(t, name+" (Validate)", h.Validate(c.wasm, Limits{}), 400, c.msg)
		_, err := h.Run(context.Background(), name, c.wasm, testImage(4, 4), nil, Limits{})
		wantRefusal(t, name+" (Run)", err, 400, c.msg)
	}
	if n := compiles.Load(); n != 0 {
		t.Errorf("%d refused modules were compiled", n)
	}
}

// A module compiling does not hold up other plugins: while it compiles,
// a plugin already compiled runs and a new one compiles and runs. The
// big compile is held in onCompile until both are done (or, if they are
// blocked behind it, until a safety release), so the order is certain.
func TestCompileOutsideTheLock(t *testing.T) {
	h, _ := newHost(t)
	src := testImage(8, 8)
	warm, fresh, big := wasmasm.Invert(), wasmasm.Identity(), withCustom(wasmasm.Invert(), 1)
	if _, err := h.Run(context.Background(), "warm", warm, src, nil, Limits{}); err != nil {
		t.Fatal(err)
	}
	bigStarted, othersDone := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var order []string
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	var first atomic.Bool
	h.onCompile = func(string) {
		if first.Swap(true) { // the first compile is the big one
			return
		}
		close(bigStarted)
		select {
		case <-othersDone:
		case <-time.After(20 * time.Second): // only if the others are blocked behind this compile
		}
	}
	bigErr := make(chan error, 1)
	go func() {
		_, err := h.Run(context.Background(), "big", big, src, nil, Limits{})
		note("big")
		bigErr <- err
	}()
	<-bigStarted
	var wg sync.WaitGroup
	for name, wasm := range map[string][]byte{"warm": warm, "fresh": fresh} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Run(context.Background(), name, wasm, src, nil, Limits{}); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			note(name)
		}()
	}
	wg.Wait()
	close(othersDone)
	if err := <-bigErr; err != nil {
		t.Fatal(err)
	}
	if order[len(order)-1] != "big" {
		t.Errorf("completion order %v: other plugins waited for a compile", order)
	}
}

// Concurrent calls for a new module compile it once.
func TestCompileOncePerModule(t *testing.T) {
	h, _ := newHost(t)
	var compiles atomic.Int32
	h.onCompile = func(string) { compiles.Add(1) }
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Run(context.Background(), "invert", wasmasm.Invert(), testImage(4, 4), nil, Limits{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := compiles.Load(); n != 1 {
		t.Errorf("compiled %d times", n)
	}
}

// nestedLoops is one function of n bytes of nested loops: within every
// limit read from the binary, yet wazero takes minutes to compile it
// (its loop analysis grows faster than n²) and cannot be interrupted.
func nestedLoops(n int) []byte {
	depth := n / 3
	body := make([]byte, 0, n)
	for range depth {
		body = append(body, wasmasm.Loop, wasmasm.BlockVoid)
	}
	for range depth {
		body = append(body, wasmasm.End)
	}
	return wasmasm.ABIModule(wasmasm.Cat(body, wasmasm.Const(0)))
}

// A compile past the deadline is refused, its worker killed (its compile
// slot is free at once), and the module is refused from then on without
// compiling again.
func TestCompileDeadline(t *testing.T) {
	h, _ := newHost(t)
	h.SetCompileTimeout(time.Second)
	var compiles atomic.Int32
	h.onCompile = func(string) { compiles.Add(1) }
	hostile := nestedLoops(128 << 10)
	if err := checkBinary(hostile); err != nil {
		t.Fatalf("the hostile module must pass the static limits: %v", err)
	}
	wantRefusal(t, "slow module", h.Validate(hostile, Limits{}), 400, "compiling took longer than 1s")
	if n := len(h.slots); n != 0 {
		t.Errorf("%d compile slots still held: the compile was not stopped", n)
	}
	_, err := h.Run(context.Background(), "slow", hostile, testImage(4, 4), nil, Limits{})
	wantRefusal(t, "slow module again", err, 400, "compiling took longer")
	if n := compiles.Load(); n != 1 {
		t.Errorf("compiled %d times", n)
	}
	if err := h.Validate(wasmasm.Invert(), Limits{}); err != nil {
		t.Errorf("a good module after the slow one: %v", err)
	}
}

// Without an on-disk cache (no worker) plugins compile in process.
func TestCompileInProcess(t *testing.T) {
	h, err := New("", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	src := testImage(16, 16)
	out, err := h.Run(context.Background(), "invert", wasmasm.Invert(), clone(src), nil, Limits{})
	if err != nil || string(out.Pix) != string(inverted(src).Pix) {
		t.Fatalf("in-process compile: %v", err)
	}
}
