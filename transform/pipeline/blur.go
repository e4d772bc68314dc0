package pipeline

import (
	"context"
	"image"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/edgepix/edgepix/transform/codec"
)

// rowChunk is how many rows a worker takes at a time: ctx is checked
// before each chunk.
const rowChunk = 8

// parallelRows runs fn over the rows [0, n) in chunks on every core and
// stops handing out chunks once ctx is done, returning its
// *codec.CanceledError.
func parallelRows(ctx context.Context, n int, fn func(lo, hi int)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), (n+rowChunk-1)/rowChunk) {
		wg.Go(func() {
			for codec.CheckContext(ctx) == nil {
				lo := int(next.Add(rowChunk)) - rowChunk
				if lo >= n {
					return
				}
				fn(lo, min(lo+rowChunk, n))
			}
		})
	}
	wg.Wait()
	return codec.CheckContext(ctx)
}

// gaussianBlur is imaging.Blur (same kernel, alpha-weighted sums
// renormalised at the edges, same arithmetic, so the same pixels) made
// cancellable: both passes work row by row under parallelRows.
func gaussianBlur(ctx context.Context, m *image.NRGBA, sigma float64) (*image.NRGBA, error) {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, W, H))
	if sigma <= 0 {
		for y := 0; y < H; y++ {
			copy(out.Pix[y*out.Stride:][:W*4], m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y):])
		}
		return out, nil
	}
	radius := int(math.Ceil(sigma * 3))
	kernel := make([]float64, radius+1)
	for i := range kernel {
		kernel[i] = math.Exp(-float64(i*i)/(2*sigma*sigma)) / (sigma * math.Sqrt(2*math.Pi))
	}
	tmp := image.NewNRGBA(out.Rect)
	err := parallelRows(ctx, H, func(lo, hi int) {
		line := make([]float64, W*4)
		for y := lo; y < hi; y++ {
			src := m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y):]
			for i := range line {
				line[i] = float64(src[i])
			}
			dst := tmp.Pix[y*tmp.Stride:]
			for x := 0; x < W; x++ {
				var r, g, b, a, wsum float64
				for ix := max(x-radius, 0); ix <= min(x+radius, W-1); ix++ {
					weight := kernel[abs(x-ix)]
					wsum += weight
					s := line[ix*4 : ix*4+4 : ix*4+4]
					wa := s[3] * weight
					r += s[0] * wa
					g += s[1] * wa
					b += s[2] * wa
					a += wa
				}
				setBlurred(dst[x*4:x*4+4:x*4+4], r, g, b, a, wsum)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	err = parallelRows(ctx, H, func(lo, hi int) {
		acc := make([]float64, W*4) // per column: r, g, b, a sums for the current row
		for y := lo; y < hi; y++ {
			clear(acc)
			var wsum float64
			for iy := max(y-radius, 0); iy <= min(y+radius, H-1); iy++ {
				weight := kernel[abs(y-iy)]
				wsum += weight
				src := tmp.Pix[iy*tmp.Stride:]
				for i := 0; i < W*4; i += 4 {
					s := src[i : i+4 : i+4]
					wa := float64(s[3]) * weight
					p := acc[i : i+4 : i+4]
					p[0] += float64(s[0]) * wa
					p[1] += float64(s[1]) * wa
					p[2] += float64(s[2]) * wa
					p[3] += wa
				}
			}
			dst := out.Pix[y*out.Stride:]
			for i := 0; i < W*4; i += 4 {
				setBlurred(dst[i:i+4:i+4], acc[i], acc[i+1], acc[i+2], acc[i+3], wsum)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// setBlurred writes an alpha-weighted sum as imaging does (a pixel with no
// weight at all stays transparent black).
func setBlurred(d []uint8, r, g, b, a, wsum float64) {
	if a == 0 {
		return
	}
	aInv := 1 / a
	d[0] = clamp(r * aInv)
	d[1] = clamp(g * aInv)
	d[2] = clamp(b * aInv)
	d[3] = clamp(a / wsum)
}

// sharpen is imaging.Sharpen (twice the image minus its blur) made
// cancellable.
func sharpen(ctx context.Context, m *image.NRGBA, sigma float64) (*image.NRGBA, error) {
	blurred, err := gaussianBlur(ctx, m, sigma)
	if err != nil || sigma <= 0 {
		return blurred, err
	}
	W := m.Rect.Dx()
	err = parallelRows(ctx, m.Rect.Dy(), func(lo, hi int) {
		for y := lo; y < hi; y++ {
			src := m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y):]
			dst := blurred.Pix[y*blurred.Stride:]
			for i := 0; i < W*4; i++ {
				dst[i] = uint8(min(max(int(src[i])<<1-int(dst[i]), 0), 255))
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return blurred, nil
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
