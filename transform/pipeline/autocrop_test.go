package pipeline

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// c_auto zooms in on the detail further than c_fill (Cloudinary: "more
// focus than fill"), by at most 2×, and not past the requested size.
func TestAutoCropZooms(t *testing.T) {
	// A detailed 120×120 subject on a plain 800×400 background.
	m := solid(800, 400, color.NRGBA{240, 240, 240, 255})
	r := rand.New(rand.NewPCG(1, 2))
	for y := 150; y < 270; y++ {
		for x := 500; x < 620; x++ {
			v := uint8(r.IntN(256))
			m.SetNRGBA(x, y, color.NRGBA{v, 255 - v, v / 2, 255})
		}
	}
	subject := func(chain string) int {
		t.Helper()
		ch, err := grammar.ParseChain(chain)
		if err != nil {
			t.Fatal(err)
		}
		img := &codec.Image{Frames: []*image.NRGBA{clone(m)}, Delays: []int{0}}
		out, err := Apply(img, ch, 800, 400, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		o := out.Frames[0]
		for i := 0; i < len(o.Pix); i += 4 {
			if o.Pix[i+1] < 200 || o.Pix[i] < 200 { // not background
				n++
			}
		}
		return n
	}
	fill, auto := subject("c_fill,g_auto,w_100,h_100"), subject("c_auto,g_auto,w_100,h_100")
	if fill == 0 || float64(auto) < 2.5*float64(fill) {
		t.Errorf("c_auto keeps the subject on %d pixels, c_fill on %d: no zoom", auto, fill)
	}
	// A request as large as the covering crop leaves no room to zoom.
	if a, f := subject("c_auto,g_auto,w_400,h_400"), subject("c_fill,g_auto,w_400,h_400"); a != f {
		t.Errorf("c_auto at the image's size: %d subject pixels, c_fill %d", a, f)
	}
}

func clone(m *image.NRGBA) *image.NRGBA {
	c := *m
	c.Pix = append([]uint8(nil), m.Pix...)
	return &c
}

// c_auto decodes reduced, with room for its zoom: twice the pixels c_fill
// asks for.
func TestAutoCropReducedDecode(t *testing.T) {
	info := mustProbe(t, "photo-storm-1920x1280.jpg")
	plan := func(chain string) int {
		ch, err := grammar.ParseChain(chain)
		if err != nil {
			t.Fatal(err)
		}
		d, err := planLoad(info, ch, "", Env{})
		if err != nil {
			t.Fatal(err)
		}
		return d.opt.MinWidth
	}
	fill, auto := plan("c_fill,g_auto,w_100,h_100"), plan("c_auto,g_auto,w_100,h_100")
	if fill == 0 || auto < 2*fill-1 || auto > 2*fill+1 {
		t.Errorf("reduced decode: c_fill asks for %d px, c_auto for %d", fill, auto)
	}
}
