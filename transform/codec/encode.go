package codec

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/gen2brain/avif"
	gwebp "github.com/gen2brain/webp"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// EncodeOptions controls Encode.
type EncodeOptions struct {
	Quality     int         // 1–100; 0 picks the format's default
	Progressive bool        // JPEG: write a progressive file
	Lossless    bool        // WebP: lossless
	Background  color.NRGBA // flattens alpha for formats without it (JPEG); zero means white
	Chroma444   bool        // JPEG (written progressive) and AVIF: full-resolution chroma
	PNG8        bool        // PNG: a palette of at most 256 colours (fl_png8, fl_lossy)
	// LossyGIF quantises GIF frames to an adaptive palette of a size set
	// by Quality (fl_lossy) instead of the fixed web palette.
	LossyGIF bool
	// JPEGSegments are APPn segments (marker and payload, as read from a
	// JPEG) written after the output JPEG's SOI: kept metadata.
	JPEGSegments [][]byte
	// Ctx, when set, stops an animation's encoding between frames with a
	// *CanceledError once it is done. Nil: no deadline.
	Ctx context.Context
}

// Default qualities when none is requested.
const (
	defaultJPEGQuality = 80
	defaultWebPQuality = 80
	defaultAVIFQuality = 60
)

// Encode writes m in format f. Animations keep every frame in GIF and WebP
// and are reduced to their first frame in the other formats.
func Encode(w io.Writer, m *Image, f Format, opt EncodeOptions) error {
	if len(m.Frames) == 0 {
		return fmt.Errorf("no frames to encode")
	}
	first := m.Frames[0]
	switch f {
	case JPEG:
		q := opt.Quality
		if q <= 0 {
			q = defaultJPEGQuality
		}
		bg := opt.Background
		if bg.A == 0 {
			bg = color.NRGBA{255, 255, 255, 255}
		}
		flat := flatten(first, bg)
		if len(opt.JPEGSegments) > 0 {
			var buf bytes.Buffer
			if err := encodeJPEG(&buf, flat, q, opt); err != nil {
				return err
			}
			_, err := w.Write(insertSegments(buf.Bytes(), opt.JPEGSegments))
			return err
		}
		return encodeJPEG(w, flat, q, opt)
	case PNG:
		enc := png.Encoder{CompressionLevel: png.DefaultCompression}
		if opt.PNG8 {
			return enc.Encode(w, quantize(first, 256, true))
		}
		if opaque(first) {
			if g := grayOf(first.Pix, first.Stride, first.Rect); g != nil {
				return enc.Encode(w, g) // one channel, as the source had
			}
			return enc.Encode(w, dropAlpha(first))
		}
		return enc.Encode(w, first)
	case GIF:
		colors := 0
		if opt.LossyGIF {
			colors = 256
			if opt.Quality > 0 {
				colors = min(max(opt.Quality*256/100, 16), 256)
			}
		}
		return encodeGIF(opt.Ctx, w, m, colors)
	case WebP:
		q := opt.Quality
		if q <= 0 {
			q = defaultWebPQuality
		}
		wo := gwebp.Options{Quality: q, Lossless: opt.Lossless, Method: 2}
		if len(m.Frames) > 1 {
			return encodeAnimatedWebP(opt.Ctx, w, m, wo)
		}
		return encodeWebP(w, first, wo)
	case AVIF:
		q := opt.Quality
		if q <= 0 {
			q = defaultAVIFQuality
		}
		sub := image.YCbCrSubsampleRatio420
		if opt.Chroma444 {
			sub = image.YCbCrSubsampleRatio444
		}
		if l := sysAVIF(); l != nil {
			return l.encodeAVIF(w, first, q, q, avifSpeed, opt.Chroma444)
		}
		return avif.Encode(w, first, avif.Options{Quality: q, QualityAlpha: q, Speed: avifSpeed, ChromaSubsampling: sub})
	case BMP: // readers ignore a BMP's alpha: flattened like JPEG
		bg := opt.Background
		if bg.A == 0 {
			bg = color.NRGBA{255, 255, 255, 255}
		}
		return bmp.Encode(w, flatten(first, bg))
	case TIFF:
		return tiff.Encode(w, first, &tiff.Options{Compression: tiff.Deflate})
	case ICO:
		return encodeICO(w, first)
	}
	return fmt.Errorf("cannot encode format %q", f)
}

// avifSpeed is libavif's speed setting (0 slowest, 10 fastest).
const avifSpeed = 8

// encodeWebP encodes a still frame with the system libwebp when loaded,
// else the embedded build.
func encodeWebP(w io.Writer, m *image.NRGBA, o gwebp.Options) error {
	if l := sysWebP(); l != nil {
		return l.encodeWebP(w, m, o.Quality, o.Method, o.Lossless)
	}
	return gwebp.Encode(w, m, o)
}

// encodeJPEG writes a baseline JPEG, or a progressive one when asked or
// for 4:4:4 chroma (image/jpeg writes 4:2:0 only).
func encodeJPEG(w io.Writer, m *image.RGBA, q int, opt EncodeOptions) error {
	if opt.Progressive || opt.Chroma444 {
		return encodeProgressiveJPEG(w, m, q, opt.Chroma444)
	}
	if g := grayOf(m.Pix, m.Stride, m.Rect); g != nil {
		return jpeg.Encode(w, g, &jpeg.Options{Quality: q}) // one component, as the source had
	}
	return jpeg.Encode(w, m, &jpeg.Options{Quality: q})
}

// grayOf returns the opaque 4-byte-per-pixel image in pix as a gray
// image when every pixel has R = G = B (a grayscale source, or e_grayscale),
// else nil.
func grayOf(pix []byte, stride int, r image.Rectangle) *image.Gray {
	w, h := r.Dx(), r.Dy()
	for y := 0; y < h; y++ {
		row := pix[y*stride:][:w*4]
		for i := 0; i < len(row); i += 4 {
			if row[i] != row[i+1] || row[i] != row[i+2] {
				return nil
			}
		}
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		row := pix[y*stride:][:w*4]
		dst := g.Pix[y*g.Stride:][:w]
		for x := range dst {
			dst[x] = row[x*4]
		}
	}
	return g
}

// opaque reports whether every pixel of m is fully opaque.
func opaque(m *image.NRGBA) bool {
	for y := 0; y < m.Rect.Dy(); y++ {
		row := m.Pix[y*m.Stride : y*m.Stride+m.Rect.Dx()*4]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 0xFF {
				return false
			}
		}
	}
	return true
}

// HasAlpha reports whether any frame has a pixel that is not fully opaque.
func (m *Image) HasAlpha() bool {
	for _, f := range m.Frames {
		if !opaque(f) {
			return true
		}
	}
	return false
}

// dropAlpha returns an *image.RGBA view (same bytes) of an opaque NRGBA, so
// that PNG writes a smaller truecolour file without an alpha channel.
func dropAlpha(m *image.NRGBA) *image.RGBA {
	return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
}

// flatten composes m over bg into an opaque RGBA image.
func flatten(m *image.NRGBA, bg color.NRGBA) *image.RGBA {
	out := image.NewRGBA(m.Rect)
	if opaque(m) {
		copy(out.Pix, m.Pix)
		return out
	}
	draw.Draw(out, out.Rect, image.NewUniform(bg), image.Point{}, draw.Src)
	draw.Draw(out, out.Rect, m, m.Rect.Min, draw.Over)
	return out
}

// encodeGIF quantises each frame to a web palette with Floyd–Steinberg
// dithering (index 0 is transparent when the frame has alpha).
func encodeGIF(ctx context.Context, w io.Writer, m *Image, colors int) error {
	pal := make(color.Palette, 0, 256)
	pal = append(pal, color.NRGBA{})
	pal = append(pal, palette.Plan9[:255]...)
	g := &gif.GIF{LoopCount: m.LoopCount}
	if len(m.Frames) == 1 {
		g.LoopCount = -1
	}
	for i, f := range m.Frames {
		if err := CheckContext(ctx); err != nil {
			return err
		}
		p := image.NewPaletted(f.Rect, pal)
		switch {
		case colors > 0:
			p = quantize(f, colors, false)
		case opaque(f):
			p.Palette = palette.Plan9
			draw.FloydSteinberg.Draw(p, f.Rect, f, f.Rect.Min)
		default:
			draw.FloydSteinberg.Draw(p, f.Rect, opaqueOnly(f), f.Rect.Min)
			for y := 0; y < f.Rect.Dy(); y++ {
				for x := 0; x < f.Rect.Dx(); x++ {
					if f.Pix[y*f.Stride+x*4+3] < 128 {
						p.Pix[y*p.Stride+x] = 0
					}
				}
			}
		}
		g.Image = append(g.Image, p)
		d := 10
		if i < len(m.Delays) {
			d = max(m.Delays[i]/10, 2)
		}
		g.Delay = append(g.Delay, d)
		g.Disposal = append(g.Disposal, gif.DisposalBackground)
	}
	bw := bufio.NewWriter(w)
	if err := gif.EncodeAll(bw, g); err != nil {
		return err
	}
	return bw.Flush()
}

// opaqueOnly returns m with alpha forced to 255 so that dithering does not
// pick the transparent palette entry.
func opaqueOnly(m *image.NRGBA) *image.NRGBA {
	c := &image.NRGBA{Pix: append([]byte(nil), m.Pix...), Stride: m.Stride, Rect: m.Rect}
	for i := 3; i < len(c.Pix); i += 4 {
		c.Pix[i] = 0xFF
	}
	return c
}
