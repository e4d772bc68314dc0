package codec

import (
	"encoding/binary"
	"image/color"
	"testing"
)

// icoDIB builds an icon with one bitmap entry of bpp bits a pixel: its
// palette (for 1–8 bits), bottom-up rows of palette indexes, and an AND
// mask that makes the top-left pixel transparent.
func icoDIB(w, h, bpp int, palette []color.NRGBA, index func(x, y int) int) []byte {
	stride := (w*bpp + 31) / 32 * 4
	maskStride := (w + 31) / 32 * 4
	dib := make([]byte, 40)
	binary.LittleEndian.PutUint32(dib[0:], 40)
	binary.LittleEndian.PutUint32(dib[4:], uint32(w))
	binary.LittleEndian.PutUint32(dib[8:], uint32(2*h))
	binary.LittleEndian.PutUint16(dib[12:], 1)
	binary.LittleEndian.PutUint16(dib[14:], uint16(bpp))
	binary.LittleEndian.PutUint32(dib[32:], uint32(len(palette)))
	for _, c := range palette {
		dib = append(dib, c.B, c.G, c.R, 0)
	}
	rows := make([]byte, stride*h)
	for y := 0; y < h; y++ {
		row := rows[(h-1-y)*stride:]
		for x := 0; x < w; x++ {
			bit := x * bpp
			row[bit/8] |= byte(index(x, y) << (8 - bpp - bit%8))
		}
	}
	mask := make([]byte, maskStride*h)
	mask[(h-1)*maskStride] = 0x80 // top-left pixel transparent
	dib = append(append(dib, rows...), mask...)
	dir := make([]byte, 22)
	binary.LittleEndian.PutUint16(dir[2:], 1)
	binary.LittleEndian.PutUint16(dir[4:], 1)
	dir[6], dir[7] = byte(w), byte(h)
	binary.LittleEndian.PutUint16(dir[12:], uint16(bpp))
	binary.LittleEndian.PutUint32(dir[14:], uint32(len(dib)))
	binary.LittleEndian.PutUint32(dir[18:], 22)
	return append(dir, dib...)
}

// Icon entries with a palette (1, 4 and 8 bits a pixel) decode to their
// palette colours, with the AND mask's transparency.
func TestICOPalette(t *testing.T) {
	for _, bpp := range []int{1, 4, 8} {
		n := 1 << bpp
		palette := make([]color.NRGBA, n)
		for i := range palette {
			palette[i] = color.NRGBA{uint8(i * 37), uint8(255 - i*11), uint8(i * 5), 255}
		}
		index := func(x, y int) int { return (x*3 + y*7) % n }
		w, h := 21, 13 // rows that need padding
		b := icoDIB(w, h, bpp, palette, index)
		if f, _ := Sniff(b); f != ICO {
			t.Fatalf("%d bpp: sniffed %q", bpp, f)
		}
		if _, err := Validate(b, DecodeOptions{}); err != nil {
			t.Fatalf("%d bpp: validate: %v", bpp, err)
		}
		img, err := Decode(b, DecodeOptions{})
		if err != nil {
			t.Fatalf("%d bpp: %v", bpp, err)
		}
		m := img.Frames[0]
		if m.Rect.Dx() != w || m.Rect.Dy() != h {
			t.Fatalf("%d bpp: %v", bpp, m.Rect)
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				want := palette[index(x, y)]
				if x == 0 && y == 0 {
					want.A = 0
				}
				if got := m.NRGBAAt(x, y); got != want {
					t.Fatalf("%d bpp: pixel %d,%d is %v, want %v", bpp, x, y, got, want)
				}
			}
		}
	}
}
