package pipeline

import (
	"errors"
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

// The WebAssembly encoders need ~25–30 times the memory of their image:
// f_auto steps down to a format whose encoder fits the memory budget
// (2.5 × MaxPixels), an explicit format over it is refused before
// encoding.
func TestEncoderMemoryInTheBudget(t *testing.T) {
	for _, tc := range []struct {
		fixture, class string
		budget         int64
		want           codec.Format
	}{
		{"photo-snake-600x450-grayscale.jpg", "avif,webp", 2_800_000, codec.AVIF}, // 24 × 270000 fits in 7 M
		{"photo-snake-600x450-grayscale.jpg", "avif,webp", 2_400_000, codec.JPEG}, // neither AVIF nor WebP (30×) fits in 6 M
		{"photo-snake-600x450-grayscale.jpg", "webp", 3_600_000, codec.WebP},      // 30 × 270000 fits in 9 M
		{"pngsuite-basi6a16.png", "avif,webp", 16_000, codec.WebP},                // transparent: AVIF is not a choice
		{"pngsuite-basi6a16.png", "avif,webp", 8_000, codec.PNG},                  // 30 × 1024 does not fit in 20 000
		{"gif-anim-throbber-32x32-8frames.gif", "avif,webp", 8_200, codec.GIF},    // animated
	} {
		ch, _ := grammar.ParseChain("")
		res, err := Render(fixtures.Read(t, tc.fixture), Request{Chain: ch, Format: "auto", AcceptClass: tc.class,
			Limits: Limits{MaxPixels: tc.budget}})
		if err != nil || res.Format != tc.want {
			t.Errorf("%s, %s within %d: %v (%v), want %s", tc.fixture, tc.class, tc.budget, res.Format, err, tc.want)
		}
	}
	ch, _ := grammar.ParseChain("")
	var le *codec.LimitError
	_, err := Render(fixtures.Read(t, "photo-snake-600x450-grayscale.jpg"), Request{Chain: ch, Format: "webp",
		Limits: Limits{MaxPixels: 2_400_000}})
	if !errors.As(err, &le) {
		t.Fatalf("explicit WebP over the budget: %v", err)
	}
	info, _ := codec.Probe(fixtures.Read(t, "photo-snake-600x450-grayscale.jpg"))
	ch, _ = grammar.ParseChain("w_300")
	if c, jpg := Cost(info, ch, "webp"), Cost(info, ch, "jpg"); c != jpg+codec.EncodeCost(codec.WebP, 300, 225) {
		t.Errorf("Cost to WebP %d, to JPEG %d: the encoder is not counted", c, jpg)
	}
}
