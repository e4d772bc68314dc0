package pipeline

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// Golden images of issue 13's effects, modes and backgrounds (go test -run
// GoldenBreadth -update rewrites them).
func TestGoldenBreadth(t *testing.T) {
	const flower = "photo-flower-1600x1203-progressive.jpg"
	const rose = "webp-lossless-alpha-rose-400x301.webp"
	cases := map[string][2]string{
		"hue":              {flower, "w_160/e_hue:50"},
		"tint":             {flower, "w_160/e_tint:80:blue"},
		"tint-gradient":    {flower, "w_160/e_tint:equalize:80:red:20p:yellow:80p"},
		"unsharp":          {flower, "w_160/e_unsharp_mask:400"},
		"vibrance":         {flower, "w_160/e_vibrance:80"},
		"auto-brightness":  {"photo-storm-1920x1280.jpg", "w_160/e_auto_brightness"},
		"red":              {flower, "w_160/e_red:60"},
		"blue":             {flower, "w_160/e_blue:-50"},
		"gradient-fade":    {flower, "w_160/e_gradient_fade"},
		"gradient-fade-x":  {flower, "w_160/e_gradient_fade:symmetric:40,x_0.3"},
		"shadow":           {rose, "w_120/e_shadow:60,x_8,y_-6,co_black"},
		"outline":          {rose, "w_120/e_outline:8,co_red"},
		"outline-inner":    {rose, "w_120/e_outline:inner:4:100,co_blue"},
		"trim":             {rose, "w_160/e_trim"},
		"make-transparent": {"palette-photo-snake-600x450.png", "w_160/e_make_transparent:20"},
		"replace-color":    {flower, "w_160/e_replace_color:blue:60"},
		"pixelate-region":  {flower, "w_160/e_pixelate_region:10,x_20,y_20,w_60,h_50"},
		"blur-region":      {flower, "w_160/e_blur_region:400,g_south_east,w_0.5,h_0.5"},
		"oil-paint":        {flower, "w_160/e_oil_paint:60"},
		"cartoonify":       {flower, "w_160/e_cartoonify"},
		"cartoonify-bw":    {flower, "w_160/e_cartoonify:40:bw"},
		"art-zorro":        {flower, "w_160/e_art:zorro"},
		"art-sizzle":       {flower, "w_160/e_art:sizzle"},
		"fill-pad":         {"photo-storm-1920x1280.jpg", "c_fill_pad,g_auto,w_160,h_40,b_auto"},
		"c-auto":           {"photo-nuthatch-6028x3391.jpg", "c_auto,g_auto,w_120,h_160"},
		"xy-center":        {"photo-storm-1920x1280.jpg", "c_crop,g_xy_center,x_1500,y_300,w_160,h_120"},
		"pad-auto":         {"photo-dune-grass-1680x1050.jpg", "c_pad,w_160,h_160,b_auto"},
		"pad-predominant":  {"photo-dune-grass-1680x1050.jpg", "c_pad,w_160,h_160,b_auto:predominant_contrast"},
		"pad-gradient":     {"photo-dune-grass-1680x1050.jpg", "c_pad,w_160,h_160,b_auto:predominant_gradient:4:diagonal_desc"},
		"expr":             {"photo-storm-1920x1280.jpg", "c_fill,w_iw_div_12,h_ih_mul_0.1"},
	}
	dir := filepath.Join("testdata", "golden")
	for name, c := range cases {
		t.Run(name, func(t *testing.T) { golden(t, filepath.Join(dir, name+".png"), c[0], c[1]) })
	}
}

func golden(t *testing.T, path, fixture, chain string) {
	t.Helper()
	r := render(t, fixture, chain, "png")
	got := decoded(t, r).Frames[0]
	if *update {
		if err := os.WriteFile(path, r.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	ref, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("missing golden (run with -update): %v", err)
	}
	img, err := codec.Decode(ref, codec.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := img.Frames[0]
	if want.Rect.Size() != got.Rect.Size() {
		t.Fatalf("size %v, golden %v", got.Rect.Size(), want.Rect.Size())
	}
	if p := PSNR(got, want); p < 40 {
		t.Errorf("PSNR %.1f dB against the golden image (want >= 40)", p)
	}
}

// Properties the golden images cannot show by themselves.
func TestBreadthSemantics(t *testing.T) {
	apply := func(chain string, m *image.NRGBA) *image.NRGBA {
		t.Helper()
		ch, err := grammar.ParseChain(chain)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Apply(&codec.Image{Frames: []*image.NRGBA{m}, Delays: []int{0}}, ch, m.Rect.Dx(), m.Rect.Dy(), Limits{})
		if err != nil {
			t.Fatalf("%s: %v", chain, err)
		}
		return out.Frames[0]
	}
	at := func(m *image.NRGBA, x, y int) color.NRGBA {
		i := m.PixOffset(x, y)
		return color.NRGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3]}
	}
	// A red square on white: trim keeps the square, make_transparent clears
	// the white around it but not the white inside it.
	m := solid(100, 80, color.NRGBA{255, 255, 255, 255})
	fillRect(m, image.Rect(20, 10, 60, 50), color.NRGBA{255, 0, 0, 255})
	fillRect(m, image.Rect(35, 25, 45, 35), color.NRGBA{255, 255, 255, 255})
	if got := apply("e_trim", m).Rect.Size(); got != image.Pt(40, 40) {
		t.Errorf("trim: %v", got)
	}
	tr := apply("e_make_transparent", m)
	if at(tr, 0, 0).A != 0 || at(tr, 40, 30).A != 255 || at(tr, 25, 15).A != 255 {
		t.Errorf("make_transparent: corner %v inside %v square %v", at(tr, 0, 0), at(tr, 40, 30), at(tr, 25, 15))
	}
	if tr := apply("e_make_transparent,co_white", m); at(tr, 40, 30).A != 0 {
		t.Error("make_transparent with co_ clears the colour everywhere")
	}
	// Shadow and outer outline enlarge the canvas as their geometry says.
	if got := apply("e_shadow,x_10,y_-4", m).Rect.Size(); got != image.Pt(100+10+2*18, 80+4+2*18) {
		t.Errorf("shadow canvas %v", got)
	}
	if got := apply("e_outline:outer:6", m).Rect.Size(); got != image.Pt(112, 92) {
		t.Errorf("outline canvas %v", got)
	}
	// Region effects do not resize.
	if got := apply("e_pixelate_region,w_10,h_10", m).Rect.Size(); got != image.Pt(100, 80) {
		t.Errorf("pixelate_region resized: %v", got)
	}
	// fl_ignore_aspect_ratio keeps the other side.
	if got := apply("c_scale,w_50,fl_ignore_aspect_ratio", m).Rect.Size(); got != image.Pt(50, 80) {
		t.Errorf("ignore_aspect_ratio: %v", got)
	}
	// Expressions see the current and initial sizes.
	if got := apply("w_50/w_iw_div_4,h_h_add_10", m).Rect.Size(); got != image.Pt(25, 50) {
		t.Errorf("expressions: %v", got)
	}
	// gradient_fade: transparent at the top edge, opaque below the band.
	gf := apply("e_gradient_fade", m)
	if at(gf, 5, 0).A > 10 || at(gf, 5, 79).A != 255 {
		t.Errorf("gradient_fade: top %v bottom %v", at(gf, 5, 0), at(gf, 5, 79))
	}
	// b_auto pads with the border colour.
	pad := apply("c_pad,w_200,h_80,b_auto", m)
	if c := at(pad, 2, 40); c != (color.NRGBA{255, 255, 255, 255}) {
		t.Errorf("b_auto border: %v", c)
	}
	if c := at(apply("c_pad,w_200,h_80,b_auto:border_contrast", m), 2, 40); c != (color.NRGBA{0, 0, 0, 255}) {
		t.Errorf("b_auto:border_contrast: %v", c)
	}
}

func TestOverlayFlags(t *testing.T) {
	red := color.NRGBA{255, 0, 0, 255}
	layers := func(id string) ([]byte, error) { return pngBytes(solid(40, 20, red)), nil }
	run := func(chain string) *image.NRGBA {
		t.Helper()
		ch, err := grammar.ParseChain(chain)
		if err != nil {
			t.Fatal(err)
		}
		base := &codec.Image{Frames: []*image.NRGBA{solid(100, 80, color.NRGBA{0, 0, 255, 255})}, Delays: []int{0}}
		out, err := ApplyWith(base, ch, 100, 80, Limits{}, Env{Layers: layers})
		if err != nil {
			t.Fatalf("%s: %v", chain, err)
		}
		return out.Frames[0]
	}
	isRed := func(m *image.NRGBA, x, y int) bool {
		i := m.PixOffset(x, y)
		return m.Pix[i] == 255 && m.Pix[i+2] == 0
	}
	// fl_relative: w_0.5 is half the base (50 px), centred.
	m := run("l_logo,w_0.5,fl_relative")
	if !isRed(m, 25, 40) || isRed(m, 24, 40) || !isRed(m, 74, 40) || isRed(m, 75, 40) {
		t.Error("fl_relative: the layer is not 50 px wide")
	}
	// Without fl_relative, w_0.5 is half the layer (20 px).
	if m := run("l_logo,w_0.5"); isRed(m, 35, 40) || !isRed(m, 45, 40) {
		t.Error("w_0.5 without fl_relative")
	}
	// An overlay wider than its base extends the canvas unless
	// fl_no_overflow; both spellings of two flags agree.
	if got := run("l_logo,w_150,g_north_west").Rect.Size(); got != image.Pt(150, 80) {
		t.Errorf("overflow canvas %v", got)
	}
	if got := run("l_logo,w_10,g_south_east,x_-20,y_-5").Rect.Size(); got != image.Pt(120, 85) {
		t.Errorf("offset overflow canvas %v", got)
	}
	a := run("l_logo/c_scale,w_150/fl_layer_apply,fl_no_overflow,g_north_west")
	b := run("l_logo/c_scale,w_150/fl_layer_apply.no_overflow,g_north_west")
	if a.Rect.Size() != image.Pt(100, 80) || !bytesEqual(a.Pix, b.Pix) {
		t.Errorf("fl_no_overflow: %v; spellings differ: %v", a.Rect.Size(), !bytesEqual(a.Pix, b.Pix))
	}
	// fl_tiled covers the whole base.
	m = run("l_logo,w_10,fl_tiled")
	for _, p := range []image.Point{{0, 0}, {99, 79}, {50, 3}, {7, 77}} {
		if !isRed(m, p.X, p.Y) {
			t.Errorf("fl_tiled: %v not covered", p)
		}
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }
