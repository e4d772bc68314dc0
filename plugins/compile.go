package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// DefaultCompileTimeout bounds compiling one module (a 3 MB Go plugin
// compiles in about 1.5 s on one core).
const DefaultCompileTimeout = 20 * time.Second

// failedFor is how long a module that failed to compile is refused
// without trying again.
const failedFor = 10 * time.Minute

// runtimeConfig is the wazero configuration of every runtime, workers'
// included (the compilation cache is keyed on it); pages 0 is no limit.
func runtimeConfig(cache wazero.CompilationCache, pages uint32) wazero.RuntimeConfig {
	c := wazero.NewRuntimeConfigCompiler().WithCompilationCache(cache).WithCloseOnContextDone(true)
	if pages > 0 {
		c = c.WithMemoryLimitPages(pages)
	}
	return c
}

// SetCompileTimeout changes how long compiling one module may take
// (DefaultCompileTimeout unless set).
func (h *Host) SetCompileTimeout(d time.Duration) {
	h.mu.Lock()
	h.compileTimeout = d
	h.mu.Unlock()
}

// failure is a compile error remembered until a time.
type failure struct {
	err   error
	until time.Time
}

// module compiles (or finds) wasm for a memory limit. Compiling happens
// outside h.mu, once per module however many calls want it (the others
// wait for it, or for their ctx), in at most cap(h.slots) compiles at
// once, each within the compile timeout.
func (h *Host) module(ctx context.Context, wasm []byte, l Limits) (*module, error) {
	if len(wasm) > MaxModuleBytes { // before hashing it
		return nil, checkBinary(wasm)
	}
	sum := sha256.Sum256(wasm)
	key := fmt.Sprintf("%s/%d", hex.EncodeToString(sum[:]), l.pages())
	h.mu.Lock()
	m, ok := h.modules[key]
	f, failed := h.failed[key]
	h.mu.Unlock()
	switch {
	case ok:
		return m, nil
	case failed && time.Now().Before(f.until):
		return nil, f.err
	}
	ch := h.flight.DoChan(key, func() (any, error) { return h.compile(key, wasm, l) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*module), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// compile checks, compiles and registers one module.
func (h *Host) compile(key string, wasm []byte, l Limits) (*module, error) {
	if err := checkBinary(wasm); err != nil {
		return nil, err
	}
	h.mu.Lock()
	timeout := h.compileTimeout
	r, err := h.runtime(l.pages())
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	wait := time.NewTimer(timeout)
	defer wait.Stop()
	select {
	case h.slots <- struct{}{}:
	case <-wait.C:
		return nil, &Error{Status: 503, Msg: "Too many plugins compiling; retry later"}
	}
	if h.onCompile != nil {
		h.onCompile(key)
	}
	cm, err := h.compileWithin(timeout, r, wasm)
	if err == nil {
		if err = checkModule(cm, l.pages()); err != nil {
			cm.Close(context.Background())
		}
	}
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) && pe.Status == 400 { // the module's fault: refuse it for a while
			h.mu.Lock()
			h.failed[key] = failure{err, time.Now().Add(failedFor)}
			h.mu.Unlock()
		}
		return nil, err
	}
	m := &module{rt: r, compiled: cm, idle: make(chan api.Module, h.poolSize), slots: make(chan struct{}, 2*h.poolSize)}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.modules[key] = m
	h.order = append(h.order, key)
	if len(h.order) > maxModules {
		old := h.order[0]
		h.order = h.order[1:]
		h.modules[old].close()
		delete(h.modules, old)
	}
	for k, f := range h.failed {
		if time.Now().After(f.until) {
			delete(h.failed, k)
		}
	}
	return m, nil
}

// compileWithin compiles wasm, holding a slot of h.slots until the
// compile has really stopped. With an on-disk cache it compiles in a
// worker process, killed at the deadline, and then loads the result from
// the cache. Otherwise (or if the worker could not run) it compiles here
// and, at the deadline, stops between two functions or, within one,
// leaves the compile to finish in the background (its slot held) and
// answers at once.
func (h *Host) compileWithin(timeout time.Duration, r wazero.Runtime, wasm []byte) (wazero.CompiledModule, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tooLong := &Error{Status: 400, Msg: fmt.Sprintf("Invalid plugin: compiling took longer than %v", timeout)}
	if h.cacheDir != "" {
		err := h.compileInWorker(ctx, wasm)
		var pe *Error
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			<-h.slots
			return nil, tooLong
		case errors.As(err, &pe):
			<-h.slots
			return nil, err
		case err != nil:
			h.log.Warn("compiling a plugin in a worker failed; compiling in process", "err", err)
		}
	}
	type result struct {
		cm  wazero.CompiledModule
		err error
	}
	done := make(chan result, 1)
	go func() { // two workers: wazero then checks ctx between functions
		cm, err := r.CompileModule(experimental.WithCompilationWorkers(ctx, 2), wasm)
		done <- result{cm, err}
	}()
	select {
	case res := <-done:
		<-h.slots
		switch {
		case res.err != nil && ctx.Err() != nil:
			return nil, tooLong
		case res.err != nil:
			return nil, &Error{Status: 400, Msg: "Invalid plugin: " + res.err.Error()}
		}
		return res.cm, nil
	case <-ctx.Done():
		go func() {
			if res := <-done; res.cm != nil {
				res.cm.Close(context.Background())
			}
			<-h.slots
		}()
		return nil, tooLong
	}
}
