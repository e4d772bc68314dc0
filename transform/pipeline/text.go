package pipeline

import (
	"image"
	"image/color"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// The Go fonts stand in for every family: sans-serif regular, bold,
// italic and bold italic, and a monospace for families that ask for one.
var (
	fontsOnce sync.Once
	fonts     map[string]*opentype.Font
	fontsErr  error
)

func goFont(name string) (*opentype.Font, error) {
	fontsOnce.Do(func() {
		fonts = map[string]*opentype.Font{}
		for n, ttf := range map[string][]byte{"regular": goregular.TTF, "bold": gobold.TTF, "italic": goitalic.TTF,
			"bolditalic": gobolditalic.TTF, "mono": gomono.TTF} {
			f, err := opentype.Parse(ttf)
			if err != nil {
				fontsErr = err
				return
			}
			fonts[n] = f
		}
	})
	return fonts[name], fontsErr
}

// textLayer renders l_text:<family>_<size>[_bold][_italic]...:<text> in col
// on a transparent image just large enough. The text is URL-unescaped once
// more (Cloudinary's URLs double-escape commas and slashes in it); %0A
// starts a new line.
func textLayer(spec string, col color.NRGBA, l Limits) (*image.NRGBA, error) {
	style, text, _ := strings.Cut(strings.TrimPrefix(spec, "text:"), ":")
	if t, err := url.PathUnescape(text); err == nil {
		text = t
	}
	tokens := strings.Split(style, "_")
	if len(tokens) < 2 {
		return nil, &grammar.Error{Msg: "Text overlay needs a font family and size, e.g. l_text:Arial_40:Hello"}
	}
	size, err := strconv.Atoi(tokens[1])
	if err != nil || size < 1 || size > 1000 {
		return nil, &grammar.Error{Msg: "Invalid text overlay size: " + tokens[1]}
	}
	name := "regular"
	bold, italic := false, false
	for _, t := range tokens[2:] {
		bold = bold || t == "bold"
		italic = italic || t == "italic"
	}
	switch family := strings.ToLower(tokens[0]); {
	case strings.Contains(family, "mono") || strings.Contains(family, "courier") || strings.Contains(family, "consol"):
		name = "mono"
	case bold && italic:
		name = "bolditalic"
	case bold:
		name = "bold"
	case italic:
		name = "italic"
	}
	f, err := goFont(name)
	if err != nil {
		return nil, err
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: float64(size), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, err
	}
	defer face.Close()
	lines := strings.Split(text, "\n")
	m := face.Metrics()
	lineH := m.Height.Ceil()
	w := 1
	for _, ln := range lines {
		w = max(w, font.MeasureString(face, ln).Ceil())
	}
	h := lineH*(len(lines)-1) + (m.Ascent + m.Descent).Ceil()
	if err := codec.CheckPixels("text overlay", w, h, l.output()); err != nil {
		return nil, err
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	d := font.Drawer{Dst: img, Src: image.NewUniform(col), Face: face}
	for i, ln := range lines {
		d.Dot = fixed.Point26_6{X: 0, Y: m.Ascent + fixed.I(i*lineH)}
		d.DrawString(ln)
	}
	return img, nil
}
