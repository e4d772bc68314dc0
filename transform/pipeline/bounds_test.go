//go:build linux

package pipeline

import (
	"errors"
	"image"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/codec/codectest"
	"github.com/edgepix/edgepix/transform/grammar"
)

const mib = 1 << 20

func chain(t *testing.T, s string) grammar.Chain {
	t.Helper()
	ch, err := grammar.ParseChain(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return ch
}

// The reported case: a 24-frame 14×25 GIF at w_5000,h_5000 (6.2 GB
// before: each frame was within the output limit, all 24 were not). The
// output check counts every frame, before anything is decoded.
func TestAnimatedOutputCountsFrames(t *testing.T) {
	codectest.InBoundedChild(t, 1<<30, func(t *testing.T) {
		src := fixtures.Read(t, "gif-anim-tiny-14x25-24frames-transparent.gif")
		for _, format := range []string{"gif", "webp", "auto"} {
			var err error
			a := codectest.AllocDuring(func() {
				_, err = Render(src, Request{Chain: chain(t, "c_scale,w_5000,h_5000"), Format: format})
			})
			t.Logf("bounded: 24 frames at w_5000,h_5000 to %s: %v, %d KiB", format, err, a>>10)
			var le *codec.LimitError
			if !errors.As(err, &le) || le.Pixels != 24*5000*5000 || a > 8*mib {
				t.Errorf("%s: want a *LimitError for all 24 frames before allocating, got %v after %d MiB", format, err, a/mib)
			}
		}
		// A still output needs one frame: allowed.
		res, err := Render(src, Request{Chain: chain(t, "c_scale,w_5000,h_5000"), Format: "png"})
		if err != nil || res.Frames != 1 {
			t.Fatalf("one frame to png: %v", err)
		}
	})
}

// The same in-process, at a scale where the old per-frame check let
// ≈200 MB through: 24 frames of 1000×1000 against a 4 MP output limit.
func TestAnimatedStepsCountFrames(t *testing.T) {
	src := fixtures.Read(t, "gif-anim-tiny-14x25-24frames-transparent.gif")
	lim := Limits{MaxOutputPixels: 4_000_000}
	for _, c := range []string{"c_scale,w_1000,h_1000", "w_10/c_scale,w_1000,h_1000", "c_scale,w_50,h_50/bo_400px_solid_red"} {
		var err error
		a := codectest.AllocDuring(func() { _, err = Render(src, Request{Chain: chain(t, c), Format: "gif", Limits: lim}) })
		var le *codec.LimitError
		if !errors.As(err, &le) || a > 8*mib {
			t.Errorf("%s: want a *LimitError before allocating, got %v after %d MiB", c, err, a/mib)
		}
	}
}

// Rotations and borders enlarge a frame: the result is checked before it
// is allocated, not after.
func TestGrowthCheckedBeforeAllocation(t *testing.T) {
	src := noise(3000, 3000)
	lim := Limits{MaxOutputPixels: 9_000_000}
	for _, c := range []string{"a_45", "bo_1000px_solid_red", "a_30/bo_10px_solid_red"} {
		img := &codec.Image{Frames: []*image.NRGBA{src}, Delays: []int{0}}
		var err error
		a := codectest.AllocDuring(func() { _, err = Apply(img, chain(t, c), 3000, 3000, lim) })
		var le *codec.LimitError
		if !errors.As(err, &le) || a > 8*mib {
			t.Errorf("%s: want a *LimitError before allocating, got %v after %d MiB", c, err, a/mib)
		}
	}
	for _, c := range []string{"a_90", "a_180", "bo_1px_solid_red"} {
		img := &codec.Image{Frames: []*image.NRGBA{src}, Delays: []int{0}}
		lim := Limits{MaxOutputPixels: 3002 * 3002}
		if _, err := Apply(img, chain(t, c), 3000, 3000, lim); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
}
