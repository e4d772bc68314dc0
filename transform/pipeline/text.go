package pipeline

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// textStyle is the style part of l_text:<family>_<size>[_<token>…]:<text>.
type textStyle struct {
	family                          string
	size                            int
	bold, italic, underline, strike bool
	stroke                          bool
	align                           string  // left (start, default), center, right (end), justify
	letterSpacing, lineSpacing      float64 // extra pixels between letters and between lines
	hinting                         font.Hinting
}

// parseTextStyle reads Cloudinary's style tokens: weight (bold, normal,
// thin, light), style (italic, normal), decoration (underline,
// strikethrough), alignment (left, center, right, start, end, justify),
// stroke, letter_spacing_N, line_spacing_N, antialias_* and hinting_*.
// An unknown token is an error.
func parseTextStyle(style string) (textStyle, error) {
	tokens := strings.Split(style, "_")
	if len(tokens) < 2 {
		return textStyle{}, &grammar.Error{Msg: "Text overlay needs a font family and size, e.g. l_text:Arial_40:Hello"}
	}
	s := textStyle{family: tokens[0], align: "left", hinting: font.HintingFull}
	if f, err := url.PathUnescape(s.family); err == nil {
		s.family = f
	}
	size, err := strconv.Atoi(tokens[1])
	if err != nil || size < 1 || size > 1000 {
		return textStyle{}, &grammar.Error{Msg: "Invalid text overlay size: " + tokens[1]}
	}
	s.size = size
	for i := 2; i < len(tokens); i++ {
		t := tokens[i]
		switch t {
		case "bold", "semibold", "extrabold", "black", "heavy":
			s.bold = true
		case "normal", "thin", "light", "extralight", "medium", "regular", "none", "antialias", "hinting":
			if t == "antialias" || t == "hinting" { // antialias_<mode>, hinting_<mode>
				if i+1 >= len(tokens) {
					return textStyle{}, &grammar.Error{Msg: "Invalid text style: " + style}
				}
				i++
				if t == "hinting" && tokens[i] == "none" {
					s.hinting = font.HintingNone
				}
			}
		case "italic", "oblique":
			s.italic = true
		case "underline":
			s.underline = true
		case "strikethrough":
			s.strike = true
		case "left", "start":
			s.align = "left"
		case "center", "right", "justify":
			s.align = t
		case "end":
			s.align = "right"
		case "stroke":
			s.stroke = true
		case "letter", "line":
			if i+2 >= len(tokens) || tokens[i+1] != "spacing" {
				return textStyle{}, &grammar.Error{Msg: "Invalid text style: " + style}
			}
			v, err := strconv.ParseFloat(tokens[i+2], 64)
			if err != nil || math.Abs(v) > 1000 || math.IsNaN(v) {
				return textStyle{}, &grammar.Error{Msg: "Invalid text spacing: " + tokens[i+2]}
			}
			if t == "letter" {
				s.letterSpacing = v
			} else {
				s.lineSpacing = v
			}
			i += 2
		default:
			return textStyle{}, &grammar.Error{Msg: "Invalid text style token: " + t}
		}
	}
	return s, nil
}

// textLayer renders l_text:<style>:<text> in col on a transparent image
// just large enough. The text is URL-unescaped once more (Cloudinary's
// URLs double-escape commas and slashes in it); %0A starts a new line.
// The layer's component gives c_fit,w_N (wrap words at N px) and, with
// the stroke style, bo_ (the stroke's width and colour; 1px black
// without one).
func textLayer(spec string, col color.NRGBA, c *grammar.Component, l Limits) (*image.NRGBA, error) {
	styleSpec, text, _ := strings.Cut(strings.TrimPrefix(spec, "text:"), ":")
	if t, err := url.PathUnescape(text); err == nil {
		text = t
	}
	st, err := parseTextStyle(styleSpec)
	if err != nil {
		return nil, err
	}
	f, _, err := findFont(st.family, st.bold, st.italic)
	if err != nil {
		return nil, err
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: float64(st.size), DPI: 72, Hinting: st.hinting})
	if err != nil {
		return nil, err
	}
	defer face.Close()
	wrap := 0
	if c.Crop == "fit" && c.Width.Set && !c.Width.Relative {
		wrap = int(c.Width.Value)
	}
	lines := layoutLines(face, text, st.letterSpacing, wrap)
	m := face.Metrics()
	lineH := float64(m.Height.Ceil()) + st.lineSpacing
	boxW := 1
	for _, ln := range lines {
		boxW = max(boxW, ln.width)
	}
	if wrap > 0 && st.align != "left" {
		boxW = max(boxW, wrap)
	}
	stroke, strokeCol := 0, color.NRGBA{0, 0, 0, 255}
	if st.stroke {
		stroke = 1
		if c.Border != nil {
			stroke, strokeCol = c.Border.Width, c.Border.Color.NRGBA
		}
	}
	boxH := int(math.Ceil(lineH*float64(len(lines)-1))) + (m.Ascent + m.Descent).Ceil()
	w, h := boxW+2*stroke, max(boxH, 1)+2*stroke
	if err := codec.CheckPixels("text overlay", w, h, l.output()); err != nil {
		return nil, err
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	src := image.NewUniform(col)
	if stroke > 0 {
		src = image.NewUniform(color.NRGBA{0, 0, 0, 255}) // a mask first: coloured below
	}
	for i, ln := range lines {
		y := float64(stroke) + float64(m.Ascent.Ceil()) + float64(i)*lineH
		x, gap := float64(stroke), st.letterSpacing
		switch st.align {
		case "center":
			x += float64(boxW-ln.width) / 2
		case "right":
			x += float64(boxW - ln.width)
		}
		spaceExtra := 0.0
		if st.align == "justify" && i < len(lines)-1 && ln.spaces > 0 && wrap > 0 {
			spaceExtra = float64(wrap-ln.width) / float64(ln.spaces)
		}
		d := font.Drawer{Dst: img, Src: src, Face: face}
		drawRunes(&d, ln.text, x, y, gap, spaceExtra)
		thick := max(st.size/15, 1)
		if st.underline {
			fillRect(img, image.Rect(int(x), int(y)+max(st.size/10, 1), int(x)+ln.width, int(y)+max(st.size/10, 1)+thick), color.NRGBA{0, 0, 0, 255})
		}
		if st.strike {
			sy := int(y) - int(float64(m.Ascent.Ceil())*0.3)
			fillRect(img, image.Rect(int(x), sy, int(x)+ln.width, sy+thick), color.NRGBA{0, 0, 0, 255})
		}
	}
	if stroke == 0 {
		if st.underline || st.strike { // the decorations were drawn black: recolour
			recolor(img, col)
		}
		return img, nil
	}
	return strokeText(img, col, strokeCol, stroke), nil
}

// recolor paints every pixel of m in c, keeping its coverage.
func recolor(m *image.NRGBA, c color.NRGBA) {
	for i := 0; i+3 < len(m.Pix); i += 4 {
		if a := m.Pix[i+3]; a > 0 {
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, uint8(int(a)*int(c.A)/255)
		}
	}
}

// strokeText turns a text mask into text in col outlined by width px of
// strokeCol.
func strokeText(mask *image.NRGBA, col, strokeCol color.NRGBA, width int) *image.NRGBA {
	W, H := mask.Rect.Dx(), mask.Rect.Dy()
	alpha := make([]uint8, W*H)
	for i := range alpha {
		alpha[i] = mask.Pix[i*4+3]
	}
	grown := dilate(alpha, W, H, width)
	out := image.NewNRGBA(mask.Rect)
	for i, a := range grown {
		p := out.Pix[i*4:]
		p[0], p[1], p[2], p[3] = strokeCol.R, strokeCol.G, strokeCol.B, uint8(int(a)*int(strokeCol.A)/255)
	}
	recolor(mask, col)
	draw.Draw(out, out.Rect, mask, image.Point{}, draw.Over)
	return out
}

// textLine is one laid-out line.
type textLine struct {
	text   string
	width  int
	spaces int
}

// layoutLines splits text at newlines and, when wrap > 0, between words
// so that no line is wider than wrap (a single longer word keeps its
// line).
func layoutLines(face font.Face, text string, spacing float64, wrap int) []textLine {
	var out []textLine
	mk := func(s string) textLine {
		return textLine{text: s, width: measure(face, s, spacing), spaces: strings.Count(s, " ")}
	}
	for _, para := range strings.Split(text, "\n") {
		if wrap <= 0 {
			out = append(out, mk(para))
			continue
		}
		cur := ""
		for _, word := range strings.Fields(para) {
			next := word
			if cur != "" {
				next = cur + " " + word
			}
			if cur != "" && measure(face, next, spacing) > wrap {
				out = append(out, mk(cur))
				next = word
			}
			cur = next
		}
		out = append(out, mk(cur))
	}
	return out
}

// measure is the advance of s with spacing px added between letters.
func measure(face font.Face, s string, spacing float64) int {
	n := len([]rune(s))
	w := fixed.I(0)
	prev := rune(-1)
	for _, r := range s {
		if prev >= 0 {
			w += face.Kern(prev, r)
		}
		a, _ := face.GlyphAdvance(r)
		w += a
		prev = r
	}
	return max(int(math.Ceil(float64(w)/64+spacing*float64(max(n-1, 0)))), 0)
}

// drawRunes draws s from (x, y) (baseline) with spacing between letters
// and spaceExtra added at each space (justify).
func drawRunes(d *font.Drawer, s string, x, y, spacing, spaceExtra float64) {
	pos := x
	prev := rune(-1)
	for _, r := range s {
		if prev >= 0 {
			pos += float64(d.Face.Kern(prev, r)) / 64
		}
		d.Dot = fixed.Point26_6{X: fixed.Int26_6(pos * 64), Y: fixed.Int26_6(y * 64)}
		d.DrawString(string(r))
		a, _ := d.Face.GlyphAdvance(r)
		pos += float64(a)/64 + spacing
		if r == ' ' {
			pos += spaceExtra
		}
		prev = r
	}
}
