package pipeline

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

func solid(w, h int, c color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return m
}

func pngBytes(m image.Image) []byte {
	var b bytes.Buffer
	png.Encode(&b, m)
	return b.Bytes()
}

func TestOverlays(t *testing.T) {
	red := color.NRGBA{255, 0, 0, 255}
	layers := func(id string) ([]byte, error) {
		if id == "brand/logo" {
			return pngBytes(solid(40, 20, red)), nil
		}
		return nil, errors.New("not found: " + id)
	}
	for _, c := range []struct {
		chain        string
		redAt, notAt image.Point
		w            int
	}{
		// one component: scaled to 10×5, bottom right, 2 and 3 px in
		{"l_brand:logo,w_10,g_south_east,x_2,y_3", image.Pt(100-2-10, 80-3-5), image.Pt(100-2-10-1, 80-3-5), 100},
		// layer opened, transformed, then placed by fl_layer_apply
		{"l_brand:logo/c_scale,w_20/fl_layer_apply,g_north_west,x_5,y_6", image.Pt(5, 6), image.Pt(4, 6), 100},
		// steps after the layer apply to the composite
		{"l_brand:logo,w_10,g_north_west/c_scale,w_50", image.Pt(0, 0), image.Pt(6, 0), 50},
	} {
		ch, err := grammar.ParseChain(c.chain)
		if err != nil {
			t.Fatal(err)
		}
		base := &codec.Image{Frames: []*image.NRGBA{solid(100, 80, color.NRGBA{0, 0, 255, 255})}, Delays: []int{0}}
		out, err := ApplyWith(base, ch, 100, 80, Limits{}, Env{Layers: layers})
		if err != nil {
			t.Fatalf("%s: %v", c.chain, err)
		}
		f := out.Frames[0]
		if f.Rect.Dx() != c.w {
			t.Fatalf("%s: width %d", c.chain, f.Rect.Dx())
		}
		if got := f.NRGBAAt(c.redAt.X, c.redAt.Y); got.R < 200 || got.B > 50 {
			t.Errorf("%s: %v at %v, want the red layer", c.chain, got, c.redAt)
		}
		if got := f.NRGBAAt(c.notAt.X, c.notAt.Y); got.B < 200 {
			t.Errorf("%s: %v at %v, want the blue base", c.chain, got, c.notAt)
		}
	}
	ch, _ := grammar.ParseChain("l_nope")
	base := &codec.Image{Frames: []*image.NRGBA{solid(10, 10, red)}, Delays: []int{0}}
	if _, err := ApplyWith(base, ch, 10, 10, Limits{}, Env{Layers: layers}); err == nil {
		t.Error("a missing overlay must fail")
	}
	var ge *grammar.Error
	if _, err := Apply(base, ch, 10, 10, Limits{}); !errors.As(err, &ge) {
		t.Errorf("overlays without a loader: %v", err)
	}
}

func TestTextOverlay(t *testing.T) {
	ch, err := grammar.ParseChain("l_text:Arial_30_bold:Hi%2C%20you,co_rgb:ff0000,g_north_west,x_4,y_2")
	if err != nil {
		t.Fatal(err)
	}
	base := &codec.Image{Frames: []*image.NRGBA{solid(300, 100, color.NRGBA{255, 255, 255, 255})}, Delays: []int{0}}
	out, err := Apply(base, ch, 300, 100, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	f := out.Frames[0]
	red := func(r image.Rectangle) int {
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if c := f.NRGBAAt(x, y); c.R > 200 && c.G < 80 && c.B < 80 {
					n++
				}
			}
		}
		return n
	}
	// "Hi, you" at 30 px is ~100 px wide and ~35 px tall, top left.
	if n := red(image.Rect(0, 0, 130, 45)); n < 200 {
		t.Errorf("only %d red pixels where the text should be", n)
	}
	if n := red(image.Rect(150, 50, 300, 100)); n != 0 {
		t.Errorf("%d red pixels far from the text", n)
	}
	bad, _ := grammar.ParseChain("l_text:Arial_0:x")
	if _, err := Apply(base, bad, 300, 100, Limits{}); err == nil {
		t.Error("a zero font size was accepted")
	}
}

func TestUnderlay(t *testing.T) {
	layers := func(string) ([]byte, error) { return pngBytes(solid(100, 80, color.NRGBA{255, 0, 0, 255})), nil }
	base := image.NewNRGBA(image.Rect(0, 0, 100, 80)) // transparent except a blue square
	for y := 20; y < 40; y++ {
		for x := 20; x < 40; x++ {
			base.SetNRGBA(x, y, color.NRGBA{0, 0, 255, 255})
		}
	}
	ch, err := grammar.ParseChain("u_bg")
	if err != nil {
		t.Fatal(err)
	}
	out, err := ApplyWith(&codec.Image{Frames: []*image.NRGBA{base}, Delays: []int{0}}, ch, 100, 80, Limits{}, Env{Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	f := out.Frames[0]
	if c := f.NRGBAAt(30, 30); c.B != 255 || c.R != 0 {
		t.Errorf("the image must stay on top: %v", c)
	}
	if c := f.NRGBAAt(5, 5); c.R != 255 || c.A != 255 {
		t.Errorf("the underlay must show through: %v", c)
	}
}
