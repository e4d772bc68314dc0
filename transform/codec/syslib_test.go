package codec

import (
	"bytes"
	"image"
	"os"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/gen2brain/avif"
	gwebp "github.com/gen2brain/webp"
)

// requireSystem returns the loaded system libraries, failing when `make
// test` should have installed them (it does, from Debian) and skipping
// elsewhere.
func requireSystem(t *testing.T) (*webpLib, *avifLib) {
	w, a := sysWebP(), sysAVIF()
	if w == nil || a == nil {
		if os.Getenv("EDGEPIX_REQUIRE_SYSTEM_CODECS") != "" {
			t.Fatalf("libwebp (%v) or libavif (%v) not loaded; install libwebp7 and libavif15", w != nil, a != nil)
		}
		t.Skip("the system libwebp7 and libavif15 are not installed: only the embedded codecs are tested")
	}
	return w, a
}

func psnrNRGBA(t *testing.T, a *image.NRGBA, data []byte) float64 {
	t.Helper()
	m, err := Decode(data, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := m.Frames[0]
	if b.Rect.Size() != a.Rect.Size() {
		t.Fatalf("decoded %v, want %v", b.Rect.Size(), a.Rect.Size())
	}
	return min(psnr(premultiplied(a), premultiplied(b)), 100)
}

// compact is a copy of m at the origin, without its stride (the embedded
// encoders read a crop's pixels from the start of its buffer).
func compact(m *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, m.Rect.Dx(), m.Rect.Dy()))
	for y := 0; y < m.Rect.Dy(); y++ {
		copy(out.Pix[y*out.Stride:], m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y):][:out.Stride])
	}
	return out
}

// premultiplied is m's colours times their alpha (what shows), without
// m's stride: the colour of a transparent pixel is not kept by encoders.
func premultiplied(m *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, m.Rect.Dx(), m.Rect.Dy()))
	for y := 0; y < m.Rect.Dy(); y++ {
		src := m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y):][:out.Stride]
		dst := out.Pix[y*out.Stride:][:out.Stride]
		for i := 0; i < len(src); i += 4 {
			a := uint32(src[i+3])
			dst[i], dst[i+1], dst[i+2], dst[i+3] = uint8(uint32(src[i])*a/255), uint8(uint32(src[i+1])*a/255), uint8(uint32(src[i+2])*a/255), src[i+3]
		}
	}
	return out
}

// The system libwebp and libavif write what the embedded builds write:
// the same size of image, its quality within 1.5 dB and its bytes within
// 30%, with or without alpha, lossless WebP exactly; crops (a stride
// wider than the row) included.
func TestSystemCodecsMatchEmbedded(t *testing.T) {
	wl, al := requireSystem(t)
	img, err := Decode(fixtures.Read(t, "photo-storm-1920x1280.jpg"), DecodeOptions{MinWidth: 480, MinHeight: 320})
	if err != nil {
		t.Fatal(err)
	}
	photo := img.Frames[0]
	crop := photo.SubImage(image.Rect(10, 20, 331, 237)).(*image.NRGBA)
	png, err := Decode(fixtures.Read(t, "webp-lossless-alpha-rose-400x301.webp"), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alpha := png.Frames[0]
	for name, m := range map[string]*image.NRGBA{"photo": photo, "crop": crop, "alpha": alpha} {
		for _, lossless := range []bool{false, true} {
			var sys, emb bytes.Buffer
			if err := wl.encodeWebP(&sys, m, 80, 2, lossless); err != nil {
				t.Fatal(err)
			}
			if err := gwebp.Encode(&emb, compact(m), gwebp.Options{Quality: 80, Method: 2, Lossless: lossless}); err != nil {
				t.Fatal(err)
			}
			compare(t, name+" webp", m, sys.Bytes(), emb.Bytes(), lossless)
		}
		for _, full := range []bool{false, true} {
			var sys, emb bytes.Buffer
			if err := al.encodeAVIF(&sys, m, 60, 60, avifSpeed, full); err != nil {
				t.Fatal(err)
			}
			sub := image.YCbCrSubsampleRatio420
			if full {
				sub = image.YCbCrSubsampleRatio444
			}
			if err := avif.Encode(&emb, compact(m), avif.Options{Quality: 60, QualityAlpha: 60, Speed: avifSpeed, ChromaSubsampling: sub}); err != nil {
				t.Fatal(err)
			}
			compare(t, name+" avif", m, sys.Bytes(), emb.Bytes(), false)
		}
	}
}

func compare(t *testing.T, what string, m *image.NRGBA, sys, emb []byte, exact bool) {
	t.Helper()
	ps, pe := psnrNRGBA(t, m, sys), psnrNRGBA(t, m, emb)
	t.Logf("%s: system %d bytes %.1f dB, embedded %d bytes %.1f dB", what, len(sys), ps, len(emb), pe)
	if exact {
		if ps < 99 || pe < 99 {
			t.Errorf("%s: lossless output differs from its input (%.1f / %.1f dB)", what, ps, pe)
		}
		return
	}
	if ps < pe-1.5 || ps < 30 {
		t.Errorf("%s: system codec %.1f dB, embedded %.1f dB", what, ps, pe)
	}
	if r := float64(len(sys)) / float64(len(emb)); r < 0.7 || r > 1.3 {
		t.Errorf("%s: system codec wrote %d bytes, embedded %d", what, len(sys), len(emb))
	}
}

// Encode goes through the system libraries when they are loaded.
func TestEncodeUsesSystemCodecs(t *testing.T) {
	requireSystem(t)
	if got := SystemCodecs(); len(got) != 2 {
		t.Fatalf("SystemCodecs() = %v", got)
	}
}
