package pipeline

import (
	"image"
	"math"
)

// PSNR returns the peak signal-to-noise ratio in dB between two images of
// the same size over all four channels (+Inf when identical).
func PSNR(a, b *image.NRGBA) float64 {
	W, H := a.Rect.Dx(), a.Rect.Dy()
	var sum float64
	for y := 0; y < H; y++ {
		ra := a.Pix[y*a.Stride : y*a.Stride+W*4]
		rb := b.Pix[y*b.Stride : y*b.Stride+W*4]
		for i := range ra {
			d := float64(ra[i]) - float64(rb[i])
			sum += d * d
		}
	}
	mse := sum / float64(W*H*4)
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}
