package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"

	xwebp "golang.org/x/image/webp"
)

// webpFrame is one ANMF frame: where it goes on the canvas, how long it
// shows, how it is drawn and disposed of, and its own bitstream.
type webpFrame struct {
	rect     image.Rectangle
	duration int // ms
	blend    bool
	dispose  bool // to transparent, before the next frame
	data     []byte
}

// webpFrames calls fn with the first n ANMF frames of b (n = 0: all),
// refusing frames that leave the w×h canvas as libwebp's demuxer does.
func webpFrames(b []byte, w, h, n int, fn func(k int, f webpFrame) error) error {
	var err error
	k := 0
	webpChunks(b, func(id string, d []byte) bool {
		if id != "ANMF" {
			return true
		}
		if len(d) < 16 {
			err = errors.New("short ANMF chunk")
			return false
		}
		x, y := 2*get24(d), 2*get24(d[3:])
		f := webpFrame{rect: image.Rect(x, y, x+1+get24(d[6:]), y+1+get24(d[9:])), duration: get24(d[12:]),
			blend: d[15]&0x02 == 0, dispose: d[15]&0x01 != 0, data: d[16:]}
		if !f.rect.In(image.Rect(0, 0, w, h)) {
			err = errors.New("animation frame outside the canvas")
			return false
		}
		err = fn(k, f)
		k++
		return err == nil && (n == 0 || k < n)
	})
	if err == nil && k == 0 {
		err = errors.New("no frames")
	}
	return err
}

// decode decodes the bitstream of an ANMF frame (ALPH, VP8 or VP8L
// chunks) as a still and checks its size against the frame header.
func (f webpFrame) decode() (*image.NRGBA, error) {
	var body bytes.Buffer
	body.WriteString("WEBP")
	alpha := false
	webpChunks(append([]byte("RIFF\x00\x00\x00\x00WEBP"), f.data...), func(id string, _ []byte) bool {
		alpha = alpha || id == "ALPH"
		return true
	})
	if alpha { // ALPH needs the extended header
		var vp8x [10]byte
		vp8x[0] = 0x10
		put24(vp8x[4:], f.rect.Dx()-1)
		put24(vp8x[7:], f.rect.Dy()-1)
		writeChunk(&body, "VP8X", vp8x[:])
	}
	body.Write(f.data)
	still := make([]byte, 8, 8+body.Len())
	copy(still, "RIFF")
	binary.LittleEndian.PutUint32(still[4:], uint32(body.Len()))
	m, err := xwebp.Decode(bytes.NewReader(append(still, body.Bytes()...)))
	if err != nil {
		return nil, err
	}
	if m.Bounds().Size() != f.rect.Size() {
		return nil, errors.New("animation frame size differs from its header")
	}
	return webpNRGBA(m), nil
}

// decodeWebPAnim composes an animated WebP frame by frame on a transparent
// canvas as libwebp's animation decoder does; with a Page only that frame
// is kept, so at most one decoded frame and the canvas are held besides
// the kept ones.
func decodeWebPAnim(b []byte, info Info, opt DecodeOptions) (*Image, error) {
	canvas := image.NewNRGBA(image.Rect(0, 0, info.Width, info.Height))
	out := &Image{}
	last := info.Frames - 1
	if opt.Page > 0 {
		last = opt.Page - 1
	}
	err := webpFrames(b, info.Width, info.Height, opt.Page, func(k int, f webpFrame) error {
		if err := CheckContext(opt.Ctx); err != nil {
			return err
		}
		m, err := f.decode()
		if err != nil {
			return err
		}
		drawWebPFrame(canvas, m, f.rect.Min, f.blend)
		if opt.Page == 0 || k == last {
			kept := canvas
			if k < last {
				kept = image.NewNRGBA(canvas.Rect)
				copy(kept.Pix, canvas.Pix)
			}
			out.Frames = append(out.Frames, kept)
			out.Delays = append(out.Delays, f.duration)
		}
		if f.dispose && k < last {
			for y := f.rect.Min.Y; y < f.rect.Max.Y; y++ {
				clear(canvas.Pix[canvas.PixOffset(f.rect.Min.X, y):canvas.PixOffset(f.rect.Max.X, y)])
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out.Frames) == 0 { // fewer frames than the page
		return nil, &PageError{Page: opt.Page, Pages: info.Frames}
	}
	return out, nil
}

// drawWebPFrame draws m at p on canvas: copied, or alpha-blended in
// non-premultiplied space with libwebp's integer arithmetic (opaque and
// transparent pixels, and pixels over transparent ones, are exact).
func drawWebPFrame(canvas, m *image.NRGBA, p image.Point, blend bool) {
	w := m.Rect.Dx() * 4
	for y := 0; y < m.Rect.Dy(); y++ {
		src := m.Pix[y*m.Stride : y*m.Stride+w]
		dst := canvas.Pix[canvas.PixOffset(p.X, p.Y+y):][:w]
		if !blend {
			copy(dst, src)
			continue
		}
		for i := 0; i < w; i += 4 {
			sa := uint32(src[i+3])
			switch {
			case sa == 0:
				continue
			case sa == 255, dst[i+3] == 0:
				copy(dst[i:i+4], src[i:i+4])
				continue
			}
			da := uint32(dst[i+3]) * (256 - sa) >> 8
			ba := sa + da
			scale := (uint32(1) << 24) / ba
			for c := 0; c < 3; c++ {
				dst[i+c] = uint8((uint32(src[i+c])*sa + uint32(dst[i+c])*da) * scale >> 24)
			}
			dst[i+3] = uint8(ba)
		}
	}
}
