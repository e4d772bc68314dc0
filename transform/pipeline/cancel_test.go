package pipeline

import (
	"context"
	"errors"
	"image"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disintegration/imaging"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

func noise(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range m.Pix {
		m.Pix[i] = uint8(r.IntN(256))
	}
	return m
}

// Our cancellable blur and sharpen give exactly imaging's pixels.
func TestBlurAndSharpenMatchImaging(t *testing.T) {
	m := noise(301, 207)
	for _, sigma := range []float64{0, 0.3, 2.5, 10} {
		b, err := gaussianBlur(context.Background(), m, sigma)
		if err != nil || !b.Rect.Eq(m.Rect) || string(b.Pix) != string(imaging.Blur(m, sigma).Pix) {
			t.Errorf("blur σ %.1f differs from imaging (%v)", sigma, err)
		}
		s, err := sharpen(context.Background(), m, sigma)
		if err != nil || string(s.Pix) != string(imaging.Sharpen(m, sigma).Pix) {
			t.Errorf("sharpen σ %.1f differs from imaging (%v)", sigma, err)
		}
	}
}

// The banded resize gives exactly imaging's pixels, over several bands
// of rows and of columns.
func TestBandedResizeMatchesImaging(t *testing.T) {
	m := noise(1500, 2500)
	for _, s := range [][2]int{{1000, 1200}, {1500, 700}, {600, 2500}, {1700, 3000}, {1500, 2500}} {
		for _, f := range []imaging.ResampleFilter{imaging.Lanczos, imaging.Box} {
			got, err := resize(context.Background(), m, s[0], s[1], f)
			if err != nil || string(got.Pix) != string(imaging.Resize(m, s[0], s[1], f).Pix) {
				t.Errorf("%dx%d: differs from imaging (%v)", s[0], s[1], err)
			}
		}
	}
}

// A heavy blur (σ 100 on 20 MP: minutes of work) stops once its context
// is canceled a few milliseconds in, with an error saying so.
func TestBigBlurStopsWhenCanceled(t *testing.T) {
	img, err := codec.Decode(fixtures.Read(t, "photo-nuthatch-6028x3391.jpg"), codec.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := grammar.ParseChain("e_blur:2000")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	b := img.Bounds()
	out, err := Apply(img, ch, b.Dx(), b.Dy(), Limits{Ctx: ctx})
	var ce *codec.CanceledError
	if !errors.As(err, &ce) || !errors.Is(err, context.Canceled) || out != nil {
		t.Fatalf("want a *codec.CanceledError, got %v", err)
	}
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	if _, err = Apply(img, ch, b.Dx(), b.Dy(), Limits{Ctx: ctx}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a deadline error, got %v", err)
	}
}

// countdown is a context that reports itself canceled after n checks, to
// stop a render at a deterministic point.
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

// Every stage of a render stops on its context: decoding, the steps
// (resize, effects, frames) and the encoding of an animation.
func TestRenderStopsAtEveryStage(t *testing.T) {
	for _, tc := range []struct{ fixture, chain, format string }{
		{"photo-storm-1920x1280.jpg", "w_1500/e_sharpen:200/e_pixelate:10", "jpg"},
		{"gif-anim-terminal-480x312-9frames.gif", "w_400/e_sepia", "gif"},
		{"gif-anim-terminal-480x312-9frames.gif", "w_400", "webp"},
		{"rgba-transparent-wallpaper-2140x1200.png", "w_2000,h_1000,c_pad/e_blur:300", "png"},
	} {
		ch, err := grammar.ParseChain(tc.chain)
		if err != nil {
			t.Fatal(err)
		}
		src := fixtures.Read(t, tc.fixture)
		// Count the checks of a full render, then stop it at several points.
		probe := &countdown{Context: context.Background()}
		probe.n.Store(1 << 40)
		if _, err := Render(src, Request{Chain: ch, Format: tc.format, Limits: Limits{Ctx: probe}}); err != nil {
			t.Fatal(err)
		}
		checks := 1<<40 - probe.n.Load()
		for _, at := range []int64{0, checks / 4, checks / 2, checks - 2} {
			ctx := &countdown{Context: context.Background()}
			ctx.n.Store(at)
			res, err := Render(src, Request{Chain: ch, Format: tc.format, Limits: Limits{Ctx: ctx}})
			var ce *codec.CanceledError
			if !errors.As(err, &ce) || res != nil {
				t.Errorf("%s %s, canceled at check %d of %d: %v", tc.fixture, tc.chain, at, checks, err)
			}
		}
	}
}

// An opaque image is resampled in fixed point: within one level of
// imaging's floating-point result (at most 2 where negative lobes round
// differently), crops read in place included.
func TestFixedPointResizeMatchesImaging(t *testing.T) {
	img, err := codec.Decode(fixtures.Read(t, "photo-storm-1920x1280.jpg"), codec.DecodeOptions{MinWidth: 480, MinHeight: 320})
	if err != nil {
		t.Fatal(err)
	}
	photo := img.Frames[0]
	opaque := noise(640, 480)
	for i := 3; i < len(opaque.Pix); i += 4 {
		opaque.Pix[i] = 255
	}
	crop := photo.SubImage(image.Rect(37, 21, 437, 300)).(*image.NRGBA)
	for _, m := range []*image.NRGBA{photo, opaque, crop} {
		for _, s := range [][2]int{{300, 200}, {211, 97}, {1000, 700}, {m.Rect.Dx(), 50}, {33, m.Rect.Dy()}} {
			for _, f := range []imaging.ResampleFilter{imaging.Lanczos, imaging.Box, imaging.Linear} {
				got, err := resize(context.Background(), m, s[0], s[1], f)
				if err != nil {
					t.Fatal(err)
				}
				want := imaging.Resize(m, s[0], s[1], f)
				if !got.Rect.Eq(want.Rect) {
					t.Fatalf("size %v, imaging %v", got.Rect, want.Rect)
				}
				worst := 0
				for i := range got.Pix {
					worst = max(worst, int(got.Pix[i])-int(want.Pix[i]), int(want.Pix[i])-int(got.Pix[i]))
				}
				if p := PSNR(got, want); worst > 2 || p < 50 {
					t.Errorf("%v to %dx%d: differs from imaging by up to %d (PSNR %.1f dB)", m.Rect, s[0], s[1], worst, p)
				}
			}
		}
	}
}
