package codec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"

	"github.com/disintegration/imaging"
	"github.com/gen2brain/avif"
	xwebp "golang.org/x/image/webp"
)

// DefaultMaxPixels is the default budget of one decode (100 MP, 400 MB):
// width × height × the frames it holds, plus its decoder's needs.
const DefaultMaxPixels = 100_000_000

// DefaultMaxFrames bounds the frames decoded from an animation.
const DefaultMaxFrames = 500

// Info describes an encoded image without decoding its pixels.
type Info struct {
	Format      Format
	Width       int // after EXIF orientation
	Height      int
	Orientation int // EXIF orientation, 1 when none
	Animated    bool
	Frames      int // frames of an animation, 1 for stills and PDFs
	Pages       int // PDF pages (0 for other formats)
	jpeg        jpegFrame
}

// Image is a decoded image: one frame for stills, several for animations.
type Image struct {
	Frames    []*image.NRGBA
	Delays    []int // per frame, milliseconds
	LoopCount int   // 0: forever
	Format    Format
}

// Bounds returns the size of the first frame.
func (m *Image) Bounds() image.Rectangle { return m.Frames[0].Bounds() }

// Animated reports whether m has more than one frame.
func (m *Image) Animated() bool { return len(m.Frames) > 1 }

// DecodeOptions controls Decode.
type DecodeOptions struct {
	// MaxPixels bounds the memory a decode holds, in pixels of 4 bytes:
	// width × height × the frames it holds, plus what its decoder needs
	// beyond them (see DecodedPixels). 0 means DefaultMaxPixels.
	MaxPixels         int64
	MaxFrames         int  // 0 means DefaultMaxFrames
	Page              int  // 1-based frame to keep; 0 keeps all frames
	IgnoreOrientation bool // do not apply EXIF orientation (a_ignore)
	// MinWidth and MinHeight, when set, let the JPEG decoder return a 1/8
	// scale image when that is still at least this large, in display
	// orientation. The result is then smaller than Info's size.
	MinWidth, MinHeight int
	// Ctx, when set, stops the decode with a *CanceledError once it is
	// done (between frames, between rows of our own decoders, and on
	// every read of the standard library's). Nil: no deadline.
	Ctx context.Context
}

func (o DecodeOptions) maxPixels() int64 {
	if o.MaxPixels > 0 {
		return o.MaxPixels
	}
	return DefaultMaxPixels
}

func (o DecodeOptions) maxFrames() int {
	if o.MaxFrames > 0 {
		return o.MaxFrames
	}
	return DefaultMaxFrames
}

// Probe reads the format, dimensions and frame count from the headers and
// the container structure only.
func Probe(b []byte) (Info, error) {
	f, err := Sniff(b)
	if err != nil {
		return Info{}, err
	}
	if f == PDF {
		return probePDF(b)
	}
	info := Info{Format: f, Orientation: 1, Frames: 1}
	var cfg image.Config
	r := bytes.NewReader(b)
	switch f {
	case JPEG:
		if arithmeticJPEG(b) {
			return Info{}, &DecodeError{Format: f, Err: errArithmetic}
		}
		cfg, err = jpeg.DecodeConfig(r)
		info.Orientation = jpegOrientation(b)
		info.jpeg = readJPEGFrame(b)
		var ue jpeg.UnsupportedError
		if errors.As(err, &ue) && ue == "luma/chroma subsampling ratio" && info.jpeg.comps == 3 {
			cfg, err = image.Config{Width: info.jpeg.w, Height: info.jpeg.h}, nil // our decoder reads these
			info.jpeg.unusual = true
		}
	case PNG:
		cfg, err = png.DecodeConfig(r)
	case GIF:
		cfg, err = gif.DecodeConfig(r)
		_, ends, _ := gifLayout(b)
		info.Frames = max(len(ends), 1)
		info.Animated = len(ends) > 1
	case WebP:
		cfg, err = webpConfig(b)
		if info.Animated = webpAnimated(b); info.Animated {
			info.Frames = max(webpFrameCount(b), 1)
		}
	case BMP, TIFF, ICO:
		cfg, err = probeMore(f, b)
	case JSON:
		return Info{}, ErrUnknownFormat
	case AVIF:
		cfg, err = avif.DecodeConfig(r)
		if info.Animated = avifSequence(b); info.Animated && err == nil {
			if info.Frames = avifFrameCount(b); info.Frames < 1 {
				err = errors.New("image sequence without a sample table")
			}
		}
	}
	if err != nil {
		return Info{}, &DecodeError{Format: f, Err: err}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Info{}, &DecodeError{Format: f, Err: errors.New("zero dimensions")}
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	if info.Orientation >= 5 {
		info.Width, info.Height = info.Height, info.Width
	}
	return info, nil
}

// CheckPixels returns a *LimitError when w×h exceeds limit.
func CheckPixels(what string, w, h int, limit int64) error {
	return CheckFrames(what, 1, w, h, limit)
}

// CheckFrames returns a *LimitError when frames × w × h exceeds limit: an
// animation (or a sheet of several images) counts every frame it holds.
func CheckFrames(what string, frames, w, h int, limit int64) error {
	p := float64(frames) * float64(w) * float64(h) // no overflow for absurd sizes
	if p <= float64(limit) && w >= 0 && h >= 0 {
		return nil
	}
	if frames > 1 {
		what = fmt.Sprintf("%s of %d frames", what, frames)
	}
	return &LimitError{What: what, Width: w, Height: h, Pixels: int64(min(math.Abs(p), math.MaxInt64)), Limit: limit}
}

// DecodedFrames is how many frames a decode of info with opt holds at
// once, the count MaxPixels multiplies: every frame without a Page; with
// one, GIF and WebP animations are composed frame by frame and hold one,
// an AVIF sequence one for its first page and all of them otherwise.
func DecodedFrames(info Info, opt DecodeOptions) int {
	switch {
	case info.Frames <= 1:
		return 1
	case opt.Page == 0:
		return info.Frames
	case info.Format == AVIF && opt.Page > 1:
		return info.Frames
	}
	return 1
}

// DecodedPixels estimates the memory, in budget pixels (4 bytes), a decode
// of info with opt holds: the frames' size after a reduced JPEG or PDF
// decode, times DecodedFrames, plus what its decoder needs beyond them
// (see weights.go).
func DecodedPixels(info Info, opt DecodeOptions) int64 {
	w, h := info.Width, info.Height
	switch info.Format {
	case JPEG:
		d := jpegScale(info, opt)
		w, h = ceilDiv(w, d), ceilDiv(h, d)
	case PDF:
		wPt, hPt := float64(w)*72/PDFDensity, float64(h)*72/PDFDensity
		dpi := pdfDPI(wPt, hPt, opt)
		w, h = pts(wPt, dpi), pts(hPt, dpi)
	}
	return int64(float64(DecodedFrames(info, opt))*float64(w)*float64(h) + decoderExtra(info, opt))
}

// Decode decodes b after checking its declared size, times the frames it
// will hold, against the limits. Corrupt or truncated input returns a
// *DecodeError, never a panic; a done opt.Ctx a *CanceledError.
func Decode(b []byte, opt DecodeOptions) (img *Image, err error) {
	if err := CheckContext(opt.Ctx); err != nil {
		return nil, err
	}
	if f, _ := Sniff(b); f == PDF {
		return decodePDF(b, opt) // sized to the limit, never refused for it
	}
	info, err := Probe(b)
	if err != nil {
		return nil, err
	}
	if err := checkDecode(info, opt); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil { // third-party decoders must not take the process down
			img, err = nil, &DecodeError{Format: info.Format, Err: fmt.Errorf("decoder failure: %v", r)}
		}
	}()
	switch info.Format {
	case JPEG:
		img, err = decodeJPEG(b, info, opt)
	case PNG:
		img, err = decodeStill(info.Format, func() (image.Image, error) { return png.Decode(reader(opt.Ctx, bytes.NewReader(b))) })
	case GIF:
		img, err = decodeGIF(b, info, opt)
	case WebP:
		if info.Animated {
			img, err = decodeWebPAnim(b, info, opt)
		} else {
			img, err = decodeStill(info.Format, func() (image.Image, error) {
				m, err := xwebp.Decode(bytes.NewReader(b))
				if err != nil {
					return nil, err
				}
				return webpNRGBA(m), nil
			})
		}
	case AVIF:
		img, err = decodeAVIF(b, info, opt)
	case BMP, TIFF, ICO:
		img, err = decodeStill(info.Format, func() (image.Image, error) { return decodeMore(info.Format, b) })
	}
	if err != nil {
		return nil, failure(info.Format, opt, err)
	}
	img.Format = info.Format
	if !opt.IgnoreOrientation && info.Orientation > 1 {
		for i, f := range img.Frames {
			img.Frames[i] = orient(f, info.Orientation)
		}
	}
	return img, nil
}

// failure is the error a decode reports: a *CanceledError when its
// context ended (the decoders' own errors then only say they were cut
// short), our typed errors as they are, anything else as a *DecodeError.
func failure(f Format, opt DecodeOptions, err error) error {
	if cerr := CheckContext(opt.Ctx); cerr != nil {
		return cerr
	}
	var de *DecodeError
	var le *LimitError
	var pe *PageError
	var ce *CanceledError
	if errors.As(err, &de) || errors.As(err, &le) || errors.As(err, &pe) || errors.As(err, &ce) {
		return err
	}
	return &DecodeError{Format: f, Err: err}
}

// CheckDecode refuses, from the probe alone, what Decode with opt would
// refuse before allocating any pixel: a page beyond the frames, too many
// frames, or more pixels than the budget.
func CheckDecode(info Info, opt DecodeOptions) error { return checkDecode(info, opt) }

// checkDecode refuses, before any pixel is allocated, a page beyond the
// frames, too many frames, or more pixels than the budget.
func checkDecode(info Info, opt DecodeOptions) error {
	if opt.Page > info.Frames {
		return &PageError{Page: opt.Page, Pages: info.Frames}
	}
	n := DecodedFrames(info, opt)
	if n > opt.maxFrames() {
		return &DecodeError{Format: info.Format,
			Err: fmt.Errorf("animation has %d frames, more than the limit of %d", n, opt.maxFrames())}
	}
	what := "image"
	if n > 1 {
		what = "animation"
	}
	if err := CheckFrames(what, n, info.Width, info.Height, opt.maxPixels()); err != nil {
		return err
	}
	return checkDecoderExtra(info, opt)
}

// PageError reports a pg_ beyond the frames or pages of the image.
type PageError struct{ Page, Pages int }

func (e *PageError) Error() string {
	return fmt.Sprintf("Invalid page %d: the image has %d page(s)", e.Page, e.Pages)
}

func decodeStill(f Format, dec func() (image.Image, error)) (*Image, error) {
	m, err := dec()
	if err != nil {
		return nil, &DecodeError{Format: f, Err: err}
	}
	return &Image{Frames: []*image.NRGBA{toNRGBA(m)}, Delays: []int{0}}, nil
}

func decodeJPEG(b []byte, info Info, opt DecodeOptions) (*Image, error) {
	if d := jpegScale(info, opt); d > 1 {
		if m, ok := decodeJPEGScaled(b, d, opt); ok {
			return &Image{Frames: []*image.NRGBA{m}, Delays: []int{0}}, nil
		}
		if err := CheckContext(opt.Ctx); err != nil {
			return nil, err
		}
	}
	if info.jpeg.unusual { // libjpeg reads these (baseline or progressive): so do we
		if m, ok := decodeJPEGScaled(b, 1, opt); ok {
			return &Image{Frames: []*image.NRGBA{m}, Delays: []int{0}}, nil
		}
		if err := CheckContext(opt.Ctx); err != nil {
			return nil, err
		}
		return nil, &DecodeError{Format: JPEG, Err: errBadJPEG}
	}
	if !info.jpeg.progressive && info.jpeg.comps != 4 && !noFullJPEG { // baseline at 1/1: our decoder, image/jpeg's pixels (jpeg_full.go)
		if m, ok := decodeJPEGFull(b, opt); ok {
			return &Image{Frames: []*image.NRGBA{m}, Delays: []int{0}}, nil
		}
		if err := CheckContext(opt.Ctx); err != nil {
			return nil, err
		}
	}
	return decodeStill(JPEG, func() (image.Image, error) { return jpeg.Decode(reader(opt.Ctx, bytes.NewReader(b))) })
}

// jpegScale is the reduction a JPEG decode tries first: the smallest of
// 1/8, 1/4 and 1/2 that is still at least MinWidth×MinHeight, or 1.
func jpegScale(info Info, opt DecodeOptions) int {
	if opt.MinWidth <= 0 && opt.MinHeight <= 0 {
		return 1
	}
	w, h := info.Width, info.Height
	minW, minH := opt.MinWidth, opt.MinHeight
	if info.Orientation >= 5 && !opt.IgnoreOrientation {
		w, h, minW, minH = h, w, minH, minW
	}
	if info.Orientation >= 5 && opt.IgnoreOrientation {
		w, h = h, w
	}
	for _, d := range []int{8, 4, 2} {
		if ceilDiv(w, d) >= minW && ceilDiv(h, d) >= minH {
			return d
		}
	}
	return 1
}

// toNRGBA converts any image to *image.NRGBA with its origin at (0,0). A
// decoded image whose buffer holds at least 4 bytes per pixel (RGBA,
// 16-bit, CMYK) is converted in place, so that a large decode does not
// need a second buffer; the values are imaging.Clone's.
func toNRGBA(m image.Image) *image.NRGBA {
	if n, ok := m.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	r := m.Bounds()
	switch v := m.(type) {
	case *image.YCbCr:
		return ycbcrToNRGBA(v)
	case *image.Gray:
		return grayToNRGBA(v)
	}
	var pix []uint8
	var at func(x, y int) (r, g, b, a uint8)
	switch v := m.(type) {
	case *image.RGBA:
		pix, at = v.Pix, func(x, y int) (uint8, uint8, uint8, uint8) {
			s := v.Pix[y*v.Stride+x*4:]
			switch a := uint16(s[3]); a {
			case 0:
				return 0, 0, 0, 0
			case 0xff:
				return s[0], s[1], s[2], 0xff
			default:
				return uint8(uint16(s[0]) * 0xff / a), uint8(uint16(s[1]) * 0xff / a), uint8(uint16(s[2]) * 0xff / a), s[3]
			}
		}
	case *image.RGBA64:
		pix, at = v.Pix, func(x, y int) (uint8, uint8, uint8, uint8) {
			s := v.Pix[y*v.Stride+x*8:]
			switch s[6] {
			case 0:
				return 0, 0, 0, 0
			case 0xff:
				return s[0], s[2], s[4], 0xff
			}
			a := uint32(s[6])<<8 | uint32(s[7])
			un := func(hi, lo uint8) uint8 { return uint8(((uint32(hi)<<8 | uint32(lo)) * 0xffff / a) >> 8) }
			return un(s[0], s[1]), un(s[2], s[3]), un(s[4], s[5]), s[6]
		}
	case *image.NRGBA64:
		pix, at = v.Pix, func(x, y int) (uint8, uint8, uint8, uint8) {
			s := v.Pix[y*v.Stride+x*8:]
			return s[0], s[2], s[4], s[6]
		}
	case *image.CMYK:
		pix, at = v.Pix, func(x, y int) (uint8, uint8, uint8, uint8) {
			r, g, b, _ := v.CMYKAt(x, y).RGBA()
			return uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff
		}
	}
	if pix == nil || r.Min != (image.Point{}) {
		return imaging.Clone(m)
	}
	// Pixel (x, y) lands at 4·(y·w + x), never after where it, or any pixel
	// not yet read, is stored: each is read whole before it is written.
	w := r.Dx()
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < w; x++ {
			cr, cg, cb, ca := at(x, y)
			d := pix[4*(y*w+x):][:4]
			d[0], d[1], d[2], d[3] = cr, cg, cb, ca
		}
	}
	return &image.NRGBA{Pix: pix[:4*w*r.Dy()], Stride: 4 * w, Rect: image.Rect(0, 0, w, r.Dy())}
}

// ycbcrToNRGBA converts image/jpeg's output row by row, with
// color.YCbCrToRGB's arithmetic (the same pixels as imaging.Clone).
func ycbcrToNRGBA(m *image.YCbCr) *image.NRGBA {
	r := m.Rect
	out := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	hs, vs := 0, 0 // chroma subsampling shifts
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio420:
		hs, vs = 1, 1
	case image.YCbCrSubsampleRatio422:
		hs = 1
	case image.YCbCrSubsampleRatio440:
		vs = 1
	case image.YCbCrSubsampleRatio411:
		hs = 2
	case image.YCbCrSubsampleRatio410:
		hs, vs = 2, 1
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		yrow := m.Y[(y-m.Rect.Min.Y)*m.YStride:]
		crow := (y>>vs - m.Rect.Min.Y>>vs) * m.CStride
		cb, cr := m.Cb[crow:], m.Cr[crow:]
		dst := out.Pix[(y-r.Min.Y)*out.Stride:][:r.Dx()*4]
		for x := r.Min.X; x < r.Max.X; x++ {
			ci := x>>hs - r.Min.X>>hs
			yy1 := int32(yrow[x-r.Min.X]) * 0x10101
			cb1, cr1 := int32(cb[ci])-128, int32(cr[ci])-128
			d := dst[(x-r.Min.X)*4:][:4]
			d[0], d[1], d[2], d[3] = clampYCC(yy1+91881*cr1), clampYCC(yy1-22554*cb1-46802*cr1), clampYCC(yy1+116130*cb1), 255
		}
	}
	return out
}

// clampYCC is color.YCbCrToRGB's rounding of a 16.16 fixed-point value.
func clampYCC(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}

// grayToNRGBA converts a gray image to opaque NRGBA.
func grayToNRGBA(m *image.Gray) *image.NRGBA {
	r := m.Rect
	out := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		src := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):][:r.Dx()]
		dst := out.Pix[y*out.Stride:][:len(src)*4]
		for x, g := range src {
			d := dst[x*4:][:4]
			d[0], d[1], d[2], d[3] = g, g, g, 255
		}
	}
	return out
}

// orient applies an EXIF orientation.
func orient(m *image.NRGBA, o int) *image.NRGBA {
	switch o {
	case 2:
		return imaging.FlipH(m)
	case 3:
		return imaging.Rotate180(m)
	case 4:
		return imaging.FlipV(m)
	case 5:
		return imaging.Transpose(m)
	case 6:
		return imaging.Rotate270(m)
	case 7:
		return imaging.Transverse(m)
	case 8:
		return imaging.Rotate90(m)
	}
	return m
}
