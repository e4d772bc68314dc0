package pipeline

import (
	"maps"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// Load decodes src for a chain: the pg_ page, a_ignore, only the first
// frame when format cannot animate, and a reduced decode when the first
// step only shrinks. lw×lh is the logical size to pass to ApplyWith (the
// frames may be smaller). The first resize is checked against
// MaxOutputPixels, counting every frame it will produce, before decoding.
func Load(src []byte, ch grammar.Chain, format string, l Limits) (img *codec.Image, lw, lh int, err error) {
	return load(src, ch, format, l, Env{})
}

// load is Load with the asset's facts, which expressions in pg_ and the
// first component may read.
func load(src []byte, ch grammar.Chain, format string, l Limits, env Env) (img *codec.Image, lw, lh int, err error) {
	info, err := codec.Probe(src)
	if err != nil {
		return nil, 0, 0, err
	}
	d, err := planLoad(info, ch, format, env)
	if err != nil {
		return nil, 0, 0, err
	}
	if d.first != nil {
		if err := checkPlan(*d.first, l, d.frames); err != nil {
			return nil, 0, 0, err
		}
	}
	d.opt.MaxPixels, d.opt.Ctx = l.MaxPixels, l.Ctx
	img, err = codec.Decode(src, d.opt)
	return img, d.lw, d.lh, err
}

// Cost estimates, from the probe alone, the memory a render of a chain
// holds at once, in budget pixels (4 bytes): the decode's (after a reduced
// decode, times the frames it holds, with its decoder's needs; see
// codec.DecodedPixels), the first resize's output for every frame it
// produces, and the encoder's for a frame of that size (f_auto counted as
// WebP, the costliest). Later steps are not counted. Admission control
// can weigh renders by it before decoding; a chain Load refuses costs what
// its decode alone would. Expressions are evaluated without the asset's
// tags and context.
func Cost(info codec.Info, ch grammar.Chain, format string) int64 {
	d, _ := planLoad(info, ch, format, Env{})
	c := codec.DecodedPixels(info, d.opt)
	w, h := d.lw, d.lh
	if d.first != nil {
		w, h = planSize(*d.first)
		c += int64(w) * int64(h) * int64(d.frames)
	}
	f, ok := codec.ParseFormat(format)
	switch {
	case format == "auto":
		f = codec.WebP
	case !ok:
		f = info.Format
	}
	return c + codec.EncodeCost(f, w, h)
}

// Check refuses, from the probe alone, what Load would refuse before
// decoding: an invalid plan, a first resize over MaxOutputPixels, a
// decode over MaxPixels. Admission control uses it not to make such a
// request wait for capacity it will never use.
func Check(info codec.Info, ch grammar.Chain, format string, l Limits) error {
	d, err := planLoad(info, ch, format, Env{})
	if err != nil {
		return err
	}
	if d.first != nil {
		if err := checkPlan(*d.first, l, d.frames); err != nil {
			return err
		}
	}
	if info.Format == codec.PDF {
		return nil // pages are rendered to fit the budget, never refused for it
	}
	d.opt.MaxPixels = l.MaxPixels
	return codec.CheckDecode(info, d.opt)
}

// loadPlan is what Load decides before decoding.
type loadPlan struct {
	opt    codec.DecodeOptions
	lw, lh int   // logical size of the source for the chain
	first  *Plan // the first component's resize, if it has one
	frames int   // frames the chain works on
}

// planLoad decides the decode. Expressions in pg_ and in the first
// component are evaluated with the chain's variable assignments taken in
// order (conditions are not tested before decoding) and the source's size;
// a first component they cannot resolve is not planned (full decode).
func planLoad(info codec.Info, ch grammar.Chain, format string, env Env) (loadPlan, error) {
	var d loadPlan
	scope := grammar.Values{W: float64(info.Width), H: float64(info.Height), IW: float64(info.Width),
		IH: float64(info.Height), Pages: float64(max(info.Frames, env.Pages, 1)), Page: 1, Tags: env.Tags,
		Context: env.Context, Vars: map[string]grammar.Value{}}
	var firstScope *grammar.Values
	for i, c := range ch {
		for _, a := range c.Assigns {
			if v, err := a.Value.Eval(scope); err == nil {
				scope.Vars[a.Name] = v
			}
		}
		if i == 0 {
			s := scope
			s.Vars = maps.Clone(scope.Vars)
			firstScope = &s
		}
		if c.Page != nil {
			if c.Page.All {
				return d, ErrPageAll
			}
			pc, err := c.Resolved(scope)
			if err != nil {
				return d, err
			}
			d.opt.Page = pc.Page.N
		}
		for _, a := range c.Angles {
			if a == "ignore" {
				d.opt.IgnoreOrientation = true
			}
		}
	}
	d.lw, d.lh = info.Width, info.Height
	if d.opt.IgnoreOrientation && info.Orientation >= 5 {
		d.lw, d.lh = d.lh, d.lw
	}
	if len(ch) > 0 && hasResize(ch[0]) && ch[0].If == nil && ch[0].Overlay == "" {
		firstScope.W, firstScope.H, firstScope.IW, firstScope.IH = float64(d.lw), float64(d.lh), float64(d.lw), float64(d.lh)
		if first, err := ch[0].Resolved(*firstScope); err == nil { // else not planned: a full decode
			p := planResize(first, d.lw, d.lh)
			d.first = &p
			zoom := 1.0
			if first.Crop == "auto" { // c_auto may keep a window up to autoMaxZoom times smaller
				zoom = autoMaxZoom
			}
			if canDecodeReduced(first, p, zoom) {
				d.opt.MinWidth = round(float64(d.lw) * p.Scale * 1.5 * zoom)
				d.opt.MinHeight = round(float64(d.lh) * p.Scale * 1.5 * zoom)
			}
		}
	}
	want, _ := codec.ParseFormat(format)
	if info.Animated && d.opt.Page == 0 && format != "auto" && !(want.CanAnimate() || format == "" && info.Format.CanAnimate()) {
		d.opt.Page = 1 // the output cannot animate: only the first frame matters
	}
	d.frames = max(info.Frames, 1)
	if d.opt.Page > 0 {
		d.frames = 1
	}
	return d, nil
}

// ErrPageAll is returned when pg_all reaches on-the-fly delivery.
var ErrPageAll = &grammar.Error{Msg: "pg_all is only valid for explode"}

// canDecodeReduced reports whether the first component only scales down
// the whole image in a way that a reduced decode can feed exactly, zoom
// times larger than its plan says.
func canDecodeReduced(c *grammar.Component, p Plan, zoom float64) bool {
	switch c.Crop {
	case "", "scale", "fit", "limit", "fill", "lfill", "thumb", "pad", "lpad", "auto":
	default:
		return false
	}
	for _, a := range c.Angles {
		if a == "auto_right" || a == "auto_left" {
			return false
		}
	}
	return p.Scale*zoom < 0.5 && !c.X.Set && !c.Y.Set
}

// planSize is the size a resize plan produces (the canvas for pad modes).
func planSize(p Plan) (int, int) {
	if p.CanvasW > 0 {
		return p.CanvasW, p.CanvasH
	}
	return p.OutW, p.OutH
}

// checkPlan refuses a resize whose frames together exceed MaxOutputPixels.
func checkPlan(p Plan, l Limits, frames int) error {
	w, h := planSize(p)
	return codec.CheckFrames("output", frames, w, h, l.output())
}
