package codec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
)

// FuzzDecode feeds arbitrary bytes to every decoder, including our own
// JPEG decoder at every scale and Validate's streaming checks: nothing may
// panic (Decode and Validate recover third-party decoder panics, but our
// own code must not rely on that) or hold more than the pixel budget,
// all frames together.
func FuzzDecode(f *testing.F) {
	if dir := fixtures.Dir(); dir != "" {
		for _, n := range []string{"exif-orient6-synthetic-70x50.jpg", "bad-truncated-real-100x100.jpg",
			"gif-anim-throbber-32x32-8frames.gif", "bad-pngsuite-xcsn0g01-idat-crc.png", "avif-still-320x180.avif",
			"photo-snake-600x450-grayscale.jpg", "webp-animated-terminal-480x312.webp", "pngsuite-basi0g01.png",
			"pngsuite-basn3p04.png"} {
			if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil && len(b) < 64<<10 {
				f.Add(b, 16)
			}
		}
	}
	// Progressive and baseline JPEGs with unusual subsamplings: our full
	// decoder, refinement scans and restart markers included.
	seeds, _ := filepath.Glob(filepath.Join("testdata", "sampling", "*.jpg"))
	for _, n := range seeds {
		if b, err := os.ReadFile(n); err == nil {
			f.Add(b, 16)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, min int) {
		for _, d := range []int{8, 4, 2, 1} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("reduced JPEG decode 1/%d panicked: %v", d, r)
					}
				}()
				decodeJPEGScaled(b, d, DecodeOptions{MaxPixels: 1 << 20})
			}()
		}
		opt := DecodeOptions{MaxPixels: 1 << 20, MinWidth: min % 64, MinHeight: min % 64}
		img, err := Decode(b, opt)
		if err == nil {
			var total int64
			for _, f := range img.Frames {
				total += int64(f.Rect.Dx()) * int64(f.Rect.Dy())
			}
			if total > 1<<20 {
				t.Fatalf("decoded %d frames, %d pixels, over the budget", len(img.Frames), total)
			}
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Validate panicked: %v", r)
				}
			}()
			Validate(b, opt)
		}()
	})
}
