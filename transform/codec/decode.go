package codec

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"

	"github.com/disintegration/imaging"
	"github.com/gen2brain/avif"
	gwebp "github.com/gen2brain/webp"
	xwebp "golang.org/x/image/webp"
)

// DefaultMaxPixels is the default limit on one frame's pixel count (100 MP).
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
	Pages       int // PDF pages (0 for other formats)
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
	MaxPixels         int64 // per frame; 0 means DefaultMaxPixels
	MaxFrames         int   // 0 means DefaultMaxFrames
	Page              int   // 1-based frame to keep; 0 keeps all frames
	IgnoreOrientation bool  // do not apply EXIF orientation (a_ignore)
	// MinWidth and MinHeight, when set, let the JPEG decoder return a 1/8
	// scale image when that is still at least this large, in display
	// orientation. The result is then smaller than Info's size.
	MinWidth, MinHeight int
}

func (o DecodeOptions) maxPixels() int64 {
	if o.MaxPixels > 0 {
		return o.MaxPixels
	}
	return DefaultMaxPixels
}

// Probe reads the format and dimensions from the header only.
func Probe(b []byte) (Info, error) {
	f, err := Sniff(b)
	if err != nil {
		return Info{}, err
	}
	if f == PDF {
		return probePDF(b)
	}
	info := Info{Format: f, Orientation: 1}
	var cfg image.Config
	r := bytes.NewReader(b)
	switch f {
	case JPEG:
		cfg, err = jpeg.DecodeConfig(r)
		info.Orientation = jpegOrientation(b)
	case PNG:
		cfg, err = png.DecodeConfig(r)
	case GIF:
		cfg, err = gif.DecodeConfig(r)
		info.Animated = gifFrameCount(b) > 1
	case WebP:
		cfg, err = webpConfig(b)
		info.Animated = webpAnimated(b)
	case AVIF:
		cfg, err = avif.DecodeConfig(r)
		info.Animated = avifSequence(b)
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
	if p := int64(w) * int64(h); p > limit {
		return &LimitError{What: what, Width: w, Height: h, Pixels: p, Limit: limit}
	}
	return nil
}

// Decode decodes b after checking its declared size against the limits.
// Corrupt or truncated input returns a *DecodeError, never a panic.
func Decode(b []byte, opt DecodeOptions) (img *Image, err error) {
	if f, _ := Sniff(b); f == PDF {
		return decodePDF(b, opt) // sized to the limit, never refused for it
	}
	info, err := Probe(b)
	if err != nil {
		return nil, err
	}
	if err := CheckPixels("image", info.Width, info.Height, opt.maxPixels()); err != nil {
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
		img, err = decodeStill(info.Format, func() (image.Image, error) { return png.Decode(bytes.NewReader(b)) })
	case GIF:
		img, err = decodeGIF(b, info, opt)
	case WebP:
		if info.Animated {
			img, err = decodeWebPAnim(b, info, opt)
		} else {
			img, err = decodeStill(info.Format, func() (image.Image, error) { return xwebp.Decode(bytes.NewReader(b)) })
		}
	case AVIF:
		img, err = decodeAVIF(b, info, opt)
	}
	if err != nil {
		var de *DecodeError
		var le *LimitError
		if !errors.As(err, &de) && !errors.As(err, &le) {
			err = &DecodeError{Format: info.Format, Err: err}
		}
		return nil, err
	}
	img.Format = info.Format
	if opt.Page > 0 {
		if opt.Page > len(img.Frames) {
			return nil, &PageError{Page: opt.Page, Pages: len(img.Frames)}
		}
		img.Frames = img.Frames[opt.Page-1 : opt.Page]
		img.Delays = img.Delays[opt.Page-1 : opt.Page]
	}
	if !opt.IgnoreOrientation && info.Orientation > 1 {
		for i, f := range img.Frames {
			img.Frames[i] = orient(f, info.Orientation)
		}
	}
	return img, nil
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
	if opt.MinWidth > 0 || opt.MinHeight > 0 {
		w, h := info.Width, info.Height
		minW, minH := opt.MinWidth, opt.MinHeight
		if info.Orientation >= 5 && !opt.IgnoreOrientation {
			w, h, minW, minH = h, w, minH, minW
		}
		if info.Orientation >= 5 && opt.IgnoreOrientation {
			w, h = h, w
		}
		for _, d := range []int{8, 4, 2} { // the smallest decode that is large enough
			if ceilDiv(w, d) < minW || ceilDiv(h, d) < minH {
				continue
			}
			if m, ok := decodeJPEGScaled(b, d); ok {
				return &Image{Frames: []*image.NRGBA{m}, Delays: []int{0}}, nil
			}
		}
	}
	return decodeStill(JPEG, func() (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) })
}

func decodeGIF(b []byte, info Info, opt DecodeOptions) (*Image, error) {
	maxFrames := opt.MaxFrames
	if maxFrames <= 0 {
		maxFrames = DefaultMaxFrames
	}
	if n := gifFrameCount(b); n > maxFrames {
		return nil, fmt.Errorf("animation has %d frames, more than the limit of %d", n, maxFrames)
	}
	g, err := gif.DecodeAll(bytes.NewReader(b))
	if err != nil {
		return nil, &DecodeError{Format: GIF, Err: err}
	}
	return compositeGIF(g, info), nil
}

// compositeGIF renders each GIF frame onto the logical screen, honouring
// disposal methods, so that every output frame is a full picture.
func compositeGIF(g *gif.GIF, info Info) *Image {
	w, h := g.Config.Width, g.Config.Height
	if w == 0 || h == 0 {
		w, h = info.Width, info.Height
	}
	canvas := image.NewNRGBA(image.Rect(0, 0, w, h))
	out := &Image{LoopCount: g.LoopCount}
	if out.LoopCount < 0 {
		out.LoopCount = 1
	}
	for i, frame := range g.Image {
		var saved *image.NRGBA
		disposal := byte(0)
		if i < len(g.Disposal) {
			disposal = g.Disposal[i]
		}
		if disposal == gif.DisposalPrevious {
			saved = imaging.Clone(canvas)
		}
		draw.Draw(canvas, frame.Bounds(), frame, frame.Bounds().Min, draw.Over)
		out.Frames = append(out.Frames, imaging.Clone(canvas))
		delay := 100
		if i < len(g.Delay) && g.Delay[i] > 0 {
			delay = g.Delay[i] * 10
		}
		out.Delays = append(out.Delays, delay)
		switch disposal {
		case gif.DisposalBackground:
			draw.Draw(canvas, frame.Bounds(), image.Transparent, image.Point{}, draw.Src)
		case gif.DisposalPrevious:
			canvas = saved
		}
	}
	return out
}

func decodeWebPAnim(b []byte, info Info, opt DecodeOptions) (*Image, error) {
	all, err := gwebp.DecodeAll(bytes.NewReader(b))
	if err != nil {
		return nil, &DecodeError{Format: WebP, Err: err}
	}
	return animation(WebP, all.Image, func(i int) int {
		if i < len(all.Delay) {
			return all.Delay[i]
		}
		return 100
	})
}

// animation converts decoded frames and their delays (ms) to an Image.
func animation(f Format, frames []image.Image, delayMs func(i int) int) (*Image, error) {
	if len(frames) == 0 {
		return nil, &DecodeError{Format: f, Err: errors.New("no frames")}
	}
	out := &Image{}
	for i, m := range frames {
		out.Frames = append(out.Frames, toNRGBA(m))
		out.Delays = append(out.Delays, delayMs(i))
	}
	return out, nil
}

func decodeAVIF(b []byte, info Info, opt DecodeOptions) (*Image, error) {
	if !info.Animated {
		return decodeStill(AVIF, func() (image.Image, error) { return avif.Decode(bytes.NewReader(b)) })
	}
	all, err := avif.DecodeAll(bytes.NewReader(b))
	if err != nil {
		return nil, &DecodeError{Format: AVIF, Err: err}
	}
	return animation(AVIF, all.Image, func(i int) int {
		if i < len(all.Delay) {
			return int(all.Delay[i] * 1000)
		}
		return 100
	})
}

// toNRGBA converts any image to *image.NRGBA with its origin at (0,0).
func toNRGBA(m image.Image) *image.NRGBA {
	if n, ok := m.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	return imaging.Clone(m)
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
