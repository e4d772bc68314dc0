package codec

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
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

// image/jpeg's YCbCr and gray images convert to the same pixels as
// imaging.Clone gives, for every subsampling and for sub-images.
func TestYCbCrToNRGBAMatchesImaging(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		m := image.NewYCbCr(image.Rect(0, 0, 37, 29), ratio)
		for i := range m.Y {
			m.Y[i] = uint8(i * 7)
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = uint8(i*13+5), uint8(255-i*3)
		}
		for _, v := range []*image.YCbCr{m, m.SubImage(image.Rect(3, 5, 30, 21)).(*image.YCbCr)} {
			if got, want := toNRGBA(v), imaging.Clone(v); string(got.Pix) != string(want.Pix) || !got.Rect.Eq(want.Rect) {
				t.Errorf("%v %v: differs from imaging.Clone", ratio, v.Rect)
			}
		}
	}
	g := image.NewGray(image.Rect(0, 0, 19, 11))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 11)
	}
	sub := g.SubImage(image.Rect(2, 3, 17, 9)).(*image.Gray)
	if got, want := toNRGBA(sub), imaging.Clone(sub); string(got.Pix) != string(want.Pix) {
		t.Error("gray: differs from imaging.Clone")
	}
}

// A gray image (R = G = B everywhere) is written as one channel in JPEG
// and PNG; a colour one keeps three.
func TestGrayOutputKeepsOneChannel(t *testing.T) {
	gray := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := 0; i < len(gray.Pix); i += 4 {
		v := uint8(i / 5)
		gray.Pix[i], gray.Pix[i+1], gray.Pix[i+2], gray.Pix[i+3] = v, v, v, 255
	}
	colour := image.NewNRGBA(gray.Rect)
	copy(colour.Pix, gray.Pix)
	colour.Pix[100] ^= 1
	for _, f := range []Format{JPEG, PNG} {
		for _, c := range []struct {
			m    *image.NRGBA
			gray bool
		}{{gray, true}, {colour, false}} {
			var buf bytes.Buffer
			if err := Encode(&buf, &Image{Frames: []*image.NRGBA{c.m}}, f, EncodeOptions{Quality: 80}); err != nil {
				t.Fatal(err)
			}
			var cfg image.Config
			var err error
			if f == JPEG {
				cfg, err = jpeg.DecodeConfig(&buf)
			} else {
				cfg, err = png.DecodeConfig(&buf)
			}
			if err != nil {
				t.Fatal(err)
			}
			if isGray := cfg.ColorModel == color.GrayModel; isGray != c.gray {
				t.Errorf("%s: gray output %v, want %v", f, isGray, c.gray)
			}
		}
	}
}
