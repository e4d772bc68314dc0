package pipeline

import (
	"image"
	"image/color"
	"sort"

	"github.com/edgepix/edgepix/transform/grammar"
)

// autoBackground is the w×h pad background b_auto chooses from m: the most
// frequent colour of its border (border modes) or of the whole image
// (predominant), or the colour contrasting with it (_contrast); gradients
// blend the N most frequent colours, most frequent first, in their
// direction. A palette replaces each colour with its nearest palette entry.
func autoBackground(m *image.NRGBA, b *grammar.AutoBackground, w, h int) *image.NRGBA {
	n := 1
	if b.Gradient() {
		n = b.N
	}
	cols := frequentColors(m, !b.Predominant(), n)
	for i, c := range cols {
		if b.Contrast() {
			c = contrasting(c)
		}
		if len(b.Palette) > 0 {
			c = nearest(c, b.Palette)
		}
		cols[i] = c
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	if len(cols) == 1 {
		fillRect(out, out.Rect, cols[0])
		return out
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var t float64
			fx, fy := float64(x)/float64(max(w-1, 1)), float64(y)/float64(max(h-1, 1))
			switch b.Direction {
			case "vertical":
				t = fy
			case "diagonal_desc":
				t = (fx + fy) / 2
			case "diagonal_asc":
				t = (fx + 1 - fy) / 2
			default:
				t = fx
			}
			c := gradientAt(cols, t)
			i := y*out.Stride + x*4
			out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = c.R, c.G, c.B, 255
		}
	}
	return out
}

// gradientAt is the colour at t (0..1) of colours spread evenly.
func gradientAt(cols []color.NRGBA, t float64) color.NRGBA {
	pos := t * float64(len(cols)-1)
	i := min(int(pos), len(cols)-2)
	f := pos - float64(i)
	a, b := cols[i], cols[i+1]
	mix := func(x, y uint8) uint8 { return clamp(float64(x) + (float64(y)-float64(x))*f) }
	return color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

func fillRect(m *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
		}
	}
}

// frequentColors returns up to n colours, most frequent first, of m's
// border (2 px wide) or of all of m sampled on a grid of at most 256×256
// points: pixels fall into 32 levels a channel and each bin gives the mean
// of its pixels. Transparent pixels are skipped; white when none is left.
func frequentColors(m *image.NRGBA, border bool, n int) []color.NRGBA {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	type bin struct{ n, r, g, b int }
	bins := map[int]*bin{}
	add := func(x, y int) {
		p := m.Pix[m.PixOffset(m.Rect.Min.X+x, m.Rect.Min.Y+y):]
		if p[3] < 128 {
			return
		}
		k := int(p[0]>>3)<<10 | int(p[1]>>3)<<5 | int(p[2]>>3)
		e := bins[k]
		if e == nil {
			e = &bin{}
			bins[k] = e
		}
		e.n++
		e.r += int(p[0])
		e.g += int(p[1])
		e.b += int(p[2])
	}
	if border {
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				if x < 2 || y < 2 || x >= W-2 || y >= H-2 {
					add(x, y)
				} else if x == 2 {
					x = max(W-3, x) // skip the inside
				}
			}
		}
	} else {
		sx, sy := max(W/256, 1), max(H/256, 1)
		for y := 0; y < H; y += sy {
			for x := 0; x < W; x += sx {
				add(x, y)
			}
		}
	}
	list := make([]*bin, 0, len(bins))
	keys := make(map[*bin]int, len(bins))
	for k, b := range bins {
		list = append(list, b)
		keys[b] = k
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return keys[list[i]] < keys[list[j]]
	})
	var out []color.NRGBA
	for _, b := range list[:min(n, len(list))] {
		out = append(out, color.NRGBA{uint8(b.r / b.n), uint8(b.g / b.n), uint8(b.b / b.n), 255})
	}
	for len(out) < n { // fewer colours than asked: repeat the last (white if none)
		c := color.NRGBA{255, 255, 255, 255}
		if len(out) > 0 {
			c = out[len(out)-1]
		}
		out = append(out, c)
	}
	return out
}

// contrasting is c's complement, or black or white when the complement is
// too close to c in luminance to stand out.
func contrasting(c color.NRGBA) color.NRGBA {
	comp := color.NRGBA{255 - c.R, 255 - c.G, 255 - c.B, 255}
	if d := luma(comp) - luma(c); d > 80 || d < -80 {
		return comp
	}
	if luma(c) > 127 {
		return color.NRGBA{0, 0, 0, 255}
	}
	return color.NRGBA{255, 255, 255, 255}
}

func luma(c color.NRGBA) float64 {
	return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)
}

// nearest is the palette colour closest to c (squared RGB distance).
func nearest(c color.NRGBA, pal []grammar.Color) color.NRGBA {
	best, bd := pal[0].NRGBA, -1
	for _, p := range pal {
		dr, dg, db := int(c.R)-int(p.R), int(c.G)-int(p.G), int(c.B)-int(p.B)
		if d := dr*dr + dg*dg + db*db; bd < 0 || d < bd {
			best, bd = p.NRGBA, d
		}
	}
	best.A = 255
	return best
}
