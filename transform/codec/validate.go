package codec

import (
	"bytes"
	"fmt"
	"image/gif"
	"image/jpeg"

	"github.com/gen2brain/avif"
	xwebp "golang.org/x/image/webp"
)

// Validate proves that b is an image Decode reads, within opt's limits
// (the budget and frame count of a decode of every frame; Page is
// ignored), while holding far less than a decode: a JPEG is decoded at
// 1/8 (every entropy-coded segment of a baseline file is read), a PNG
// inflated and checked row by row without keeping the rows, GIF and WebP
// animations decoded one frame at a time without composing, an AVIF
// sequence up to its first frame, a PDF's first page rendered at low
// density. Other stills are decoded (within the budget). It returns the
// probed Info: Frames counts an animation's frames, Pages a PDF's pages.
func Validate(b []byte, opt DecodeOptions) (info Info, err error) {
	if err := CheckContext(opt.Ctx); err != nil {
		return Info{}, err
	}
	opt.Page = 0
	if f, _ := Sniff(b); f == PDF {
		if info, err = probePDF(b); err != nil {
			return Info{}, err
		}
		opt.MinWidth, opt.MinHeight = 1, 1
		_, err = decodePDF(b, opt)
		return info, err
	}
	if info, err = Probe(b); err != nil {
		return Info{}, err
	}
	if err := checkDecode(info, opt); err != nil {
		return Info{}, err
	}
	defer func() {
		if r := recover(); r != nil {
			info, err = Info{}, &DecodeError{Format: info.Format, Err: fmt.Errorf("decoder failure: %v", r)}
		}
	}()
	switch info.Format {
	case JPEG:
		if info.jpeg.unusual && info.jpeg.progressive {
			// Only our full decode reads these at delivery, AC scans
			// included: validate with it.
			if _, ok := decodeJPEGScaled(b, 1, opt); !ok {
				if err = CheckContext(opt.Ctx); err == nil {
					err = &DecodeError{Format: JPEG, Err: errBadJPEG}
				}
			}
		} else if _, ok := decodeJPEGScaled(b, 8, opt); !ok {
			_, err = jpeg.Decode(reader(opt.Ctx, bytes.NewReader(b)))
		}
	case PNG:
		err = validatePNG(opt.Ctx, b)
	case GIF:
		err = gifFrames(b, opt, 0, func(int, *gif.GIF) error { return nil })
	case WebP:
		if info.Animated {
			err = webpFrames(b, info.Width, info.Height, 0, func(_ int, f webpFrame) error {
				if err := CheckContext(opt.Ctx); err != nil {
					return err
				}
				_, err := f.decode()
				return err
			})
		} else {
			_, err = xwebp.Decode(bytes.NewReader(b))
		}
	case AVIF:
		_, err = avif.Decode(bytes.NewReader(b))
	case BMP, TIFF, ICO:
		_, err = decodeMore(info.Format, b)
	}
	if err != nil {
		return Info{}, failure(info.Format, opt, err)
	}
	return info, nil
}
