package bench

import (
	"context"
	"image"
	"io"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/edgepix/edgepix/internal/plugbuild"
	"github.com/edgepix/edgepix/internal/wasmasm"
	"github.com/edgepix/edgepix/plugins"
	"github.com/edgepix/edgepix/plugins/examples/fx"
	"github.com/edgepix/edgepix/sdk/plugin"
)

// PluginFigure is one plugin's per-call time in a run worker (the host's
// design) next to the same operation in native Go, on a 1 MP image, and
// the same module run in process by wazero with and without its per-loop
// termination checks (the designs set aside).
type PluginFigure struct {
	Name                 string
	Ours, Baseline       time.Duration // run worker; native Go
	InProcess, Unchecked time.Duration // in process, with wazero's checks; with none (nothing could stop it)
}

// Ratio is plugin time over native time.
func (f PluginFigure) Ratio() float64 { return float64(f.Ours) / float64(f.Baseline) }

// PluginFigures holds the plugin benchmark's results.
type PluginFigures struct {
	Calls       []PluginFigure
	Overhead    PluginFigure  // the identity plugin: the fixed cost of a call (Baseline: one 4 MB copy)
	RoundTrips  time.Duration // the identity plugin on 64x64: the exchanges with the worker alone
	SpinLate    time.Duration // from the deadline to the answer, for a module that loops
	TreeLate    time.Duration // the same for a loop-free exponential call tree
	Respawn     time.Duration // first call after its worker was killed (a new worker loads the module)
	ModuleBytes int           // the kit plugin used for the restart figures
	ColdCompile time.Duration // first response on an empty compilation cache
	WarmRestart time.Duration // first response after a restart with the cache on disk
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func megapixel() *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, 1000, 1000))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 7)
	}
	return m
}

// interleaved runs each fn once per round, after a warm-up round, and
// returns each one's median: alternating them spreads the machine's
// noise over all alike.
func interleaved(rounds int, fns ...func()) []time.Duration {
	ds := make([][]time.Duration, len(fns))
	for r := -1; r < rounds; r++ {
		for i, fn := range fns {
			t := time.Now()
			fn()
			if r >= 0 {
				ds[i] = append(ds[i], time.Since(t))
			}
		}
	}
	out := make([]time.Duration, len(fns))
	for i, d := range ds {
		sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
		out[i] = d[len(d)/2]
	}
	return out
}

// MeasurePlugins times the hand-written, WAT and kit plugins (pooled
// workers) against fx natively and in process, the identity plugin's
// fixed cost, the answer's delay past the deadline for hostile modules,
// and the first response with a cold and a warm compilation cache.
func MeasurePlugins(runs int) (PluginFigures, error) {
	var out PluginFigures
	dir, err := os.MkdirTemp("", "edgepix-wasm-cache-*")
	if err != nil {
		return out, err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	lim := plugins.Limits{Timeout: time.Minute}

	invert, err := plugbuild.Build("invert")
	if err != nil {
		return out, err
	}
	out.ModuleBytes = len(invert)
	// The restart figures use a 64x64 image: they measure loading the
	// module, not the plugin's work.
	small := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	first := func() (time.Duration, error) {
		t := time.Now()
		h, err := plugins.New(dir, quiet())
		if err != nil {
			return 0, err
		}
		defer h.Close()
		_, err = h.Run(ctx, "invert", invert, small, nil, lim)
		return time.Since(t), err
	}
	if out.ColdCompile, err = first(); err != nil {
		return out, err
	}
	if out.WarmRestart, err = first(); err != nil {
		return out, err
	}

	h, err := plugins.New(dir, quiet())
	if err != nil {
		return out, err
	}
	defer h.Close()
	identity := func(m *image.NRGBA, _ plugin.Meta) (*image.NRGBA, error) { return m, nil }
	cases := []struct {
		name, module string // module: an example's name, else hand-written
		fn           plugin.Func
	}{
		{"invert, hand-written wasm (32-bit xor a pixel)", "", fx.Invert},
		{"invert, WAT with SIMD128 (examples/simdinvert)", "simdinvert", fx.Invert},
		{"invert, Go kit (examples/invert)", "invert", fx.Invert},
		{"blur r=4, Go kit (examples/blur)", "blur", fx.Blur},
		{"identity (hand-written): the fixed cost", "", identity},
	}
	for i, c := range cases {
		wasm := wasmasm.Invert()
		if c.module != "" {
			if wasm, err = plugbuild.Build(c.module); err != nil {
				return out, err
			}
		} else if i == len(cases)-1 {
			wasm = wasmasm.Identity()
		}
		f, err := measureCall(ctx, h, c.name, wasm, c.fn, runs)
		if err != nil {
			return out, err
		}
		if i == len(cases)-1 {
			out.Overhead = f
		} else {
			out.Calls = append(out.Calls, f)
		}
	}
	tiny := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	var runErr error
	out.RoundTrips = interleaved(runs*3, func() {
		if _, err := h.Run(ctx, "identity", wasmasm.Identity(), tiny, nil, lim); err != nil {
			runErr = err
		}
	})[0]
	if runErr != nil {
		return out, runErr
	}
	if out.SpinLate, err = late(ctx, h, wasmasm.Spin); err != nil {
		return out, err
	}
	if out.TreeLate, err = late(ctx, h, wasmasm.CallTree); err != nil {
		return out, err
	}
	t := time.Now() // the spinner's worker was just killed: the next call of a Go module may get its replacement
	_, err = h.Run(ctx, "invert", invert, small, nil, lim)
	out.Respawn = time.Since(t)
	return out, err
}

// measureCall times one module on 1 MP in a worker, natively (fn on a
// copy of the image), and in process with and without termination checks.
func measureCall(ctx context.Context, h *plugins.Host, name string, wasm []byte, fn plugin.Func, runs int) (PluginFigure, error) {
	src := megapixel()
	buf, native := image.NewNRGBA(src.Rect), image.NewNRGBA(src.Rect)
	checked, err := newInProcess(wasm, true)
	if err != nil {
		return PluginFigure{}, err
	}
	defer checked.close()
	unchecked, err := newInProcess(wasm, false)
	if err != nil {
		return PluginFigure{}, err
	}
	defer unchecked.close()
	var runErr error
	keep := func(err error) {
		if err != nil {
			runErr = err
		}
	}
	d := interleaved(runs,
		func() {
			copy(buf.Pix, src.Pix)
			_, err := h.Run(ctx, name, wasm, buf, nil, plugins.Limits{Timeout: time.Minute})
			keep(err)
		},
		func() {
			copy(native.Pix, src.Pix)
			_, err := fn(native, plugin.Meta{})
			keep(err)
		},
		func() { keep(checked.call(src)) },
		func() { keep(unchecked.call(src)) })
	return PluginFigure{Name: name, Ours: d[0], Baseline: d[1], InProcess: d[2], Unchecked: d[3]}, runErr
}

// late is how long after its deadline a hostile module's call is answered
// (the module already checked, its worker warm).
func late(ctx context.Context, h *plugins.Host, wasm []byte) (time.Duration, error) {
	lim := plugins.Limits{Timeout: 200 * time.Millisecond}
	if err := h.Validate(wasm, lim); err != nil {
		return 0, err
	}
	ds := make([]time.Duration, 5)
	for i := range ds {
		t := time.Now()
		h.Run(ctx, "hostile", wasm, image.NewNRGBA(image.Rect(0, 0, 64, 64)), nil, lim)
		ds[i] = time.Since(t) - lim.Timeout
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds[len(ds)/2], nil
}
