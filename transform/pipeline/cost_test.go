package pipeline

import (
	"image"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// Cost predicts, from the probe, the pixels Load decodes (reduced decodes
// and frames included) plus those the first step produces.
func TestCostMatchesTheRender(t *testing.T) {
	for _, tc := range []struct {
		fixture, chain, format string
		want                   int64
	}{
		{"photo-nuthatch-6028x3391.jpg", "w_300", "jpg", 754*424 + 300*169}, // 1/8 decode
		{"photo-nuthatch-6028x3391.jpg", "w_2000", "jpg", 3014*1696 + 2000*1125},
		{"photo-nuthatch-6028x3391.jpg", "e_grayscale", "jpg", 6028 * 3391},
		{"gif-anim-terminal-480x312-9frames.gif", "w_100", "gif", 9 * (480*312 + 100*65)},
		{"gif-anim-terminal-480x312-9frames.gif", "w_100", "jpg", 480*312 + 100*65},
		{"gif-anim-terminal-480x312-9frames.gif", "pg_4/w_100", "gif", 480 * 312},
	} {
		src := fixtures.Read(t, tc.fixture)
		info, err := codec.Probe(src)
		if err != nil {
			t.Fatal(err)
		}
		ch, err := grammar.ParseChain(tc.chain)
		if err != nil {
			t.Fatal(err)
		}
		got := Cost(info, ch, tc.format)
		if got != tc.want {
			t.Errorf("%s %s → %s: cost %d, want %d", tc.fixture, tc.chain, tc.format, got, tc.want)
		}
		img, lw, lh, err := Load(src, ch, tc.format, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		actual := pixels(img.Frames)
		if hasResize(ch[0]) {
			out, err := Apply(img, ch[:1], lw, lh, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			actual += pixels(out.Frames)
		}
		if got != actual {
			t.Errorf("%s %s → %s: cost %d, the render held %d", tc.fixture, tc.chain, tc.format, got, actual)
		}
	}
}

func pixels[T interface{ Bounds() image.Rectangle }](frames []T) int64 {
	var n int64
	for _, f := range frames {
		n += int64(f.Bounds().Dx()) * int64(f.Bounds().Dy())
	}
	return n
}
