package plugins

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"golang.org/x/sync/singleflight"
)

// Limits bound one plugin call.
type Limits struct {
	MemoryBytes int64         // linear memory cap (default 128 MiB)
	Timeout     time.Duration // wall time per call (default 2 s)
	MaxPixels   int64         // largest output (default 100 MP)
}

// DefaultLimits apply where an account sets none.
var DefaultLimits = Limits{MemoryBytes: 128 << 20, Timeout: 2 * time.Second, MaxPixels: 100_000_000}

func (l Limits) withDefaults() Limits {
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = DefaultLimits.MemoryBytes
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultLimits.Timeout
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	return l
}

func (l Limits) pages() uint32 { return uint32(min(l.MemoryBytes>>16, 65536)) }

// Error is a plugin failure with the HTTP status a delivery should get.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// Host compiles and runs plugins. It is safe for concurrent use.
type Host struct {
	cache     wazero.CompilationCache
	cacheDir  string // "" when the cache is in memory only
	log       *slog.Logger
	poolSize  int
	slots     chan struct{}      // compiles running at once
	flight    singleflight.Group // one compile per module key
	onCompile func(key string)   // tests: a compile starts

	mu             sync.Mutex
	compileTimeout time.Duration
	runtimes       map[uint32]wazero.Runtime // by memory limit in pages
	modules        map[string]*module        // by key: "<sha256>/<pages>"
	order          []string                  // module keys, oldest first
	failed         map[string]failure        // modules that did not compile, by key
}

// maxModules bounds the compiled modules kept (and their pools).
const maxModules = 64

// New returns a host whose compiled code is cached in cacheDir (a restart
// then does not recompile), filled by compile workers that the compile
// deadline can kill (worker.go); an empty cacheDir caches in memory only
// and compiles in process.
func New(cacheDir string, log *slog.Logger) (*Host, error) {
	h := &Host{log: log, poolSize: 4, runtimes: map[uint32]wazero.Runtime{}, modules: map[string]*module{},
		failed: map[string]failure{}, cacheDir: cacheDir, compileTimeout: DefaultCompileTimeout,
		slots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)/2))}
	if cacheDir != "" {
		if err := os.MkdirAll(cacheDir, 0o755); err != nil {
			return nil, err
		}
		c, err := wazero.NewCompilationCacheWithDir(cacheDir)
		if err != nil {
			return nil, err
		}
		h.cache = c
	} else {
		h.cache = wazero.NewCompilationCache()
	}
	return h, nil
}

// Close releases every runtime and the cache.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	ctx := context.Background()
	var errs []error
	for _, m := range h.modules {
		m.close()
	}
	for _, r := range h.runtimes {
		errs = append(errs, r.Close(ctx))
	}
	h.modules, h.runtimes = map[string]*module{}, map[uint32]wazero.Runtime{}
	return errors.Join(append(errs, h.cache.Close(ctx))...)
}

// runtime returns the runtime for a memory limit, creating it with the
// host modules (env.trace and WASI) on first use. Caller holds h.mu.
func (h *Host) runtime(pages uint32) (wazero.Runtime, error) {
	if r, ok := h.runtimes[pages]; ok {
		return r, nil
	}
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, runtimeConfig(h.cache, pages))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		r.Close(ctx)
		return nil, err
	}
	_, err := r.NewHostModuleBuilder("env").NewFunctionBuilder().WithFunc(h.trace).Export("trace").Instantiate(ctx)
	if err != nil {
		r.Close(ctx)
		return nil, err
	}
	h.runtimes[pages] = r
	return r, nil
}

// Validate checks a plugin as uploaded: size and shape (checkBinary),
// that it compiles within the compile timeout, and its ABI (exports and
// allowed imports). Compiling also fills the cache. Whatever stores a
// .wasm (upload, rename, explicit) must call it.
func (h *Host) Validate(wasm []byte, l Limits) error {
	_, err := h.module(context.Background(), wasm, l.withDefaults())
	return err
}

// traceKey carries a call's traceState into env.trace.
type traceKey struct{}

// traceState names the plugin being called, counts its lines and keeps
// the last one (a failing kit plugin traces its error before returning 0).
type traceState struct {
	name  string
	lines int
	last  string
}

// maxTraceLines bounds what one call may log.
const maxTraceLines = 50

// trace is env.trace: one log line from the guest, capped at 1 KiB.
func (h *Host) trace(ctx context.Context, m api.Module, ptr, size uint32) {
	st, _ := ctx.Value(traceKey{}).(*traceState)
	if st == nil || st.lines >= maxTraceLines {
		return
	}
	b, ok := m.Memory().Read(ptr, min(size, 1024))
	if !ok {
		return
	}
	st.lines++
	st.last = string(b)
	h.log.Info("plugin trace", "plugin", st.name, "line", st.last)
}
