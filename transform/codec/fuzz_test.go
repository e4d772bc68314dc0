package codec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
)

// FuzzDecode feeds arbitrary bytes to every decoder, including the
// reduced-scale JPEG paths: nothing may panic (Decode recovers third-party
// decoder panics, but our own code must not rely on that) or exceed the
// pixel limit.
func FuzzDecode(f *testing.F) {
	if dir := fixtures.Dir(); dir != "" {
		for _, n := range []string{"exif-orient6-synthetic-70x50.jpg", "bad-truncated-real-100x100.jpg",
			"gif-anim-throbber-32x32-8frames.gif", "bad-pngsuite-xcsn0g01-idat-crc.png", "avif-still-320x180.avif",
			"photo-snake-600x450-grayscale.jpg"} {
			if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil && len(b) < 64<<10 {
				f.Add(b, 16)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, min int) {
		for _, d := range []int{8, 4, 2} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("reduced JPEG decode 1/%d panicked: %v", d, r)
					}
				}()
				decodeJPEGScaled(b, d, DecodeOptions{})
			}()
		}
		img, err := Decode(b, DecodeOptions{MaxPixels: 1 << 20, MinWidth: min % 64, MinHeight: min % 64})
		if err == nil {
			if r := img.Frames[0].Rect; int64(r.Dx())*int64(r.Dy()) > 1<<20 {
				t.Fatalf("decoded %v over the pixel limit", r)
			}
		}
	})
}
