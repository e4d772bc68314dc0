package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
)

// GIFBomb is a tiny GIF whose logical screen is w×h with frames 1×1
// frames: each composited frame is screen-sized, so decoding all of them
// naively needs frames×w×h×4 bytes.
func GIFBomb(w, h, frames int) []byte {
	g := &gif.GIF{Config: image.Config{Width: w, Height: h, ColorModel: color.Palette(palette.Plan9)}}
	for i := range frames {
		m := image.NewPaletted(image.Rect(0, 0, 1, 1), palette.Plan9)
		m.SetColorIndex(0, 0, uint8(i))
		g.Image = append(g.Image, m)
		g.Delay = append(g.Delay, 10)
	}
	var buf bytes.Buffer
	gif.EncodeAll(&buf, g)
	return buf.Bytes()
}

// JPEGTwoFrames is a valid 64×64 JPEG with a second frame header (SOF0)
// declaring w×h inserted after the first: a decoder that checks limits
// on the first header and allocates for the second is fooled.
func JPEGTwoFrames(w, h uint16) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 64)), nil); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	if i < 0 {
		return nil, errors.New("no SOF0 in the encoded JPEG")
	}
	n := int(binary.BigEndian.Uint16(b[i+2:]))
	sof := append([]byte(nil), b[i:i+2+n]...)
	binary.BigEndian.PutUint16(sof[5:], h)
	binary.BigEndian.PutUint16(sof[7:], w)
	out := append(append(append([]byte(nil), b[:i+2+n]...), sof...), b[i+2+n:]...)
	return out, nil
}
