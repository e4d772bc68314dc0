package pipeline

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"

	"github.com/disintegration/imaging"
	"github.com/edgepix/edgepix/transform/grammar"
)

// imagingColor is the colour type AdjustFunc hands to its callback.
type imagingColor = color.NRGBA

// applyAngles runs a_ steps in order: degrees clockwise (right angles are
// exact; others enlarge the canvas with transparency), hflip and vflip.
// auto_right/auto_left are handled before resizing; exif and ignore concern
// decoding.
func applyAngles(m *image.NRGBA, angles []string) *image.NRGBA {
	for _, a := range angles {
		switch a {
		case "hflip":
			m = imaging.FlipH(m)
		case "vflip":
			m = imaging.FlipV(m)
		case "auto_right", "auto_left", "exif", "ignore":
		default:
			deg, err := strconv.ParseFloat(a, 64)
			if err != nil {
				continue
			}
			deg = math.Mod(math.Mod(deg, 360)+360, 360)
			switch deg {
			case 0:
			case 90:
				m = imaging.Rotate270(m) // imaging turns counter-clockwise
			case 180:
				m = imaging.Rotate180(m)
			case 270:
				m = imaging.Rotate90(m)
			default:
				m = imaging.Rotate(m, -deg, color.NRGBA{})
			}
		}
	}
	return m
}

// applyRadius rounds corners (r_N, r_a:b[:c[:d]]) or cuts an ellipse
// (r_max), making the outside transparent with anti-aliased edges.
func applyRadius(m *image.NRGBA, r *grammar.Radius) *image.NRGBA {
	out := imaging.Clone(m)
	W, H := out.Rect.Dx(), out.Rect.Dy()
	var cover func(x, y int) float64
	if r.Max {
		rx, ry := float64(W)/2, float64(H)/2
		cover = func(x, y int) float64 {
			dx, dy := (float64(x)+0.5-rx)/rx, (float64(y)+0.5-ry)/ry
			d := (math.Hypot(dx, dy) - 1) * math.Min(rx, ry)
			return math.Min(math.Max(0.5-d, 0), 1)
		}
	} else {
		var tl, tr, br, bl int
		c := r.Corners
		switch len(c) {
		case 1:
			tl, tr, br, bl = c[0], c[0], c[0], c[0]
		case 2:
			tl, br, tr, bl = c[0], c[0], c[1], c[1]
		case 3:
			tl, tr, bl, br = c[0], c[1], c[1], c[2]
		case 4:
			tl, tr, br, bl = c[0], c[1], c[2], c[3]
		}
		lim := min(W, H) / 2
		corner := func(x, y, rad int, cx, cy float64) float64 {
			rad = min(rad, lim)
			if rad == 0 {
				return 1
			}
			d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy) - float64(rad)
			return math.Min(math.Max(0.5-d, 0), 1)
		}
		cover = func(x, y int) float64 {
			switch {
			case x < min(tl, lim) && y < min(tl, lim):
				return corner(x, y, tl, float64(min(tl, lim)), float64(min(tl, lim)))
			case x >= W-min(tr, lim) && y < min(tr, lim):
				return corner(x, y, tr, float64(W-min(tr, lim)), float64(min(tr, lim)))
			case x >= W-min(br, lim) && y >= H-min(br, lim):
				return corner(x, y, br, float64(W-min(br, lim)), float64(H-min(br, lim)))
			case x < min(bl, lim) && y >= H-min(bl, lim):
				return corner(x, y, bl, float64(min(bl, lim)), float64(H-min(bl, lim)))
			}
			return 1
		}
	}
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			if a := cover(x, y); a < 1 {
				p := out.Pix[y*out.Stride+x*4+3:]
				p[0] = uint8(float64(p[0]) * a)
			}
		}
	}
	return out
}

// applyBorder adds a solid border of the given width around the image.
func applyBorder(m *image.NRGBA, b *grammar.Border) *image.NRGBA {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	out := imaging.New(W+2*b.Width, H+2*b.Width, b.Color.NRGBA)
	draw.Draw(out, image.Rect(b.Width, b.Width, b.Width+W, b.Width+H), m, image.Point{}, draw.Over)
	return out
}

// applyOpacity scales alpha by o/100.
func applyOpacity(m *image.NRGBA, o int) *image.NRGBA {
	out := imaging.Clone(m)
	for i := 3; i < len(out.Pix); i += 4 {
		out.Pix[i] = uint8(int(out.Pix[i]) * o / 100)
	}
	return out
}

// applyBackground fills transparent areas with a colour.
func applyBackground(m *image.NRGBA, c color.NRGBA) *image.NRGBA {
	out := imaging.New(m.Rect.Dx(), m.Rect.Dy(), c)
	draw.Draw(out, out.Rect, m, m.Rect.Min, draw.Over)
	return out
}

// grownSize is the size a component's effect (shadow, outline), angles
// and border give a w×h frame
// (arbitrary angles rounded up), so that it can be checked before any of
// them allocates.
func grownSize(c *grammar.Component, w, h int) (int, int) {
	if c.Effect != nil {
		switch c.Effect.Name {
		case "shadow":
			w, h, _, _, _ = shadowGeometry(c, w, h)
		case "outline":
			m := outlineMargin(c.Effect)
			w, h = w+2*m, h+2*m
		}
	}
	for _, a := range c.Angles {
		deg, err := strconv.ParseFloat(a, 64)
		if err != nil {
			continue
		}
		switch deg = math.Mod(math.Mod(deg, 360)+360, 360); deg {
		case 0, 180:
		case 90, 270:
			w, h = h, w
		default:
			sin, cos := math.Sincos(deg * math.Pi / 180)
			fw, fh := float64(w), float64(h)
			w, h = int(math.Ceil(fw*math.Abs(cos)+fh*math.Abs(sin)))+2, int(math.Ceil(fw*math.Abs(sin)+fh*math.Abs(cos)))+2
		}
	}
	if c.Border != nil {
		w, h = w+2*c.Border.Width, h+2*c.Border.Width
	}
	return w, h
}
