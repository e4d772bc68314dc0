//go:build linux

package plugins

import (
	"context"
	"errors"
	"image"
	"image/color"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/edgepix/edgepix/internal/plugbuild"
	"github.com/edgepix/edgepix/internal/wasmasm"
)

func testImage(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * 7), uint8(y * 13), uint8(x + y), uint8(200 + x%50)})
		}
	}
	return m
}

// clone copies an image: Run overwrites its input.
func clone(m *image.NRGBA) *image.NRGBA {
	c := *m
	c.Pix = append([]byte(nil), m.Pix...)
	return &c
}

func inverted(m *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(m.Rect)
	for i := 0; i < len(m.Pix); i += 4 {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = 255-m.Pix[i], 255-m.Pix[i+1], 255-m.Pix[i+2], m.Pix[i+3]
	}
	return out
}

type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHost(t *testing.T) (*Host, *logBuf) {
	t.Helper()
	lb := &logBuf{}
	h, err := New(t.TempDir(), slog.New(slog.NewTextHandler(lb, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, lb
}

// The hand-written module follows Cloudinary's ABI with no runtime: our
// compatibility does not rest on our own kit.
func TestHandMadePlugin(t *testing.T) {
	h, logs := newHost(t)
	wasm := wasmasm.Invert()
	if err := h.Validate(wasm, Limits{}); err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{3, 2}, {300, 200}, {1000, 1000}} { // the last grows memory
		src := testImage(size[0], size[1])
		out, err := h.Run(context.Background(), "invert.wasm", wasm, clone(src), []byte(`{"variables":{"a":1}}`), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if out.Rect != src.Rect || string(out.Pix) != string(inverted(src).Pix) {
			t.Fatalf("%v: wrong pixels", size)
		}
	}
	if !strings.Contains(logs.String(), `{\"variables\":{\"a\":1}}`) {
		t.Errorf("env.trace did not reach the log: %s", logs)
	}
}

func TestKitPlugin(t *testing.T) {
	wasm, err := plugbuild.Build("invert")
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newHost(t)
	if err := h.Validate(wasm, Limits{}); err != nil {
		t.Fatal(err)
	}
	src := testImage(640, 480)
	for range 3 { // pooled instance reused
		out, err := h.Run(context.Background(), "invert", wasm, clone(src), nil, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if string(out.Pix) != string(inverted(src).Pix) {
			t.Fatal("kit plugin: wrong pixels")
		}
	}
}

func TestValidateRefuses(t *testing.T) {
	h, _ := newHost(t)
	noTransform := wasmasm.Module{MemoryMin: 1, Funcs: []wasmasm.Func{
		{Params: []byte{wasmasm.I32}, Results: []byte{wasmasm.I32}, Body: wasmasm.Const(0), Export: "alloc"}}}.Bytes()
	for name, c := range map[string]struct {
		wasm []byte
		want string
	}{
		"forbidden import": {wasmasm.ForbiddenImport, "forbidden import wasi_snapshot_preview1.path_open"},
		"missing exports":  {noTransform, "missing export transform"},
		"garbage":          {[]byte("\x00asm garbage"), "Invalid plugin"},
		"too big":          {make([]byte, MaxModuleBytes+1), "over the"},
	} {
		err := h.Validate(c.wasm, Limits{})
		var pe *Error
		if !errors.As(err, &pe) || pe.Status != 400 || !strings.Contains(pe.Msg, c.want) {
			t.Errorf("%s: %v, want 400 mentioning %q", name, err, c.want)
		}
	}
}
