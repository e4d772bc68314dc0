package codec

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
)

// encodeBaselineSampled writes m as a baseline JPEG whose components have
// the sampling factors hs, vs (Y, Cb, Cr): the subsamplings image/jpeg
// refuses. Test-only: samples are box averages.
func encodeBaselineSampled(t *testing.T, m *image.RGBA, hs, vs [3]int) []byte {
	t.Helper()
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	e := &progEncoder{w: bw, sub: 1}
	e.init(m, 90)
	W, H := m.Rect.Dx(), m.Rect.Dy()
	hmax, vmax := max(hs[0], hs[1], hs[2]), max(vs[0], vs[1], vs[2])
	mcusX, mcusY := ceilDiv(W, 8*hmax), ceilDiv(H, 8*vmax)
	sample := func(c, sx, sy int) float64 {
		rx, ry := hmax/hs[c], vmax/vs[c]
		var s float64
		for dy := 0; dy < ry; dy++ {
			for dx := 0; dx < rx; dx++ {
				x, y := min(sx*rx+dx, W-1), min(sy*ry+dy, H-1)
				o := m.PixOffset(x, y)
				r, g, b := float64(m.Pix[o]), float64(m.Pix[o+1]), float64(m.Pix[o+2])
				switch c {
				case 0:
					s += 0.299*r + 0.587*g + 0.114*b - 128
				case 1:
					s += -0.168736*r - 0.331264*g + 0.5*b
				default:
					s += 0.5*r - 0.418688*g - 0.081312*b
				}
			}
		}
		return s / float64(rx*ry)
	}
	e.marker(0xD8)
	for tq := 0; tq < 2; tq++ {
		d := []byte{byte(tq)}
		for k := 0; k < 64; k++ {
			d = append(d, byte(e.quant[tq][zigzag[k]]))
		}
		e.segment(0xDB, d)
	}
	e.segment(0xC0, []byte{8, byte(H >> 8), byte(H), byte(W >> 8), byte(W), 3,
		1, byte(hs[0]<<4 | vs[0]), 0, 2, byte(hs[1]<<4 | vs[1]), 1, 3, byte(hs[2]<<4 | vs[2]), 1})
	for _, s := range huffSpecs {
		e.segment(0xC4, append(append([]byte{s.class<<4 | s.id}, s.counts[:]...), s.values...))
	}
	e.segment(0xDA, []byte{3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0})
	var pred [3]int32
	var blk [64]float64
	var coef [64]int32
	for my := 0; my < mcusY; my++ {
		for mx := 0; mx < mcusX; mx++ {
			for c := 0; c < 3; c++ {
				tq, dcT, acT := 0, 0, 1
				if c > 0 {
					tq, dcT, acT = 1, 2, 3
				}
				for v := 0; v < vs[c]; v++ {
					for h := 0; h < hs[c]; h++ {
						bx, by := (mx*hs[c]+h)*8, (my*vs[c]+v)*8
						for y := 0; y < 8; y++ {
							for x := 0; x < 8; x++ {
								blk[y*8+x] = sample(c, bx+x, by+y)
							}
						}
						e.fdct(&blk, tq, &coef)
						size, bits := magnitude(coef[0] - pred[c])
						pred[c] = coef[0]
						e.emit(dcT, size)
						e.bits(bits, size)
						run := 0
						for k := 1; k < 64; k++ {
							v := coef[zigzag[k]]
							if v == 0 {
								run++
								continue
							}
							for ; run > 15; run -= 16 {
								e.emit(acT, 0xF0)
							}
							size, bits := magnitude(v)
							e.emit(acT, byte(run<<4)|size)
							e.bits(bits, size)
							run = 0
						}
						if run > 0 {
							e.emit(acT, 0)
						}
					}
				}
			}
		}
	}
	e.flushBits()
	e.marker(0xD9)
	if err := bw.Flush(); err != nil || e.err != nil {
		t.Fatal(err, e.err)
	}
	return buf.Bytes()
}

// JPEGs with subsamplings image/jpeg refuses decode as libjpeg does.
func TestUnusualSubsampling(t *testing.T) {
	src, err := Decode(fixtures.Read(t, "photo-flower-1600x1203-progressive.jpg"), DecodeOptions{MinWidth: 200, MinHeight: 150})
	if err != nil {
		t.Fatal(err)
	}
	ref := src.Frames[0]
	rgba := &image.RGBA{Pix: ref.Pix, Stride: ref.Stride, Rect: ref.Rect}
	for name, f := range map[string][2][3]int{
		"Y 3x1 (4:1.33)":       {{3, 1, 1}, {1, 1, 1}},
		"Cr finer than Cb":     {{2, 1, 2}, {2, 1, 2}},
		"luma 1x1, chroma 2x2": {{1, 2, 2}, {1, 2, 2}},
	} {
		b := encodeBaselineSampled(t, rgba, f[0], f[1])
		if _, err := jpeg.Decode(bytes.NewReader(b)); err == nil {
			t.Fatalf("%s: image/jpeg reads it; the test needs a sampling it refuses", name)
		}
		if _, err := Validate(b, DecodeOptions{}); err != nil {
			t.Errorf("%s: validation: %v", name, err)
		}
		img, err := Decode(b, DecodeOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := img.Frames[0]
		if got.Rect != ref.Rect {
			t.Fatalf("%s: %v", name, got.Rect)
		}
		if p := psnr(got, ref); p < 28 {
			t.Errorf("%s: PSNR %.1f dB against the source", name, p)
		}
	}
}

func psnr(a, b *image.NRGBA) float64 {
	var sum float64
	for i := range a.Pix {
		d := float64(a.Pix[i]) - float64(b.Pix[i])
		sum += d * d
	}
	return 10 * math.Log10(255*255/(sum/float64(len(a.Pix))))
}

// A truncated progressive JPEG is refused at validation (upload) as it is
// at delivery; arithmetic coding is refused with a clear message.
func TestTruncatedProgressiveAndArithmetic(t *testing.T) {
	b := fixtures.Read(t, "photo-flower-1600x1203-progressive.jpg")
	cut := b[:len(b)*7/10]
	_, verr := Validate(cut, DecodeOptions{})
	_, derr := Decode(cut, DecodeOptions{})
	var de *DecodeError
	if !errors.As(verr, &de) || !errors.As(derr, &de) {
		t.Errorf("truncated progressive JPEG: validate %v, decode %v", verr, derr)
	}
	arith := bytes.Clone(fixtures.Read(t, "photo-snake-600x450-grayscale.jpg"))
	i := bytes.Index(arith, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0")
	}
	arith[i+1] = 0xC9 // SOF9: extended sequential, arithmetic coding
	for _, err := range []error{errOf(Probe(arith)), errOf(Decode(arith, DecodeOptions{})), errOf(Validate(arith, DecodeOptions{}))} {
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "arithmetic-coded") {
			t.Errorf("arithmetic JPEG: %v", err)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

// Progressive JPEGs with subsamplings image/jpeg refuses (written by
// libjpeg's cjpeg, with successive approximation and EOB runs; with and
// without restart markers, and a baseline one with them) decode as
// libjpeg's djpeg decodes them, at upload (Validate) and delivery alike;
// truncated, over budget or cancelled, they are refused.
func TestProgressiveUnusualSubsampling(t *testing.T) {
	for _, name := range []string{"progressive-3_1_1_1_1_1", "progressive-3_1_1_1_1_1-rst", "progressive-1_1_2_2_2_2",
		"progressive-2_1_1_1_2_1", "baseline-3_1_1_1_1_1-rst"} {
		b, err := os.ReadFile(filepath.Join("testdata", "sampling", name+".jpg"))
		if err != nil {
			t.Fatal(err)
		}
		_, refName, _ := strings.Cut(strings.TrimSuffix(name, "-rst"), "-")
		rb, err := os.ReadFile(filepath.Join("testdata", "sampling", "libjpeg-"+refName+".png"))
		if err != nil {
			t.Fatal(err)
		}
		refImg, err := png.Decode(bytes.NewReader(rb))
		if err != nil {
			t.Fatal(err)
		}
		ref := toNRGBA(refImg)
		if _, err := jpeg.Decode(bytes.NewReader(b)); err == nil {
			t.Fatalf("%s: image/jpeg reads it; the test needs a sampling it refuses", name)
		}
		if _, err := Validate(b, DecodeOptions{}); err != nil {
			t.Errorf("%s: validation: %v", name, err)
		}
		img, err := Decode(b, DecodeOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := img.Frames[0]
		if got.Rect != ref.Rect {
			t.Fatalf("%s: %v, libjpeg %v", name, got.Rect, ref.Rect)
		}
		if p := psnr(got, ref); p < 40 {
			t.Errorf("%s: PSNR %.1f dB against libjpeg's decode", name, p)
		}
		// Reduced decodes: 1/8 from the DC scans; 1/2 falls back to the full decode.
		for _, min := range []int{20, 90} {
			if m, err := Decode(b, DecodeOptions{MinWidth: min, MinHeight: min * 3 / 4}); err != nil || m.Frames[0].Rect.Dx() < min {
				t.Errorf("%s at %d px: %v", name, min, err)
			}
		}
		cut := b[:len(b)*8/10]
		var de *DecodeError
		if _, err := Validate(cut, DecodeOptions{}); !errors.As(err, &de) {
			t.Errorf("%s truncated: validate %v", name, err)
		}
		if _, err := Decode(cut, DecodeOptions{}); !errors.As(err, &de) {
			t.Errorf("%s truncated: decode %v", name, err)
		}
		if _, err := Decode(b, DecodeOptions{MaxPixels: 20000}); err == nil {
			t.Errorf("%s: decoded over MaxPixels", name)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var ce *CanceledError
		if _, err := Decode(b, DecodeOptions{Ctx: ctx}); !errors.As(err, &ce) {
			t.Errorf("%s: cancelled decode: %v", name, err)
		}
	}
}
