package codec

import (
	"fmt"
	"math"
)

// Some codecs need far more memory than the image they read or write.
// Budgets (MaxPixels, the pipeline's MaxOutputPixels) count it in pixels
// of 4 bytes, an NRGBA pixel. Measured peaks at 1–9 MP: libavif, in
// WebAssembly, decodes with ~110 bytes a pixel and encodes with ~95;
// libwebp's encoder, in WebAssembly, needs ~95 (lossy) to ~120
// (lossless); image/jpeg keeps a progressive file's coefficients, 4 bytes
// per component sample, until its last scan. The Go codecs otherwise need
// about their image.
const (
	avifDecodeWeight = 28 // budget pixels per pixel, on top of the image
	avifEncodeWeight = 24
	webpEncodeWeight = 30
)

// decoderExtra is the memory, in budget pixels, a decode of info with opt
// needs beyond the frames it holds: libavif's working memory, or the
// coefficient buffers and YCbCr planes of a progressive JPEG that
// image/jpeg decodes at full size (anything but our 1/8 decode, which
// handles one or three components): 1.25 per component sample.
func decoderExtra(info Info, opt DecodeOptions) float64 {
	px := float64(info.Width) * float64(info.Height)
	switch j := info.jpeg; {
	case info.Format == AVIF:
		return avifDecodeWeight * px
	case info.Format != JPEG || !j.progressive:
	case jpegScale(info, opt) == 8 && (j.comps == 1 || j.comps == 3):
	default:
		return 1.25 * j.samples * px
	}
	return 0
}

// MemoryBudget is what one decode or encode may hold, its codec's working
// memory included, in budget pixels: 2.5 times the pixel limit (1 GB at
// the default 100 MP). The frames themselves stay within the pixel limit;
// the margin is for the WebAssembly codecs, so that an ordinary photo can
// still be read as AVIF or written as WebP.
func MemoryBudget(maxPixels int64) int64 { return maxPixels / 2 * 5 }

// checkDecoderExtra refuses a decode whose frames and decoder memory
// together exceed the memory budget.
func checkDecoderExtra(info Info, opt DecodeOptions) error {
	extra := decoderExtra(info, opt)
	p := float64(DecodedFrames(info, opt))*float64(info.Width)*float64(info.Height) + extra
	if extra == 0 || p <= float64(MemoryBudget(opt.maxPixels())) {
		return nil
	}
	what := "AVIF image (its decoder's memory included)"
	if info.Format == JPEG {
		what = "progressive JPEG (its decoder's coefficient buffers included)"
	}
	return &LimitError{What: what, Width: info.Width, Height: info.Height,
		Pixels: int64(min(p, math.MaxInt64)), Limit: MemoryBudget(opt.maxPixels())}
}

// EncodeCost is the memory, in budget pixels, encoding one w×h frame in f
// takes beyond the frame: animations are encoded a frame at a time.
func EncodeCost(f Format, w, h int) int64 {
	px := float64(w) * float64(h)
	switch f {
	case AVIF:
		return int64(min(avifEncodeWeight*px, math.MaxInt64))
	case WebP:
		return int64(min(webpEncodeWeight*px, math.MaxInt64))
	}
	return 0
}

// CheckEncode returns a *LimitError when encoding a w×h frame in f needs
// more than limit budget pixels.
func CheckEncode(f Format, w, h int, limit int64) error {
	if c := EncodeCost(f, w, h); c > limit {
		return &LimitError{What: fmt.Sprintf("%s output (its encoder's memory included)", f.ContentType()),
			Width: w, Height: h, Pixels: c, Limit: limit}
	}
	return nil
}
