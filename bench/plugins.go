package bench

import (
	"context"
	"image"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/edgepix/edgepix/internal/plugbuild"
	"github.com/edgepix/edgepix/internal/wasmasm"
	"github.com/edgepix/edgepix/plugins"
	"github.com/edgepix/edgepix/plugins/examples/fx"
	"github.com/edgepix/edgepix/sdk/plugin"
)

// PluginFigure is one plugin's pooled per-call time next to the same
// operation in native Go, on a 1 MP image.
type PluginFigure struct {
	Name           string
	Ours, Baseline time.Duration
}

// Ratio is plugin time over native time.
func (f PluginFigure) Ratio() float64 { return float64(f.Ours) / float64(f.Baseline) }

// PluginFigures holds the plugin benchmark's results.
type PluginFigures struct {
	Calls        []PluginFigure
	Overhead     time.Duration // runtime-free identity plugin per call: alloc + copy in + copy out
	ModuleBytes  int           // the kit plugin used for the restart figures
	ColdCompile  time.Duration // first response on an empty compilation cache
	WarmRestart  time.Duration // first response after a restart with the cache on disk
	NativeHandle time.Duration // native identity (copy only), for scale
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func megapixel() *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, 1000, 1000))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 7)
	}
	return m
}

// MeasurePlugins times invert and blur (kit plugins, pooled instances)
// against fx natively, the identity plugin's fixed overhead, and the
// first response with a cold and a warm compilation cache.
func MeasurePlugins(runs int) (PluginFigures, error) {
	var out PluginFigures
	dir, err := os.MkdirTemp("", "edgepix-wasm-cache-*")
	if err != nil {
		return out, err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	src := megapixel()
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
	for _, c := range []struct {
		name string
		fn   plugin.Func
	}{{"invert", fx.Invert}, {"blur", fx.Blur}, {"invert, hand-written wasm", fx.Invert}} {
		wasm := wasmasm.Invert()
		if c.name != "invert, hand-written wasm" {
			if wasm, err = plugbuild.Build(c.name); err != nil {
				return out, err
			}
		}
		var runErr error
		ours := Median(runs, func() {
			if _, err := h.Run(ctx, c.name, wasm, src, nil, lim); err != nil {
				runErr = err
			}
		})
		if runErr != nil {
			return out, runErr
		}
		buf := image.NewNRGBA(src.Rect)
		native := Median(runs, func() {
			copy(buf.Pix, src.Pix)
			c.fn(buf, plugin.Meta{})
		})
		out.Calls = append(out.Calls, PluginFigure{Name: c.name, Ours: ours, Baseline: native})
	}
	id := wasmasm.Identity()
	var runErr error
	out.Overhead = Median(runs, func() {
		if _, err := h.Run(ctx, "identity", id, src, nil, lim); err != nil {
			runErr = err
		}
	})
	buf := image.NewNRGBA(src.Rect)
	out.NativeHandle = Median(runs, func() { copy(buf.Pix, src.Pix) })
	return out, runErr
}
