package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
)

// DefaultCompileTimeout bounds compiling one module (a 3 MB Go plugin
// compiles in about 1.5 s on one core).
const DefaultCompileTimeout = 20 * time.Second

// failedFor is how long a module that failed to compile is refused
// without trying again.
const failedFor = 10 * time.Minute

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

// module makes sure wasm compiled into the cache and passed the ABI
// check for a memory limit, and returns its key, "<sha256>/<pages>".
// Compiling happens once per module however many calls want it (the
// others wait for it, or for their ctx), in at most cap(h.slots) compile
// workers at once, each within the compile timeout.
func (h *Host) module(ctx context.Context, wasm []byte, l Limits) (string, error) {
	if len(wasm) > MaxModuleBytes { // before hashing it
		return "", checkBinary(wasm)
	}
	sum := sha256.Sum256(wasm)
	key := fmt.Sprintf("%s/%d", hex.EncodeToString(sum[:]), l.pages())
	h.mu.Lock()
	ok := h.checked[key]
	f, failed := h.failed[key]
	h.mu.Unlock()
	switch {
	case ok:
		return key, nil
	case failed && time.Now().Before(f.until):
		return "", f.err
	case h.marked(key):
		h.mu.Lock()
		h.remember(key)
		h.mu.Unlock()
		return key, nil
	}
	ch := h.flight.DoChan(key, func() (any, error) { return nil, h.compile(key, wasm, l) })
	select {
	case r := <-ch:
		return key, r.Err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// compile checks, compiles and registers one module.
func (h *Host) compile(key string, wasm []byte, l Limits) error {
	if err := checkBinary(wasm); err != nil {
		return err
	}
	h.mu.Lock()
	timeout := h.compileTimeout
	h.mu.Unlock()
	wait := time.NewTimer(timeout)
	defer wait.Stop()
	select {
	case h.slots <- struct{}{}:
	case <-wait.C:
		return &Error{Status: 503, Msg: "Too many plugins compiling; retry later"}
	}
	if h.onCompile != nil {
		h.onCompile(key)
	}
	err := h.compileWithin(timeout, wasm, l.pages())
	<-h.slots
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) && pe.Status == 400 { // the module's fault: refuse it for a while
			h.failed[key] = failure{err, time.Now().Add(failedFor)}
		}
		return err
	}
	h.remember(key)
	h.mark(key)
	for k, f := range h.failed {
		if time.Now().After(f.until) {
			delete(h.failed, k)
		}
	}
	return nil
}

// compileWithin compiles wasm into the cache and checks its ABI in a
// compile worker, killed at the deadline (wazero cannot stop compiling
// one function midway, but a process can be killed).
func (h *Host) compileWithin(timeout time.Duration, wasm []byte, pages uint32) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := h.compileInWorker(ctx, wasm, pages)
	var pe *Error
	switch {
	case err == nil || errors.As(err, &pe):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: 400, Msg: fmt.Sprintf("Invalid plugin: compiling took longer than %v", timeout)}
	}
	h.log.Error("plugin compile worker failed", "err", err)
	return &Error{Status: 500, Msg: "Plugin could not be compiled: " + err.Error()}
}

// remember notes a module key as good. Caller holds h.mu.
func (h *Host) remember(key string) {
	if h.checked[key] {
		return
	}
	h.checked[key] = true
	h.order = append(h.order, key)
	if len(h.order) > maxChecked {
		delete(h.checked, h.order[0])
		h.order = h.order[1:]
	}
}

// A file per good module key, in a directory named after wazero's
// version and the workers' configuration, tells a restarted host that
// the module is in the compilation cache and passed the ABI check: its
// first call then starts no compile worker (which would load the module
// only to find it cached). A new wazero version recompiles everything
// and starts a new directory. Binaries without module information (test
// binaries) do not use markers.
var markerDir = func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/tetratelabs/wazero" && d.Replace == nil && d.Version != "" {
			return "checked-wazero-" + d.Version + "-nochecks"
		}
	}
	return ""
}()

func (h *Host) markerPath(key string) string {
	return filepath.Join(h.cacheDir, markerDir, strings.ReplaceAll(key, "/", "-"))
}

// marked tells whether a previous run checked module key.
func (h *Host) marked(key string) bool {
	if markerDir == "" {
		return false
	}
	_, err := os.Stat(h.markerPath(key))
	return err == nil
}

// mark records that module key compiled and passed the check.
func (h *Host) mark(key string) {
	if markerDir == "" {
		return
	}
	p := h.markerPath(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
		os.WriteFile(p, nil, 0o644) // without it, a restart checks the module again
	}
}
