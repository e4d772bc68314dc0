package pipeline

import (
	"context"
	"image"
	"image/draw"
	"math"

	"github.com/disintegration/imaging"
	"github.com/edgepix/edgepix/transform/grammar"
)

// unsharpMask adds lvl% (100) of the detail a Gaussian blur (σ 1.5)
// removes: m + k × (m − blur(m)).
func unsharpMask(ctx context.Context, m *image.NRGBA, _ *grammar.Component, lvl float64) (*image.NRGBA, error) {
	src := imaging.Clone(m)
	blurred, err := gaussianBlur(ctx, src, 1.5)
	if err != nil {
		return nil, err
	}
	k := lvl / 100
	W := src.Rect.Dx()
	err = parallelRows(ctx, src.Rect.Dy(), func(lo, hi int) {
		for y := lo; y < hi; y++ {
			s := src.Pix[y*src.Stride:]
			d := blurred.Pix[y*blurred.Stride:]
			for i := 0; i < W*4; i++ {
				if i%4 == 3 {
					d[i] = s[i]
					continue
				}
				d[i] = clamp(float64(s[i]) + k*(float64(s[i])-float64(d[i])))
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return blurred, nil
}

// oilPaint is a Kuwahara filter of radius 1 + lvl/15 (3 at the default
// 30): each pixel takes the mean colour of the least varied (in
// luminance) of the four quadrants around it, which flattens texture into
// strokes and keeps edges. Rows are computed independently from column
// sums, so memory stays a few rows wide.
func oilPaint(ctx context.Context, m *image.NRGBA, _ *grammar.Component, lvl float64) (*image.NRGBA, error) {
	src := imaging.Clone(m)
	W, H := src.Rect.Dx(), src.Rect.Dy()
	r := 1 + int(lvl/15)
	out := image.NewNRGBA(src.Rect)
	err := parallelRows(ctx, H, func(lo, hi int) {
		// per column: sums of R, G, B, A, L, L² over the rows above (top)
		// and below (bottom) the current one, r+1 rows each
		var top, bot [6][]float64
		var ptop, pbot [6][]float64
		for k := range top {
			top[k], bot[k] = make([]float64, W), make([]float64, W)
			ptop[k], pbot[k] = make([]float64, W+1), make([]float64, W+1)
		}
		for y := lo; y < hi; y++ {
			for k := range top {
				clear(top[k])
				clear(bot[k])
			}
			for yy := max(y-r, 0); yy <= min(y+r, H-1); yy++ {
				row := src.Pix[yy*src.Stride:]
				for x := 0; x < W; x++ {
					p := row[x*4 : x*4+4 : x*4+4]
					l := 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
					v := [6]float64{float64(p[0]), float64(p[1]), float64(p[2]), float64(p[3]), l, l * l}
					for k := range v {
						if yy <= y {
							top[k][x] += v[k]
						}
						if yy >= y {
							bot[k][x] += v[k]
						}
					}
				}
			}
			for k := range top {
				for x := 0; x < W; x++ {
					ptop[k][x+1] = ptop[k][x] + top[k][x]
					pbot[k][x+1] = pbot[k][x] + bot[k][x]
				}
			}
			nt, nb := float64(y-max(y-r, 0)+1), float64(min(y+r, H-1)-y+1)
			dst := out.Pix[y*out.Stride:]
			for x := 0; x < W; x++ {
				l0, l1 := max(x-r, 0), x+1
				r0, r1 := x, min(x+r, W-1)+1
				best, bv := 0, math.Inf(1)
				var quads [4]struct {
					p    *[6][]float64
					a, b int
					n    float64
				}
				quads[0].p, quads[0].a, quads[0].b, quads[0].n = &ptop, l0, l1, nt*float64(l1-l0)
				quads[1].p, quads[1].a, quads[1].b, quads[1].n = &ptop, r0, r1, nt*float64(r1-r0)
				quads[2].p, quads[2].a, quads[2].b, quads[2].n = &pbot, l0, l1, nb*float64(l1-l0)
				quads[3].p, quads[3].a, quads[3].b, quads[3].n = &pbot, r0, r1, nb*float64(r1-r0)
				for q, s := range quads {
					mean := (s.p[4][s.b] - s.p[4][s.a]) / s.n
					v := (s.p[5][s.b]-s.p[5][s.a])/s.n - mean*mean
					if v < bv {
						best, bv = q, v
					}
				}
				s := quads[best]
				for k := 0; k < 4; k++ {
					dst[x*4+k] = clamp((s.p[k][s.b] - s.p[k][s.a]) / s.n)
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// cartoonify smooths the image, reduces its colours to 2 + 14 × (100 −
// reduction)/100 levels a channel (grey levels for bw) and draws its edges
// in black: a pixel whose Sobel gradient on the luminance exceeds
// 20 + 2 × (100 − line strength) becomes black.
func cartoonify(ctx context.Context, m *image.NRGBA, c *grammar.Component, lvl float64) (*image.NRGBA, error) {
	smooth, err := gaussianBlur(ctx, imaging.Clone(m), 1)
	if err != nil {
		return nil, err
	}
	W, H := smooth.Rect.Dx(), smooth.Rect.Dy()
	lum := make([]uint8, W*H)
	for i := range lum {
		p := smooth.Pix[i*4:]
		lum[i] = uint8((299*int(p[0]) + 587*int(p[1]) + 114*int(p[2])) / 1000)
	}
	levels := 2 + int(math.Round(14*(100-c.Effect.Width)/100))
	step := 255 / float64(levels-1)
	q := func(v float64) uint8 { return clamp(math.Round(v/step) * step) }
	threshold := 20 + 2*(100-lvl)
	bw := c.Effect.Mode == "bw"
	out := image.NewNRGBA(smooth.Rect)
	err = parallelRows(ctx, H, func(lo, hi int) {
		at := func(x, y int) float64 {
			return float64(lum[min(max(y, 0), H-1)*W+min(max(x, 0), W-1)])
		}
		for y := lo; y < hi; y++ {
			for x := 0; x < W; x++ {
				gx := at(x+1, y-1) + 2*at(x+1, y) + at(x+1, y+1) - at(x-1, y-1) - 2*at(x-1, y) - at(x-1, y+1)
				gy := at(x-1, y+1) + 2*at(x, y+1) + at(x+1, y+1) - at(x-1, y-1) - 2*at(x, y-1) - at(x+1, y-1)
				s := smooth.Pix[y*smooth.Stride+x*4:]
				d := out.Pix[y*out.Stride+x*4:]
				d[3] = s[3]
				switch {
				case math.Hypot(gx, gy) > threshold:
					d[0], d[1], d[2] = 0, 0, 0
				case bw:
					v := q(float64(lum[y*W+x]))
					d[0], d[1], d[2] = v, v, v
				default:
					d[0], d[1], d[2] = q(float64(s[0])), q(float64(s[1])), q(float64(s[2]))
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// region pixelates (pixelate_region, squares of lvl px) or blurs
// (blur_region, as e_blur) the part of the image given by the
// component's w and h (pixels, or fractions of the image) placed by g
// (north_west by default) and x, y; without w and h, the whole image.
func region(ctx context.Context, m *image.NRGBA, c *grammar.Component, lvl float64) (*image.NRGBA, error) {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	rw, rh := W, H
	if c.Width.Set {
		rw = min(max(int(math.Round(c.Width.Resolve(W))), 1), W)
	}
	if c.Height.Set {
		rh = min(max(int(math.Round(c.Height.Resolve(H))), 1), H)
	}
	g := c.Gravity
	if g == "" || g == "auto" {
		g = "north_west"
	}
	pos := place(g, int(math.Round(c.X.Resolve(W))), int(math.Round(c.Y.Resolve(H))), rw, rh, W, H)
	r := image.Rectangle{Min: pos, Max: pos.Add(image.Pt(rw, rh))}
	part := imaging.Crop(m, r.Add(m.Rect.Min))
	var err error
	if c.Effect.Name == "pixelate_region" {
		part, err = pixelate(ctx, part, int(lvl))
	} else {
		part, err = gaussianBlur(ctx, part, lvl/20)
	}
	if err != nil {
		return nil, err
	}
	out := imaging.Clone(m)
	draw.Draw(out, r, part, image.Point{}, draw.Src)
	return out, nil
}
