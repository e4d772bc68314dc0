package codec

import (
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
)

// The integer 2×2 inverse DCT of 1/4 decodes is the floating-point one
// within a level (they differ where s/8 + 128.5 is whole, which float32
// rounds down).
func TestIDCT2MatchesBasis(t *testing.T) {
	for _, name := range []string{"photo-architecture-2560x1600-grayscale.jpg", "photo-storm-1920x1280.jpg"} {
		j := dcDecoder{n: 2, maxPixels: DefaultMaxPixels}
		if !j.parse(fixtures.Read(t, name)) {
			t.Fatalf("%s: parse", name)
		}
		basis := idctBasis[2]
		for ci := range j.comps {
			c := &j.comps[ci]
			got := make([]uint8, c.bw*2*c.bh*2)
			idct2(c, got)
			for i := 0; i < c.bw*c.bh; i++ {
				f := c.dc[i*4:]
				for y := 0; y < 2; y++ {
					for x := 0; x < 2; x++ {
						var s float32
						for v := 0; v < 2; v++ {
							s += (float32(f[v*2])*basis[x*2] + float32(f[v*2+1])*basis[x*2+1]) * basis[y*2+v]
						}
						want := int(uint8(min(max(s/4+128.5, 0), 255)))
						if g := int(got[(i/c.bw*2+y)*c.bw*2+i%c.bw*2+x]); g-want > 1 || want-g > 1 {
							t.Fatalf("%s component %d block %d (%d,%d): %d, want %d", name, ci, i, x, y, g, want)
						}
					}
				}
			}
		}
	}
}
