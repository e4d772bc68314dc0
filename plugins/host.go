package plugins

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"golang.org/x/sync/singleflight"
)

// Limits bound one plugin call.
type Limits struct {
	MemoryBytes int64         // linear memory cap (default 128 MiB)
	Timeout     time.Duration // wall time per call (default 2 s)
	CPUTime     time.Duration // CPU time per call; 0: only the wall time bounds it
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

// Host compiles and runs plugins, never in its own process: modules
// compile in compile workers (worker.go) and run in a pool of run
// workers (pool_linux.go), processes it kills when a call overruns. It is
// safe for concurrent use.
type Host struct {
	cacheDir  string
	ownDir    bool // cacheDir was made by New: Close removes it
	log       *slog.Logger
	slots     chan struct{}      // compiles running at once
	flight    singleflight.Group // one compile per module key
	onCompile func(key string)   // tests: a compile starts
	pool      *pool

	mu             sync.Mutex
	compileTimeout time.Duration
	checked        map[string]bool // module keys that compiled and passed the ABI check
	order          []string        // checked keys, oldest first
	failed         map[string]failure
}

// maxChecked bounds the module keys remembered as good.
const maxChecked = 4096

// New returns a host whose compiled code is cached in cacheDir (a restart
// then does not recompile); with an empty cacheDir, in a temporary
// directory removed by Close. Run workers start on first use, one per
// core (at least two).
func New(cacheDir string, log *slog.Logger) (*Host, error) {
	h := &Host{log: log, checked: map[string]bool{}, failed: map[string]failure{}, cacheDir: cacheDir,
		compileTimeout: DefaultCompileTimeout, slots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)/2))}
	if cacheDir == "" {
		d, err := os.MkdirTemp("", "edgepix-wasm-cache-*")
		if err != nil {
			return nil, err
		}
		h.cacheDir, h.ownDir = d, true
	} else if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	h.pool = newPool(h.cacheDir, max(2, runtime.GOMAXPROCS(0)), log)
	return h, nil
}

// Close stops every worker (calls in flight fail) and waits for them.
func (h *Host) Close() error {
	h.pool.close()
	if h.ownDir {
		return os.RemoveAll(h.cacheDir)
	}
	return nil
}

// runtimeConfig is the wazero configuration of the workers (the
// compilation cache is keyed on it); pages 0 is no limit. No termination
// checks: a worker that overruns is killed. No DWARF: loading a module
// does not parse its debug sections (traps name functions, not lines).
func runtimeConfig(cache wazero.CompilationCache, pages uint32) wazero.RuntimeConfig {
	c := wazero.NewRuntimeConfigCompiler().WithCompilationCache(cache).WithDebugInfoEnabled(false)
	if pages > 0 {
		c = c.WithMemoryLimitPages(pages)
	}
	return c
}

// Validate checks a plugin as uploaded: size and shape (checkBinary),
// that it compiles within the compile timeout, and its ABI (exports and
// allowed imports). Compiling also fills the cache. Whatever stores a
// .wasm (upload, rename, explicit) must call it.
func (h *Host) Validate(wasm []byte, l Limits) error {
	_, err := h.module(context.Background(), wasm, l.withDefaults())
	return err
}

// traceState names the plugin being called and keeps its last trace
// line (a failing kit plugin traces its error before returning 0).
type traceState struct {
	name string
	last string
}

// traced logs the guest's lines.
func (h *Host) traced(st *traceState, lines []string) {
	for _, l := range lines {
		st.last = l
		h.log.Info("plugin trace", "plugin", st.name, "line", l)
	}
}
