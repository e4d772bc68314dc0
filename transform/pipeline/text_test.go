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

// textSize renders a text overlay on a large transparent base and returns
// the overlay's bounding box (its opaque pixels).
func textBox(t *testing.T, chain string) (image.Rectangle, *image.NRGBA) {
	t.Helper()
	ch, err := grammar.ParseChain(chain)
	if err != nil {
		t.Fatal(err)
	}
	base := &codec.Image{Frames: []*image.NRGBA{image.NewNRGBA(image.Rect(0, 0, 1200, 600))}, Delays: []int{0}}
	out, err := ApplyWith(base, ch, 1200, 600, Limits{}, Env{})
	if err != nil {
		t.Fatalf("%s: %v", chain, err)
	}
	m := out.Frames[0]
	box := image.Rectangle{}
	for y := 0; y < m.Rect.Dy(); y++ {
		for x := 0; x < m.Rect.Dx(); x++ {
			if m.Pix[m.PixOffset(x, y)+3] > 0 {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box, m
}

func TestTextStyles(t *testing.T) {
	plain, _ := textBox(t, "l_text:Arial_40:Hello%20world,g_north_west")
	spaced, _ := textBox(t, "l_text:Arial_40_letter_spacing_10:Hello%20world,g_north_west")
	if d := spaced.Dx() - plain.Dx(); d < 95 || d > 105 { // 10 gaps of 10 px
		t.Errorf("letter_spacing_10 widens by %d px, want ~100", d)
	}
	two, _ := textBox(t, "l_text:Arial_40:a%0Ab,g_north_west")
	twoSpaced, _ := textBox(t, "l_text:Arial_40_line_spacing_30:a%0Ab,g_north_west")
	if d := twoSpaced.Dy() - two.Dy(); d != 30 {
		t.Errorf("line_spacing_30 adds %d px", d)
	}
	wrapped, _ := textBox(t, "l_text:Arial_40:one%20two%20three%20four%20five,c_fit,w_200,g_north_west")
	if wrapped.Dx() > 200 || wrapped.Dy() < 100 { // three lines or more
		t.Errorf("c_fit,w_200 text box %v: not wrapped", wrapped)
	}
	_, ml := textBox(t, "l_text:Arial_40:a%0Abbbbbbbb,g_north_west,co_black")
	_, mr := textBox(t, "l_text:Arial_40_right:a%0Abbbbbbbb,g_north_west,co_black")
	if firstInk(ml, 0, 45) >= firstInk(mr, 0, 45) {
		t.Error("right alignment does not move the first line right")
	}
	stroked, sm := textBox(t, "l_text:Arial_40_stroke:Hi,bo_4px_solid_red,co_white,g_north_west")
	bare, _ := textBox(t, "l_text:Arial_40:Hi,g_north_west")
	if stroked.Dx() < bare.Dx()+6 {
		t.Errorf("stroke: %v vs %v", stroked, bare)
	}
	reds := 0
	for i := 0; i < len(sm.Pix); i += 4 {
		if sm.Pix[i] == 255 && sm.Pix[i+1] == 0 && sm.Pix[i+3] == 255 {
			reds++
		}
	}
	if reds < 100 {
		t.Errorf("stroke: %d red pixels", reds)
	}
	under, _ := textBox(t, "l_text:Arial_40_underline:ace,g_north_west")
	noUnder, _ := textBox(t, "l_text:Arial_40:ace,g_north_west")
	if under.Dy() <= noUnder.Dy() {
		t.Errorf("underline: %v vs %v", under, noUnder)
	}
	ch, _ := grammar.ParseChain("l_text:Arial_40_wobbly:x")
	base := &codec.Image{Frames: []*image.NRGBA{solid(10, 10, color.NRGBA{A: 255})}, Delays: []int{0}}
	if _, err := ApplyWith(base, ch, 10, 10, Limits{}, Env{}); err == nil || err.Error() != "Invalid text style token: wobbly" {
		t.Errorf("unknown style token: %v", err)
	}
}

// firstInk is the x of the first opaque pixel of the row band [y0, y1).
func firstInk(m *image.NRGBA, y0, y1 int) int {
	for x := 0; x < m.Rect.Dx(); x++ {
		for y := y0; y < y1; y++ {
			if m.Pix[m.PixOffset(x, y)+3] > 0 {
				return x
			}
		}
	}
	return -1
}

// Families map to installed fonts (DejaVu here, Liberation where
// installed) and fall back to the Go fonts.
func TestFontFamilies(t *testing.T) {
	if _, err := os.Stat(filepath.Join("/usr/share/fonts/truetype/dejavu", "DejaVuSerif.ttf")); err != nil {
		t.Skip("fonts-dejavu is not installed")
	}
	_, sys, _ := findFont("Times", false, false)
	_, gofont, _ := findFont("NoSuchFamily", false, true)
	if !sys || gofont {
		t.Errorf("Times from the system: %v; unknown family from the system: %v", sys, gofont)
	}
	_, serif := textBox(t, "l_text:Times_40:Hamburg,g_north_west")
	_, sans := textBox(t, "l_text:Arial_40:Hamburg,g_north_west")
	if string(serif.Pix) == string(sans.Pix) {
		t.Error("serif and sans render the same")
	}
}
