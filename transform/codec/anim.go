package codec

import (
	"bytes"
	"errors"
	"image"
	"image/draw"
	"image/gif"

	"github.com/disintegration/imaging"
	"github.com/gen2brain/avif"
)

// gifFrames decodes the first n frames of a GIF one at a time (each as a
// GIF of its own, so that only one paletted frame is held) and calls fn
// with each. n = 0 means every frame; the file must then end with its
// trailer, as image/gif's DecodeAll requires.
func gifFrames(b []byte, opt DecodeOptions, n int, fn func(k int, g *gif.GIF) error) error {
	header, ends, complete := gifLayout(b)
	if n == 0 {
		if !complete {
			return errors.New("truncated or malformed block structure")
		}
		n = len(ends)
	}
	if n == 0 {
		return errors.New("no frames")
	}
	if n > len(ends) {
		return &PageError{Page: n, Pages: len(ends)}
	}
	for k := 0; k < n; k++ {
		if err := CheckContext(opt.Ctx); err != nil {
			return err
		}
		g, err := gif.DecodeAll(bytes.NewReader(gifFrame(b, header, ends, k)))
		if err != nil {
			return err
		}
		if len(g.Image) != 1 {
			return errors.New("malformed frame")
		}
		if err := fn(k, g); err != nil {
			return err
		}
	}
	return nil
}

// decodeGIF composes the frames on the logical screen, honouring disposal
// methods, so that every output frame is a full picture. Frames are
// decoded and composed one at a time; with a Page only that frame is kept.
func decodeGIF(b []byte, info Info, opt DecodeOptions) (*Image, error) {
	canvas := image.NewNRGBA(image.Rect(0, 0, info.Width, info.Height))
	out := &Image{LoopCount: -1}
	last := info.Frames - 1
	if opt.Page > 0 {
		last = opt.Page - 1
	}
	err := gifFrames(b, opt, opt.Page, func(k int, g *gif.GIF) error {
		if g.LoopCount != -1 {
			out.LoopCount = g.LoopCount
		}
		frame, disposal := g.Image[0], g.Disposal[0]
		r := frame.Bounds()
		var saved *image.NRGBA
		if disposal == gif.DisposalPrevious && k < last {
			saved = imaging.Clone(canvas.SubImage(r))
		}
		draw.Draw(canvas, r, frame, r.Min, draw.Over)
		if opt.Page == 0 || k == last {
			kept := canvas
			if k < last {
				kept = imaging.Clone(canvas)
			}
			delay := 100
			if g.Delay[0] > 0 {
				delay = g.Delay[0] * 10
			}
			out.Frames = append(out.Frames, kept)
			out.Delays = append(out.Delays, delay)
		}
		switch {
		case k == last:
		case disposal == gif.DisposalBackground:
			draw.Draw(canvas, r, image.Transparent, image.Point{}, draw.Src)
		case saved != nil:
			draw.Draw(canvas, r, saved, image.Point{}, draw.Src)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out.LoopCount < 0 {
		out.LoopCount = 1
	}
	return out, nil
}

// animation copies frames decoded by libavif, which lie in its
// WebAssembly memory (many times their size: it must not stay alive), and
// their delays (ms) to an Image.
func animation(f Format, frames []image.Image, delayMs func(i int) int) (*Image, error) {
	if len(frames) == 0 {
		return nil, &DecodeError{Format: f, Err: errors.New("no frames")}
	}
	out := &Image{}
	for i, m := range frames {
		out.Frames = append(out.Frames, imaging.Clone(m))
		out.Delays = append(out.Delays, delayMs(i))
	}
	return out, nil
}

// decodeAVIF decodes a still, the first frame of a sequence (which libavif
// decodes alone), or every frame, copied out of libavif's memory.
func decodeAVIF(b []byte, info Info, opt DecodeOptions) (*Image, error) {
	if !info.Animated || opt.Page == 1 {
		return decodeStill(AVIF, func() (image.Image, error) {
			m, err := avif.Decode(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return imaging.Clone(m), nil
		})
	}
	all, err := avif.DecodeAll(bytes.NewReader(b))
	if err != nil {
		return nil, &DecodeError{Format: AVIF, Err: err}
	}
	frames, first := all.Image, 0
	if opt.Page > 0 {
		if len(frames) < opt.Page {
			return nil, &PageError{Page: opt.Page, Pages: len(frames)}
		}
		frames, first = frames[opt.Page-1:opt.Page], opt.Page-1
	}
	return animation(AVIF, frames, func(i int) int {
		if i += first; i < len(all.Delay) {
			return int(all.Delay[i] * 1000)
		}
		return 100
	})
}
