package codec

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"github.com/disintegration/imaging"
	"github.com/edgepix/edgepix/transform/codec/codectest"
)

// The in-place conversions give imaging.Clone's values.
func TestInPlaceConversionMatchesImaging(t *testing.T) {
	make4 := func() []image.Image {
		r := rand.New(rand.NewPCG(3, 4))
		a := image.NewRGBA(image.Rect(0, 0, 37, 23))
		b := image.NewRGBA64(a.Rect)
		c := image.NewNRGBA64(a.Rect)
		d := image.NewCMYK(a.Rect)
		for y := 0; y < 23; y++ {
			for x := 0; x < 37; x++ {
				al := []uint8{0, 255, uint8(r.IntN(256))}[r.IntN(3)]
				a.SetRGBA(x, y, color.RGBA{uint8(r.IntN(int(al) + 1)), uint8(r.IntN(int(al) + 1)), uint8(r.IntN(int(al) + 1)), al})
				a16 := []uint16{0, 0xffff, 0xff12, uint16(r.IntN(65536))}[r.IntN(4)]
				b.SetRGBA64(x, y, color.RGBA64{uint16(r.IntN(int(a16) + 1)), uint16(r.IntN(int(a16) + 1)), uint16(r.IntN(int(a16) + 1)), a16})
				c.SetNRGBA64(x, y, color.NRGBA64{uint16(r.IntN(65536)), uint16(r.IntN(65536)), uint16(r.IntN(65536)), uint16(r.IntN(65536))})
				d.SetCMYK(x, y, color.CMYK{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256))})
			}
		}
		return []image.Image{a, b, c, d}
	}
	ref, in := make4(), make4()
	for i := range ref {
		want, got := imaging.Clone(ref[i]), toNRGBA(in[i])
		if string(want.Pix) != string(got.Pix) || want.Rect != got.Rect {
			t.Errorf("%T: differs from imaging.Clone", ref[i])
		}
	}
}

// A 16-bit PNG (8 bytes a pixel) is converted within its own buffer: its
// decode allocates that buffer, not another 4 bytes a pixel on top (a
// 100 MP one peaked at 1.17 GB, now 0.78 GB; an 8-bit RGB one at 775 MB,
// now 393 MB).
func TestWideDecodesConvertInPlace(t *testing.T) {
	const w, h = 2000, 2000
	for _, tc := range []struct {
		ct, depth byte
		bpp       int
	}{{6, 16, 8}, {2, 16, 6}, {2, 8, 3}} {
		b := pngOf(w, h, tc.depth, tc.ct, 0, rows(h, 1+w*tc.bpp, 0))
		var err error
		a := codectest.AllocDuring(func() { _, err = Decode(b, DecodeOptions{}) })
		decoded := max(tc.bpp, 4) * w * h // image/png's buffer: RGBA64, NRGBA64 or RGBA
		if tc.depth == 16 && tc.ct == 2 {
			decoded = 8 * w * h
		}
		if err != nil || a > uint64(decoded)+4<<20 {
			t.Errorf("colour type %d, %d-bit: %v, %d MiB allocated for a %d MiB decode", tc.ct, tc.depth, err, a>>20, decoded>>20)
		}
	}
}
