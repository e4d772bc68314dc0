//go:build linux

package plugins

import (
	"context"
	"image"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/internal/plugbuild"
	"github.com/edgepix/edgepix/internal/wasmasm"
	"github.com/edgepix/edgepix/plugins/examples/fx"
	"github.com/edgepix/edgepix/sdk/plugin"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/pipeline"
)

// The example plugins, built from source (Go with the Go toolchain, the
// WAT one with wasmasm.Assemble), give what their fx functions give
// natively on a real photo with transparency; the output comes back in
// the input's own pixels.
func TestExamplesMatchNative(t *testing.T) {
	src, err := codec.Decode(fixtures.Read(t, "rgba-transparent-wallpaper-2140x1200.png"), codec.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newHost(t)
	for _, c := range []struct {
		name string
		fn   plugin.Func
		meta plugin.Meta
		json string
	}{
		{"simdinvert", fx.Invert, plugin.Meta{}, ""},
		{"invert", fx.Invert, plugin.Meta{}, ""},
		{"blur", fx.Blur, plugin.Meta{Variables: map[string]any{"radius": 3.0}}, `{"variables":{"radius":3}}`},
	} {
		wasm, err := plugbuild.Build(c.name)
		if err != nil {
			t.Fatal(err)
		}
		want, err := c.fn(clone(src.Frames[0]), c.meta)
		if err != nil {
			t.Fatal(err)
		}
		in := clone(src.Frames[0])
		got, err := h.Run(context.Background(), c.name, wasm, in, []byte(c.json), Limits{Timeout: time.Minute})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if psnr := pipeline.PSNR(got, want); psnr < 60 {
			t.Errorf("%s: PSNR %.1f dB against native Go", c.name, psnr)
		}
		if got != in {
			t.Errorf("%s: an output of the input's size was not written in place", c.name)
		}
	}
}

// A sub-image goes in by rows and the output of another size comes back
// as a new image.
func TestSubImageAndResize(t *testing.T) {
	h, _ := newHost(t)
	src := testImage(40, 30)
	sub := clone(src).SubImage(image.Rect(5, 5, 25, 20)).(*image.NRGBA)
	out, err := h.Run(context.Background(), "invert", wasmasm.Invert(), sub, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := inverted(src).SubImage(image.Rect(5, 5, 25, 20)).(*image.NRGBA)
	if pipeline.PSNR(out, want) < 99 {
		t.Error("a sub-image was not inverted right")
	}
	// 1x1: the header written before the input, which is returned as is
	first := wasmasm.ABIModule(wasmasm.Cat(wasmasm.Get(2), wasmasm.Const(8), []byte{wasmasm.I32Sub}, wasmasm.Const(0x01000000),
		wasmasm.Mem(wasmasm.I32Store, 2), wasmasm.Get(2), wasmasm.Const(4), []byte{wasmasm.I32Sub}, wasmasm.Const(0x01000000),
		wasmasm.Mem(wasmasm.I32Store, 2), wasmasm.Get(2), wasmasm.Const(8), []byte{wasmasm.I32Sub}))
	in := clone(src)
	out, err = h.Run(context.Background(), "first", first, in, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if out == in || out.Rect != image.Rect(0, 0, 1, 1) || string(out.Pix) != string(src.Pix[:4]) {
		t.Errorf("1x1 output: %v %x", out.Rect, out.Pix)
	}
}

// A restarted host with the cache (and its markers) on disk runs a module
// it checked before without compiling it again.
func TestRestartStartsNoCompile(t *testing.T) {
	defer func(d string) { markerDir = d }(markerDir)
	markerDir = "checked-test" // test binaries carry no module versions
	dir := t.TempDir()
	a, err := New(dir, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Validate(wasmasm.Invert(), Limits{}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b, err := New(dir, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var compiles atomic.Int32
	b.onCompile = func(string) { compiles.Add(1) }
	src := testImage(16, 16)
	if out, err := b.Run(context.Background(), "invert", wasmasm.Invert(), clone(src), nil, Limits{}); err != nil ||
		string(out.Pix) != string(inverted(src).Pix) {
		t.Fatalf("after a restart: %v", err)
	}
	if n := compiles.Load(); n != 0 {
		t.Errorf("compiled %d times after a restart", n)
	}
}
