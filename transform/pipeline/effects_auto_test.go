package pipeline

import (
	"image"
	"image/color"
	"testing"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

func TestAutoEffectsAndColorize(t *testing.T) {
	flat := func() *codec.Image { // a dull ramp from 100 to 150, with a blue cast
		m := image.NewNRGBA(image.Rect(0, 0, 51, 4))
		for y := 0; y < 4; y++ {
			for x := 0; x <= 50; x++ {
				m.SetNRGBA(x, y, color.NRGBA{uint8(100 + x), uint8(100 + x), uint8(130 + x/2), 255})
			}
		}
		return &codec.Image{Frames: []*image.NRGBA{m}, Delays: []int{0}}
	}
	run := func(tx string) *image.NRGBA {
		ch, err := grammar.ParseChain(tx)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Apply(flat(), ch, 51, 4, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return out.Frames[0]
	}
	m := run("e_auto_contrast")
	if lo, hi := m.NRGBAAt(0, 0).R, m.NRGBAAt(50, 0).R; lo > 10 || hi < 245 {
		t.Errorf("auto_contrast: red runs %d..%d, want about 0..255", lo, hi)
	}
	m = run("e_improve")
	if lo, hi := m.NRGBAAt(0, 0).B, m.NRGBAAt(50, 0).B; lo > 10 || hi < 245 {
		t.Errorf("improve stretches each channel: blue runs %d..%d", lo, hi)
	}
	m = run("e_colorize:50,co_rgb:ff0000")
	if c := m.NRGBAAt(25, 0); c.R < 185 || c.G > 70 {
		t.Errorf("colorize half-way to red: %v", c)
	}
	if c := run("e_auto_contrast:0").NRGBAAt(0, 0); c.R != 100 {
		t.Errorf("strength 0 must leave the image: %v", c)
	}
}
