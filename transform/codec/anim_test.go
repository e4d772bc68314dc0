package codec

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/draw"
	"image/gif"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
	gwebp "github.com/gen2brain/webp"
)

// Frame-by-frame GIF decoding composes exactly what composing the frames
// of image/gif's DecodeAll does.
func TestGIFFramesMatchDecodeAll(t *testing.T) {
	for _, name := range []string{"gif-anim-terminal-480x312-9frames.gif",
		"gif-anim-tiny-14x25-24frames-transparent.gif", "gif-anim-throbber-32x32-8frames.gif"} {
		b := fixtures.Read(t, name)
		img, err := Decode(b, DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		g, err := gif.DecodeAll(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		canvas := image.NewNRGBA(image.Rect(0, 0, g.Config.Width, g.Config.Height))
		for i, f := range g.Image {
			saved := image.NewNRGBA(canvas.Rect)
			copy(saved.Pix, canvas.Pix)
			draw.Draw(canvas, f.Bounds(), f, f.Bounds().Min, draw.Over)
			if !bytes.Equal(canvas.Pix, img.Frames[i].Pix) {
				t.Fatalf("%s: frame %d differs", name, i)
			}
			if want := max(g.Delay[i], 0) * 10; want > 0 && img.Delays[i] != want {
				t.Fatalf("%s: frame %d delay %d, want %d", name, i, img.Delays[i], want)
			}
			switch g.Disposal[i] {
			case gif.DisposalBackground:
				draw.Draw(canvas, f.Bounds(), image.Transparent, image.Point{}, draw.Src)
			case gif.DisposalPrevious:
				canvas = saved
			}
		}
	}
}

// MaxPixels counts every frame an animation decode holds, and a page
// decode only holds what it needs.
func TestAnimationBudgetCountsFrames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frames int
	}{
		{"avif-sequence-animated.avif", 11},
		{"webp-animated-terminal-480x312.webp", 8},
		{"gif-anim-terminal-480x312-9frames.gif", 9},
	} {
		b := fixtures.Read(t, tc.name)
		info, err := Probe(b)
		if err != nil || info.Frames != tc.frames {
			t.Fatalf("%s: %d frames probed (%v), want %d", tc.name, info.Frames, err, tc.frames)
		}
		one := int64(info.Width * info.Height)
		cost := DecodedPixels(info, DecodeOptions{})
		if extra := int64(decoderExtra(info, DecodeOptions{})); cost != one*int64(tc.frames)+extra {
			t.Errorf("%s: %d pixels for all frames, want %d", tc.name, cost, one*int64(tc.frames)+extra)
		}
		var le *LimitError
		if _, err := Decode(b, DecodeOptions{MaxPixels: one*int64(tc.frames) - 1}); !errors.As(err, &le) {
			t.Errorf("%s: all frames within %d pixels: %v", tc.name, one*int64(tc.frames)-1, err)
		}
		page1 := DecodedPixels(info, DecodeOptions{Page: 1})
		if page1 >= cost {
			t.Errorf("%s: page 1 costs %d, as much as all frames", tc.name, page1)
		}
		img, err := Decode(b, DecodeOptions{MaxPixels: page1, Page: 1})
		if err != nil || len(img.Frames) != 1 {
			t.Errorf("%s: page 1 within its %d pixels: %v", tc.name, page1, err)
		}
		all, err := Decode(b, DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		last, err := Decode(b, DecodeOptions{Page: tc.frames})
		if err != nil || !bytes.Equal(last.Frames[0].Pix, all.Frames[tc.frames-1].Pix) {
			t.Errorf("%s: the last page is not the last frame (%v)", tc.name, err)
		}
		var pe *PageError
		if _, err := Decode(b, DecodeOptions{Page: tc.frames + 1}); !errors.As(err, &pe) {
			t.Errorf("%s: page beyond the frames: %v", tc.name, err)
		}
	}
}

// countdown is a context that reports itself canceled after n checks, to
// stop a decode at a deterministic point in its middle.
type countdown struct {
	context.Context
	n atomic.Int64
}

func (c *countdown) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

func TestDecodeStopsWhenCanceled(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  DecodeOptions
	}{
		{"photo-nuthatch-6028x3391.jpg", DecodeOptions{}},                             // image/jpeg, reading
		{"photo-nuthatch-6028x3391.jpg", DecodeOptions{MinWidth: 100, MinHeight: 50}}, // our 1/8 decoder
		{"rgba-transparent-wallpaper-2140x1200.png", DecodeOptions{}},                 // image/png, reading
		{"gif-anim-terminal-480x312-9frames.gif", DecodeOptions{}},                    // between frames
	} {
		ctx := &countdown{Context: context.Background()}
		ctx.n.Store(4)
		tc.opt.Ctx = ctx
		img, err := Decode(fixtures.Read(t, tc.name), tc.opt)
		var ce *CanceledError
		if !errors.As(err, &ce) || !errors.Is(err, context.Canceled) || img != nil {
			t.Errorf("%s %+v: want a *CanceledError, got %v", tc.name, tc.opt, err)
		}
	}
}

// WebP frames (animated, composed by us, and stills) are converted to RGB
// as libwebp does: its animation decoder, which outputs premultiplied RGBA,
// gives the same samples once ours are premultiplied (±1 for rounding).
func TestWebPMatchesLibwebp(t *testing.T) {
	for _, name := range []string{"webp-animated-terminal-480x312.webp", "webp-lossy-rose-400x301.webp",
		"webp-lossy-alpha-rose-400x301.webp", "webp-lossless-alpha-rose-400x301.webp"} {
		b := fixtures.Read(t, name)
		img, err := Decode(b, DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := gwebp.DecodeAll(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if len(ref.Image) != len(img.Frames) {
			t.Fatalf("%s: %d frames, libwebp %d", name, len(img.Frames), len(ref.Image))
		}
		for i, m := range ref.Image {
			r, ours := m.(*image.RGBA), img.Frames[i].Pix
			diff := 0
			for j := range r.Pix {
				v := int(ours[j])
				if j%4 != 3 {
					v = (v*int(ours[j|3]) + 127) / 255
				}
				if d := v - int(r.Pix[j]); d < -1 || d > 1 {
					diff++
				}
			}
			if diff > 0 || len(ref.Delay) > i && img.Delays[i] != ref.Delay[i] {
				t.Errorf("%s frame %d: %d samples differ from libwebp; delay %d", name, i, diff, img.Delays[i])
			}
		}
	}
}

// libavif's working memory counts in the budget of an AVIF decode.
func TestAVIFDecodeWeighsItsDecoder(t *testing.T) {
	b := fixtures.Read(t, "avif-still-320x180.avif")
	px := int64(320 * 180)
	var le *LimitError
	if _, err := Decode(b, DecodeOptions{MaxPixels: 10 * px}); !errors.As(err, &le) {
		t.Fatalf("decoded within 10 times its pixels: %v", err)
	}
	if _, err := Decode(b, DecodeOptions{MaxPixels: (1 + avifDecodeWeight) * px}); err != nil {
		t.Fatal(err)
	}
}

// A decoded AVIF does not keep libavif's WebAssembly memory (many times
// its size) alive.
func TestAVIFReleasesDecoderMemory(t *testing.T) {
	for _, name := range []string{"avif-still-320x180.avif", "avif-sequence-animated.avif"} {
		b := fixtures.Read(t, name)
		if _, err := Decode(b, DecodeOptions{}); err != nil { // the runtime's first use compiles libavif
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		img, err := Decode(b, DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held := int64(after.HeapInuse) - int64(before.HeapInuse)
		size := int64(len(img.Frames)) * int64(len(img.Frames[0].Pix))
		if held > size+1<<20 {
			t.Errorf("%s: %d KiB held for %d KiB of frames", name, held>>10, size>>10)
		}
	}
}
