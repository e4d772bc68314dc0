//go:build linux

package codec

import (
	"errors"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/transform/codec/codectest"
)

const mib = 1 << 20

// A second SOF after the scan declares 8000×8000 where the probe saw
// 64×64. The reduced decoder used to allocate its coefficient planes and
// output for the second (≈200 MB at 1/2); now it refuses the file, and so
// does image/jpeg.
func TestJPEGSecondFrameHeaderRefused(t *testing.T) {
	b := jpegSecondSOF(t, 8000, 8000)
	for _, d := range []int{8, 4, 2} {
		if _, ok := decodeJPEGScaled(b, d, DecodeOptions{}); ok {
			t.Errorf("1/%d: the reduced decoder accepted a second frame header", d)
		}
	}
	for _, min := range []int{0, 1, 16, 32} {
		var err error
		a := codectest.AllocDuring(func() { _, err = Decode(b, DecodeOptions{MinWidth: min, MinHeight: min}) })
		if err == nil {
			t.Errorf("min %d: decoded", min)
		}
		if a > 8*mib {
			t.Errorf("min %d: allocated %d MiB before failing", min, a/mib)
		}
	}
}

// The reduced decoder also bounds the frame it allocates for by MaxPixels,
// whatever the probe said.
func TestJPEGScaledChecksItsOwnFrame(t *testing.T) {
	b := fixtures.Read(t, "photo-storm-1920x1280.jpg")
	if _, ok := decodeJPEGScaled(b, 8, DecodeOptions{MaxPixels: 1920*1280 - 1}); ok {
		t.Fatal("decoded a frame over MaxPixels")
	}
	if _, ok := decodeJPEGScaled(b, 8, DecodeOptions{MaxPixels: 1920 * 1280}); !ok {
		t.Fatal("refused a frame within MaxPixels")
	}
}

// The reported bomb: 65535×65535 in the second SOF (9.8 GB before). In a
// child process capped at 1 GiB.
func TestJPEGSecondFrameHeaderBomb(t *testing.T) {
	codectest.InBoundedChild(t, 1<<30, func(t *testing.T) {
		b := jpegSecondSOF(t, 65535, 65535)
		for _, min := range []int{1, 16, 32} {
			var err error
			a := codectest.AllocDuring(func() { _, err = Decode(b, DecodeOptions{MinWidth: min, MinHeight: min}) })
			t.Logf("bounded: 65535x65535 second SOF, min %d: %v, %d KiB", min, err, a>>10)
			if err == nil || a > 8*mib {
				t.Errorf("min %d: err %v after %d MiB", min, err, a/mib)
			}
		}
	})
}

// image/jpeg decodes a progressive file through coefficient buffers of 4
// bytes per component sample: a 100 MP 4:4:4 progressive JPEG (a few
// hundred bytes of headers) asked for 1.2 GB of them plus 300 MB of planes
// before reading any data. Its full decode is weighed accordingly; the
// 1/8 decode, which only keeps DC coefficients, is not.
func TestProgressiveJPEGWeighsItsCoefficients(t *testing.T) {
	codectest.InBoundedChild(t, 1<<30, func(t *testing.T) {
		b := progressiveJPEGHeader(10000, 10000)
		if _, err := Probe(b); err != nil {
			t.Fatal(err)
		}
		var err error
		a := codectest.AllocDuring(func() { _, err = Decode(b, DecodeOptions{}) })
		t.Logf("bounded: %d-byte 10000x10000 progressive JPEG: %v, %d KiB", len(b), err, a>>10)
		var le *LimitError
		if !errors.As(err, &le) || a > 8*mib {
			t.Fatalf("want a *LimitError before allocating, got %v after %d MiB", err, a/mib)
		}
	})
	b := fixtures.Read(t, "photo-dandelions-5312x2988-progressive.jpg")
	info, _ := Probe(b)
	limit := int64(5312 * 2988) // the frame fits; with its coefficients it exceeds 2.5 times that
	if _, err := Decode(b, DecodeOptions{MaxPixels: limit}); err == nil {
		t.Error("a full progressive decode was not weighed")
	}
	opt := DecodeOptions{MaxPixels: limit, MinWidth: 600, MinHeight: 300}
	if _, err := Decode(b, opt); err != nil {
		t.Errorf("1/8 decode: %v", err)
	}
	if p := DecodedPixels(info, DecodeOptions{}); p < 2*5312*2988 {
		t.Errorf("DecodedPixels %d does not weigh the full progressive decode", p)
	}
}

// A 10000×10000 screen with ten one-pixel frames: ≈300 bytes, 4 GB of
// composed frames before (the upload decode). Refused by the total budget
// before any frame is decoded.
func TestGIFScreenBomb(t *testing.T) {
	codectest.InBoundedChild(t, 1<<30, func(t *testing.T) {
		b := gifBomb(t, 10000, 10000, 10)
		var err error
		a := codectest.AllocDuring(func() { _, err = Decode(b, DecodeOptions{MinWidth: 1, MinHeight: 1}) })
		t.Logf("bounded: %d-byte GIF, 10 frames of 10000x10000: %v, %d KiB", len(b), err, a>>10)
		var le *LimitError
		if !errors.As(err, &le) || le.Pixels != 10*10000*10000 {
			t.Fatalf("want a *LimitError counting every frame, got %v", err)
		}
		if a > 8*mib {
			t.Fatalf("allocated %d MiB before refusing", a/mib)
		}
	})
}

// With a page, a GIF is composed frame by frame and only that frame is
// kept: the 40th frame of a 4000×4000 × 40 animation holds one screen
// (64 MB), not forty (2.5 GB before).
func TestGIFPageHoldsOneFrame(t *testing.T) {
	codectest.InBoundedChild(t, 1<<30, func(t *testing.T) {
		b := gifBomb(t, 4000, 4000, 40)
		if _, err := Decode(b, DecodeOptions{}); err == nil {
			t.Fatal("all 40 frames decoded within a 100 MP budget")
		}
		var img *Image
		var err error
		a := codectest.AllocDuring(func() { img, err = Decode(b, DecodeOptions{Page: 40}) })
		t.Logf("bounded: page 40 of 40 4000x4000 GIF frames: %d MiB", a/mib)
		if err != nil || len(img.Frames) != 1 {
			t.Fatalf("page 40: %v", err)
		}
		if a > 80*mib {
			t.Fatalf("page 40 allocated %d MiB: more than one frame", a/mib)
		}
		// Frame k shows the pixels of frames 1..k (no disposal).
		f := img.Frames[0]
		for x := 0; x < 40; x++ {
			if f.Pix[x*4] != 255 || f.Pix[x*4+3] != 255 {
				t.Fatalf("pixel %d of the composed frame is %v", x, f.Pix[x*4:x*4+4])
			}
		}
		if f.Pix[40*4+3] != 0 {
			t.Fatal("pixel 40 was never drawn but is not transparent")
		}
	})
}

// Ten one-pixel frames on a 10000×10000 WebP canvas: 1.3 GB before, then
// a failure inside libwebp. Now refused by the total budget; with a page
// the frames are composed one at a time and only that one is kept (a
// single 16 MP frame used to cost a 434 MB peak inside libwebp).
func TestWebPAnimationBomb(t *testing.T) {
	codectest.InBoundedChild(t, 1<<30, func(t *testing.T) {
		b := webpAnimBomb(t, 10000, 10000, 10)
		var err error
		a := codectest.AllocDuring(func() { _, err = Decode(b, DecodeOptions{}) })
		t.Logf("bounded: %d-byte WebP, 10 frames of 10000x10000: %v, %d KiB", len(b), err, a>>10)
		var le *LimitError
		if !errors.As(err, &le) || a > 8*mib {
			t.Fatalf("want a *LimitError before allocating, got %v after %d MiB", err, a/mib)
		}
		b = webpAnimBomb(t, 4000, 4000, 40)
		var img *Image
		a = codectest.AllocDuring(func() { img, err = Decode(b, DecodeOptions{Page: 40}) })
		t.Logf("bounded: page 40 of 40 4000x4000 WebP frames: %d MiB, peak RSS %d MiB", a/mib, codectest.VMStatus(t, "VmHWM")/mib)
		if err != nil || len(img.Frames) != 1 || img.Bounds().Dx() != 4000 {
			t.Fatalf("page 40: %v", err)
		}
		if a > 80*mib {
			t.Fatalf("page 40 allocated %d MiB: more than one frame", a/mib)
		}
		f := img.Frames[0]
		if f.Pix[0] != 255 || f.Pix[3] != 255 || f.Pix[4+3] != 0 {
			t.Fatalf("composed frame starts with %v", f.Pix[:8])
		}
	})
}
