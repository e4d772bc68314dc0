// Package fx holds the image operations of the example plugins as plain
// Go, so that they run both inside the plugins (compiled to wasm) and
// natively in tests that compare the two.
package fx

import (
	"image"
	"image/color"
	"strconv"
	"strings"
	"sync"

	"github.com/edgepix/edgepix/sdk/plugin"
)

// hexColor parses "ff8800", "#ff8800" or "!ff8800!" (a URL string
// variable), else returns def.
func hexColor(s string, def color.NRGBA) color.NRGBA {
	s = strings.Trim(s, "!# ")
	if len(s) != 6 {
		return def
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return def
	}
	return color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

func lerp(a, b uint8, t float64) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*t + 0.5) }

// Duotone maps each pixel's luminance onto a gradient from $dark to
// $light (hex colours), keeping alpha.
func Duotone(img *image.NRGBA, m plugin.Meta) (*image.NRGBA, error) {
	dark := hexColor(m.String("dark", ""), color.NRGBA{0x1b, 0x0b, 0x3b, 255})
	light := hexColor(m.String("light", ""), color.NRGBA{0xff, 0xb3, 0x47, 255})
	p := img.Pix
	for i := 0; i+3 < len(p); i += 4 {
		t := (0.2126*float64(p[i]) + 0.7152*float64(p[i+1]) + 0.0722*float64(p[i+2])) / 255
		p[i], p[i+1], p[i+2] = lerp(dark.R, light.R, t), lerp(dark.G, light.G, t), lerp(dark.B, light.B, t)
	}
	return img, nil
}

// Invert inverts the colour channels, keeping alpha.
func Invert(img *image.NRGBA, _ plugin.Meta) (*image.NRGBA, error) {
	p := img.Pix
	for i := 0; i+3 < len(p); i += 4 {
		p[i], p[i+1], p[i+2] = 255-p[i], 255-p[i+1], 255-p[i+2]
	}
	return img, nil
}

// Blur is a box blur of radius $radius (default 4, at most 64), run
// horizontally then vertically with running sums.
func Blur(img *image.NRGBA, m plugin.Meta) (*image.NRGBA, error) {
	r := int(m.Number("radius", 4))
	r = max(1, min(r, 64))
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if img.Stride != w*4 { // a sub-image: work on a packed copy
		img = packed(img)
	}
	tp, _ := scratch.Get().(*[]uint8)
	if tp == nil || cap(*tp) < len(img.Pix) {
		tp = &[]uint8{}
		*tp = make([]uint8, len(img.Pix))
	}
	tmp := (*tp)[:len(img.Pix)]
	pass(img.Pix, tmp, w, h, r, 4, w*4) // rows
	pass(tmp, img.Pix, h, w, r, w*4, 4) // columns
	scratch.Put(tp)
	return img, nil
}

// scratch keeps Blur's intermediate buffer from one call to the next.
var scratch sync.Pool

// packed copies a sub-image into an image of its own.
func packed(img *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, img.Rect.Dx(), img.Rect.Dy()))
	for y := 0; y < out.Rect.Dy(); y++ {
		i := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		copy(out.Pix[y*out.Stride:], img.Pix[i:i+out.Stride])
	}
	return out
}

// pass blurs n lines of length l; step is the byte distance between
// neighbours on a line, next the distance between lines.
func pass(src, dst []uint8, l, n, r, step, next int) {
	for line := 0; line < n; line++ {
		base := line * next
		for c := 0; c < 4; c++ {
			sum := 0
			for k := -r; k <= r; k++ {
				sum += int(src[base+clampi(k, 0, l-1)*step+c])
			}
			for x := 0; x < l; x++ {
				dst[base+x*step+c] = uint8(sum / (2*r + 1))
				out, in := clampi(x-r, 0, l-1), clampi(x+r+1, 0, l-1)
				sum += int(src[base+in*step+c]) - int(src[base+out*step+c])
			}
		}
	}
}

func clampi(v, lo, hi int) int { return max(lo, min(v, hi)) }

// Placeholder reduces the image to a grid of $x × $y average colours
// (default 4×3, like a blurhash) and paints it back smoothly at the same
// size: a tiny-to-describe, soft preview of the image.
func Placeholder(img *image.NRGBA, m plugin.Meta) (*image.NRGBA, error) {
	gx, gy := clampi(int(m.Number("x", 4)), 1, 16), clampi(int(m.Number("y", 3)), 1, 16)
	w, h := img.Rect.Dx(), img.Rect.Dy()
	grid := make([][4]float64, gx*gy)
	counts := make([]float64, gx*gy)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := (y*gy/h)*gx + x*gx/w
			i := img.PixOffset(x, y)
			for k := 0; k < 4; k++ {
				grid[c][k] += float64(img.Pix[i+k])
			}
			counts[c]++
		}
	}
	for c := range grid {
		for k := 0; k < 4; k++ {
			grid[c][k] /= max(counts[c], 1)
		}
	}
	cell := func(cx, cy int) [4]float64 { return grid[clampi(cy, 0, gy-1)*gx+clampi(cx, 0, gx-1)] }
	for y := 0; y < h; y++ {
		fy := (float64(y)+0.5)*float64(gy)/float64(h) - 0.5
		y0 := int(fy)
		if fy < 0 {
			y0 = -1
		}
		ty := fy - float64(y0)
		for x := 0; x < w; x++ {
			fx := (float64(x)+0.5)*float64(gx)/float64(w) - 0.5
			x0 := int(fx)
			if fx < 0 {
				x0 = -1
			}
			tx := fx - float64(x0)
			a, b, c, d := cell(x0, y0), cell(x0+1, y0), cell(x0, y0+1), cell(x0+1, y0+1)
			i := img.PixOffset(x, y)
			for k := 0; k < 4; k++ {
				top := a[k] + (b[k]-a[k])*tx
				bot := c[k] + (d[k]-c[k])*tx
				img.Pix[i+k] = uint8(top + (bot-top)*ty + 0.5)
			}
		}
	}
	return img, nil
}

// Watermark lays diagonal stripes of $color (default white) over the
// image at $opacity percent (default 30), every $spacing pixels (default
// 48): a proof mark that survives cropping.
func Watermark(img *image.NRGBA, m plugin.Meta) (*image.NRGBA, error) {
	col := hexColor(m.String("color", ""), color.NRGBA{255, 255, 255, 255})
	a := clampi(int(m.Number("opacity", 30)), 0, 100)
	sp := clampi(int(m.Number("spacing", 48)), 4, 4096)
	band := max(sp/6, 1)
	t := float64(a) / 100
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if (x+y)%sp >= band {
				continue
			}
			i := img.PixOffset(x, y)
			img.Pix[i] = lerp(img.Pix[i], col.R, t)
			img.Pix[i+1] = lerp(img.Pix[i+1], col.G, t)
			img.Pix[i+2] = lerp(img.Pix[i+2], col.B, t)
		}
	}
	return img, nil
}
