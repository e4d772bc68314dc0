package pipeline

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/disintegration/imaging"
	"github.com/edgepix/edgepix/transform/grammar"
)

// shadowGeometry is the canvas e_shadow needs for a w×h image: the shadow
// is offset by x, y (5, 5 by default) and blurred with σ = 2 + lvl/10, so
// the canvas holds the image, the offset and 3σ of blur on every side.
// It returns the canvas size, where the image goes and where the shadow
// goes.
func shadowGeometry(c *grammar.Component, w, h int) (cw, ch int, img, sh image.Point, sigma float64) {
	sigma = 2 + c.Effect.LevelOr()/10
	dx, dy := 5, 5
	if c.X.Set {
		dx = int(math.Round(c.X.Resolve(w)))
	}
	if c.Y.Set {
		dy = int(math.Round(c.Y.Resolve(h)))
	}
	m := int(math.Ceil(3 * sigma))
	img = image.Pt(m+max(-dx, 0), m+max(-dy, 0))
	sh = img.Add(image.Pt(dx, dy))
	return w + abs(dx) + 2*m, h + abs(dy) + 2*m, img, sh, sigma
}

// shadow casts the image's shape (its alpha) in co_ (grey #999999 by
// default) with opacity lvl% (40), offset by x, y, blurred, beneath it,
// on a transparent canvas enlarged to hold it.
func shadow(ctx context.Context, m *image.NRGBA, c *grammar.Component, lvl float64) (*image.NRGBA, error) {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	cw, ch, ip, sp, sigma := shadowGeometry(c, W, H)
	col := color.NRGBA{0x99, 0x99, 0x99, 255}
	if c.Color != nil {
		col = c.Color.NRGBA
	}
	mask := image.NewNRGBA(image.Rect(0, 0, cw, ch))
	for y := 0; y < H; y++ {
		src := m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y):]
		dst := mask.Pix[(sp.Y+y)*mask.Stride+sp.X*4:]
		for x := 0; x < W; x++ {
			dst[x*4], dst[x*4+1], dst[x*4+2] = col.R, col.G, col.B
			dst[x*4+3] = uint8(float64(src[x*4+3]) * lvl / 100 * float64(col.A) / 255)
		}
	}
	out, err := gaussianBlur(ctx, mask, sigma)
	if err != nil {
		return nil, err
	}
	draw.Draw(out, image.Rectangle{Min: ip, Max: ip.Add(image.Pt(W, H))}, m, m.Rect.Min, draw.Over)
	return out, nil
}

// outlineMargin is how far an outline reaches outside the image (outer
// modes): its width and 3σ of its blur (σ = blur/20, as e_blur).
func outlineMargin(e *grammar.Effect) int {
	switch e.Mode {
	case "inner", "inner_fill":
		return 0
	}
	return int(e.Width) + int(math.Ceil(3*e.Blur/20))
}

// outline draws a line of co_ (black) around the shape given by the alpha
// channel: outside it (outer), inside its edge (inner) or both (no mode),
// Width px thick (5) and blurred by Blur (0). The _fill modes, and fill,
// paint the whole shape in the colour too, under the image (outer_fill,
// fill) or over it (inner_fill). Outer outlines enlarge the canvas.
func outline(ctx context.Context, m *image.NRGBA, c *grammar.Component, _ float64) (*image.NRGBA, error) {
	e := c.Effect
	col := color.NRGBA{0, 0, 0, 255}
	if c.Color != nil {
		col = c.Color.NRGBA
	}
	mg := outlineMargin(e)
	W, H := m.Rect.Dx()+2*mg, m.Rect.Dy()+2*mg
	base := image.NewNRGBA(image.Rect(0, 0, W, H))
	draw.Draw(base, image.Rect(mg, mg, W-mg, H-mg), m, m.Rect.Min, draw.Src)
	alpha := make([]uint8, W*H)
	for i := range alpha {
		alpha[i] = base.Pix[i*4+3]
	}
	r := int(e.Width)
	var lo, hi []uint8 // the band is hi − lo
	switch e.Mode {
	case "inner":
		lo, hi = erode(alpha, W, H, r), alpha
	case "outer":
		lo, hi = alpha, dilate(alpha, W, H, r)
	case "inner_fill":
		lo, hi = make([]uint8, W*H), alpha
	case "outer_fill", "fill":
		lo, hi = make([]uint8, W*H), dilate(alpha, W, H, r)
	default:
		lo, hi = erode(alpha, W, H, r), dilate(alpha, W, H, r)
	}
	band := image.NewNRGBA(base.Rect)
	for i := range alpha {
		if v := int(hi[i]) - int(lo[i]); v > 0 {
			p := band.Pix[i*4:]
			p[0], p[1], p[2], p[3] = col.R, col.G, col.B, uint8(v*int(col.A)/255)
		}
	}
	if e.Blur > 0 {
		var err error
		if band, err = gaussianBlur(ctx, band, e.Blur/20); err != nil {
			return nil, err
		}
	}
	switch e.Mode {
	case "inner", "inner_fill", "":
		if e.Mode != "" {
			draw.Draw(base, base.Rect, band, image.Point{}, draw.Over)
			return base, nil
		}
		// both: the outer part beneath, the inner part over the image
		draw.Draw(band, band.Rect, base, image.Point{}, draw.Over)
		inner := erode(alpha, W, H, r)
		for i := range alpha {
			if v := int(alpha[i]) - int(inner[i]); v > 0 {
				p := band.Pix[i*4:]
				a := float64(v) / 255
				p[0] = clamp(float64(p[0]) + (float64(col.R)-float64(p[0]))*a)
				p[1] = clamp(float64(p[1]) + (float64(col.G)-float64(p[1]))*a)
				p[2] = clamp(float64(p[2]) + (float64(col.B)-float64(p[2]))*a)
			}
		}
		return band, nil
	}
	draw.Draw(band, band.Rect, base, image.Point{}, draw.Over)
	return band, nil
}

// dilate is a square max filter of radius r over a W×H plane (separable,
// a sliding window maximum, O(W×H)); erode is its dual.
func dilate(a []uint8, W, H, r int) []uint8 {
	tmp := make([]uint8, len(a))
	out := make([]uint8, len(a))
	line := make([]uint8, max(W, H))
	res := make([]uint8, max(W, H))
	for y := 0; y < H; y++ {
		slidingMax(a[y*W:(y+1)*W], res[:W], r)
		copy(tmp[y*W:], res[:W])
	}
	for x := 0; x < W; x++ {
		for y := 0; y < H; y++ {
			line[y] = tmp[y*W+x]
		}
		slidingMax(line[:H], res[:H], r)
		for y := 0; y < H; y++ {
			out[y*W+x] = res[y]
		}
	}
	return out
}

func erode(a []uint8, W, H, r int) []uint8 {
	inv := make([]uint8, len(a))
	for i, v := range a {
		inv[i] = 255 - v
	}
	d := dilate(inv, W, H, r)
	for i, v := range d {
		d[i] = 255 - v
	}
	return d
}

// slidingMax writes to out[i] the maximum of in[i-r..i+r], with a
// monotonic queue of indices.
func slidingMax(in, out []uint8, r int) {
	n := len(in)
	q := make([]int, 0, 2*r+2)
	next := 0
	for i := 0; i < n; i++ {
		for ; next < n && next <= i+r; next++ {
			for len(q) > 0 && in[q[len(q)-1]] <= in[next] {
				q = q[:len(q)-1]
			}
			q = append(q, next)
		}
		for q[0] < i-r {
			q = q[1:]
		}
		out[i] = in[q[0]]
	}
}

// trim cuts away the border of the colour of the top-left pixel (or the
// override colour): the smallest rectangle that holds every pixel farther
// than lvl% (10) from it. A fully uniform image is kept whole.
func trim(_ context.Context, m *image.NRGBA, c *grammar.Component, lvl float64) (*image.NRGBA, error) {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	corner := m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):]
	ref := color.NRGBA{corner[0], corner[1], corner[2], corner[3]}
	if len(c.Effect.Colors) > 0 {
		ref = c.Effect.Colors[0].Color.NRGBA
	}
	differs := func(x, y int) bool {
		p := m.Pix[m.PixOffset(m.Rect.Min.X+x, m.Rect.Min.Y+y):]
		if ref.A < 128 || p[3] < 128 {
			return (p[3] < 128) != (ref.A < 128)
		}
		return colorDist(p, ref) > lvl
	}
	x0, y0, x1, y1 := W, H, -1, -1
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			if differs(x, y) {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	if x1 < 0 {
		return m, nil
	}
	return imaging.Crop(m, image.Rect(x0, y0, x1+1, y1+1).Add(m.Rect.Min)), nil
}

// gradientFade fades the image into transparency from one edge: y (0.5,
// the top half, by default; negative from the bottom) or x (positive
// from the left, negative from the right), as a fraction of the size
// (below 1) or in pixels. Alpha goes from 0 at the edge to 1 at the end
// of the band as t^(lvl/20): the default strength 20 is linear, higher
// fades more. symmetric (and symmetric_pad) fade the opposite edge too.
func gradientFade(ctx context.Context, m *image.NRGBA, c *grammar.Component, lvl float64) (*image.NRGBA, error) {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	horizontal, amount := false, 0.5
	switch {
	case c.Y.Set:
		amount = c.Y.Value
	case c.X.Set:
		horizontal, amount = true, c.X.Value
	}
	size := H
	if horizontal {
		size = W
	}
	band := math.Abs(amount)
	if band < 1 {
		band *= float64(size)
	}
	band = math.Max(band, 1)
	fromStart := amount >= 0
	sym := c.Effect.Mode != ""
	exp := lvl / 20
	factor := func(d float64) float64 { // d: distance from the faded edge
		if d >= band {
			return 1
		}
		return math.Pow(d/band, exp)
	}
	out := imaging.Clone(m)
	err := parallelRows(ctx, H, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			for x := 0; x < W; x++ {
				pos := float64(y) + 0.5
				if horizontal {
					pos = float64(x) + 0.5
				}
				d := pos
				if !fromStart {
					d = float64(size) - pos
				}
				f := factor(d)
				if sym {
					f = math.Min(factor(pos), factor(float64(size)-pos))
				}
				if f < 1 {
					p := out.Pix[y*out.Stride+x*4+3:]
					p[0] = uint8(float64(p[0]) * f)
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
