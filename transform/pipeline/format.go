package pipeline

import (
	"image"
	"math"
	"strings"

	"github.com/edgepix/edgepix/transform/codec"
)

// Negotiate picks the f_auto output format for an accept class (see
// grammar.AcceptClass): animations become WebP where accepted, else GIF;
// images with transparency become WebP where accepted, else PNG; opaque
// stills become AVIF, then WebP, then JPEG.
func Negotiate(class string, animated, alpha bool) codec.Format {
	avif := strings.Contains(class, "avif")
	webp := strings.Contains(class, "webp")
	switch {
	case animated && webp:
		return codec.WebP
	case animated:
		return codec.GIF
	case alpha && webp:
		return codec.WebP
	case alpha:
		return codec.PNG
	case avif:
		return codec.AVIF
	case webp:
		return codec.WebP
	}
	return codec.JPEG
}

// AutoQuality implements q_auto. The level sets a base JPEG-scale quality
// (best 90, good 80, eco 70, low 60), adjusted by content: smooth images
// (low mean gradient, where banding and blocking show) get +8, busy ones
// (high gradient, which masks artefacts) get -7, and small outputs (under
// 150,000 px, usually viewed closely as thumbnails) get +5. AVIF and WebP
// reach the same visual quality at lower settings, so their values are
// lowered by 20 and 5. The result is clamped to 30..95.
func AutoQuality(level string, f codec.Format, m *image.NRGBA) int {
	q := map[string]int{"best": 90, "good": 80, "eco": 70, "low": 60}[level]
	if q == 0 {
		q = 80
	}
	g := meanGradient(m)
	switch {
	case g < 4:
		q += 8
	case g > 20:
		q -= 7
	}
	if m.Rect.Dx()*m.Rect.Dy() < 150_000 {
		q += 5
	}
	switch f {
	case codec.AVIF:
		q -= 20
	case codec.WebP:
		q -= 5
	}
	return min(max(q, 30), 95)
}

// meanGradient is the mean absolute luminance difference between
// neighbouring pixels, sampled on a grid of at most 256×256 points.
func meanGradient(m *image.NRGBA) float64 {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	if W < 2 || H < 2 {
		return 0
	}
	step := max(int(math.Ceil(float64(max(W, H))/256)), 1)
	lum := func(x, y int) float64 {
		p := m.Pix[y*m.Stride+x*4:]
		return 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	var sum float64
	n := 0
	for y := 0; y+1 < H; y += step {
		for x := 0; x+1 < W; x += step {
			l := lum(x, y)
			sum += math.Abs(lum(x+1, y)-l) + math.Abs(lum(x, y+1)-l)
			n += 2
		}
	}
	return sum / float64(n)
}
