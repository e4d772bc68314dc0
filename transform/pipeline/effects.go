package pipeline

import (
	"context"
	"image"
	"image/color"
	"math"

	"github.com/disintegration/imaging"
	"github.com/edgepix/edgepix/transform/grammar"
)

// applyEffect runs the component's e_ effect with its level (or
// Cloudinary's default); the component also gives co_ (colorize, shadow,
// outline, make_transparent) and x, y, w, h, g (regions, shadow offsets,
// gradient_fade's direction). The effects whose cost grows with the image
// or their level stop once ctx is done.
func applyEffect(ctx context.Context, m *image.NRGBA, c *grammar.Component) (*image.NRGBA, error) {
	e, co := c.Effect, c.Color
	lvl := e.LevelOr()
	if f, ok := moreEffects[e.Name]; ok {
		return f(ctx, m, c, lvl)
	}
	switch e.Name {
	case "grayscale":
		return imaging.Grayscale(m), nil
	case "sepia":
		return sepia(m, lvl/100), nil
	case "blackwhite":
		return threshold(m, lvl/100*255), nil
	case "blur":
		return gaussianBlur(ctx, m, lvl/20) // e_blur:100 → σ 5 px
	case "sharpen":
		return sharpen(ctx, m, 0.5+lvl/200)
	case "pixelate":
		return pixelate(ctx, m, int(lvl))
	case "brightness":
		return imaging.AdjustBrightness(m, lvl), nil
	case "contrast":
		return imaging.AdjustContrast(m, lvl), nil
	case "saturation":
		return imaging.AdjustSaturation(m, lvl), nil
	case "gamma":
		return imaging.AdjustGamma(m, 1+lvl/100), nil
	case "negate":
		return imaging.Invert(m), nil
	case "vignette":
		return vignette(m, lvl/100), nil
	case "auto_contrast":
		return stretch(m, lvl/100, false), nil
	case "auto_color", "improve":
		return stretch(m, lvl/100, true), nil
	case "colorize":
		col := color.NRGBA{128, 128, 128, 255}
		if co != nil {
			col = co.NRGBA
		}
		return colorize(m, col, lvl/100), nil
	}
	return nil, &grammar.Error{Msg: "Effect not implemented: " + e.Name}
}

// stretch is an auto-levels: each channel (perChannel, which also fixes
// colour casts) or the luminance is stretched so that its 0.5% and 99.5%
// percentiles reach black and white, blended with the original by
// strength.
func stretch(m *image.NRGBA, strength float64, perChannel bool) *image.NRGBA {
	var hist [3][256]int
	n := 0
	for i := 0; i+3 < len(m.Pix); i += 4 {
		if m.Pix[i+3] == 0 {
			continue
		}
		n++
		if perChannel {
			for c := 0; c < 3; c++ {
				hist[c][m.Pix[i+c]]++
			}
		} else {
			l := (299*int(m.Pix[i]) + 587*int(m.Pix[i+1]) + 114*int(m.Pix[i+2])) / 1000
			hist[0][l]++
		}
	}
	if n == 0 {
		return m
	}
	bounds := func(h *[256]int) (float64, float64) {
		lo, hi, acc := 0, 255, 0
		for v := 0; v < 256; v++ {
			if acc += h[v]; acc > n/200 {
				lo = v
				break
			}
		}
		acc = 0
		for v := 255; v >= 0; v-- {
			if acc += h[v]; acc > n/200 {
				hi = v
				break
			}
		}
		if hi <= lo {
			return 0, 255
		}
		return float64(lo), float64(hi)
	}
	var lut [3][256]uint8
	for c := 0; c < 3; c++ {
		h := &hist[0]
		if perChannel {
			h = &hist[c]
		}
		lo, hi := bounds(h)
		for v := 0; v < 256; v++ {
			s := (float64(v) - lo) * 255 / (hi - lo)
			lut[c][v] = clamp(float64(v) + (s-float64(v))*strength)
		}
	}
	out := imaging.Clone(m)
	for i := 0; i+3 < len(out.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			out.Pix[i+c] = lut[c][out.Pix[i+c]]
		}
	}
	return out
}

// colorize blends every pixel towards col by amount (0..1), keeping alpha.
func colorize(m *image.NRGBA, col color.NRGBA, amount float64) *image.NRGBA {
	out := imaging.Clone(m)
	for i := 0; i+3 < len(out.Pix); i += 4 {
		out.Pix[i] = clamp(float64(out.Pix[i]) + (float64(col.R)-float64(out.Pix[i]))*amount)
		out.Pix[i+1] = clamp(float64(out.Pix[i+1]) + (float64(col.G)-float64(out.Pix[i+1]))*amount)
		out.Pix[i+2] = clamp(float64(out.Pix[i+2]) + (float64(col.B)-float64(out.Pix[i+2]))*amount)
	}
	return out
}

// sepia maps to the classic sepia tone matrix, blended with the original by
// strength (0..1).
func sepia(m *image.NRGBA, strength float64) *image.NRGBA {
	return imaging.AdjustFunc(m, func(c imagingColor) imagingColor {
		r, g, b := float64(c.R), float64(c.G), float64(c.B)
		sr := 0.393*r + 0.769*g + 0.189*b
		sg := 0.349*r + 0.686*g + 0.168*b
		sb := 0.272*r + 0.534*g + 0.131*b
		c.R = clamp(r + (sr-r)*strength)
		c.G = clamp(g + (sg-g)*strength)
		c.B = clamp(b + (sb-b)*strength)
		return c
	})
}

// threshold turns every pixel black or white by luminance.
func threshold(m *image.NRGBA, t float64) *image.NRGBA {
	return imaging.AdjustFunc(m, func(c imagingColor) imagingColor {
		l := 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)
		v := uint8(0)
		if l >= t {
			v = 255
		}
		c.R, c.G, c.B = v, v, v
		return c
	})
}

// pixelate averages blocks of size×size pixels.
func pixelate(ctx context.Context, m *image.NRGBA, size int) (*image.NRGBA, error) {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	size = max(size, 1)
	sw, sh := max((W+size-1)/size, 1), max((H+size-1)/size, 1)
	small, err := resize(ctx, m, sw, sh, imaging.Box)
	if err != nil {
		return nil, err
	}
	return imaging.Resize(small, W, H, imaging.NearestNeighbor), nil
}

// vignette darkens towards the corners; strength 0..1.
func vignette(m *image.NRGBA, strength float64) *image.NRGBA {
	out := imaging.Clone(m)
	W, H := out.Rect.Dx(), out.Rect.Dy()
	cx, cy := float64(W-1)/2, float64(H-1)/2
	maxd := math.Hypot(cx, cy)
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			d := math.Hypot(float64(x)-cx, float64(y)-cy) / math.Max(maxd, 1)
			f := 1 - strength*smoothstep(0.4, 1.0, d)
			p := out.Pix[y*out.Stride+x*4:]
			p[0] = clamp(float64(p[0]) * f)
			p[1] = clamp(float64(p[1]) * f)
			p[2] = clamp(float64(p[2]) * f)
		}
	}
	return out
}

func smoothstep(a, b, x float64) float64 {
	t := math.Min(math.Max((x-a)/(b-a), 0), 1)
	return t * t * (3 - 2*t)
}

func clamp(v float64) uint8 {
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v + 0.5)
}
