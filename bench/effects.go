package bench

import (
	"os"
	"time"

	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/edgepix/edgepix/transform/pipeline"
)

// EffectFigure is the render time of c_scale,w_1600 followed by one effect,
// next to c_scale,w_1600 alone, on the same file (decode and JPEG encode
// included in both).
type EffectFigure struct {
	Chain          string
	Ours, Baseline time.Duration
}

// Ratio is the effect chain's time over c_scale's alone.
func (f EffectFigure) Ratio() float64 { return float64(f.Ours) / float64(f.Baseline) }

// EffectChains are the effects and modes of issue 13 that the table measures.
var EffectChains = []string{
	"e_hue:40", "e_tint:equalize:80:red:blue", "e_vibrance:60", "e_auto_brightness", "e_red:40",
	"e_unsharp_mask:200", "e_gradient_fade", "e_shadow:50", "e_outline:10", "e_trim",
	"e_make_transparent", "e_replace_color:blue", "e_pixelate_region:20,w_400,h_300", "e_blur_region,w_400,h_300",
	"e_oil_paint:30", "e_cartoonify", "e_art:sizzle", "c_fill_pad,g_auto,w_1600,h_400,b_auto",
	"c_pad,w_1600,h_1600,b_auto:predominant_gradient:4",
}

// MeasureEffects times every chain of EffectChains after c_scale,w_1600.
func MeasureEffects(path string, runs int) ([]EffectFigure, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	render := func(chain string) (time.Duration, error) {
		ch, err := grammar.ParseChain(chain)
		if err != nil {
			return 0, err
		}
		var rerr error
		d := Median(runs, func() { _, rerr = pipeline.Render(src, pipeline.Request{Chain: ch, Format: "jpg"}) })
		return d, rerr
	}
	var out []EffectFigure
	for _, e := range EffectChains {
		base, err := render("c_scale,w_1600") // measured next to each effect: the machine's load drifts
		if err != nil {
			return nil, err
		}
		d, err := render("c_scale,w_1600/" + e)
		if err != nil {
			return nil, err
		}
		out = append(out, EffectFigure{Chain: e, Ours: d, Baseline: base})
	}
	return out, nil
}
