// Package pipeline runs a parsed transformation chain on decoded images:
// resizing and cropping in every Cloudinary crop mode, gravity (including
// content-aware g_auto), effects, rotation, rounding, borders, opacity, and
// the choice of output format and quality.
package pipeline

import (
	"cmp"
	"image"
	"math"

	"github.com/edgepix/edgepix/transform/grammar"
)

// target computes a component's requested width and height in pixels for a
// W×H input: relative values, ar_ and dpr_ are resolved; 0 means unset.
func target(c *grammar.Component, W, H int) (w, h float64) {
	if c.Width.Set {
		w = c.Width.Resolve(W)
	}
	if c.Height.Set {
		h = c.Height.Resolve(H)
	}
	if ar := c.AspectRatio; ar > 0 {
		switch {
		case w > 0 && h == 0:
			h = w / ar
		case h > 0 && w == 0:
			w = h * ar
		}
	}
	if c.DPR > 0 {
		w *= c.DPR
		h *= c.DPR
	}
	return w, h
}

// hasResize reports whether the component changes the geometry. A region
// effect's w, h, x, y and g say where it applies instead.
func hasResize(c *grammar.Component) bool {
	if c.Effect != nil && regionEffects[c.Effect.Name] && c.Crop == "" {
		return false
	}
	return c.Crop != "" || c.Width.Set || c.Height.Set || c.AspectRatio > 0
}

// regionEffects apply to a region given by the component's w, h, x, y, g.
var regionEffects = map[string]bool{"pixelate_region": true, "blur_region": true}

// keepRatio completes a missing dimension from the input's aspect ratio.
func keepRatio(w, h float64, W, H int) (float64, float64) {
	switch {
	case w > 0 && h == 0:
		h = w * float64(H) / float64(W)
	case h > 0 && w == 0:
		w = h * float64(W) / float64(H)
	case w == 0 && h == 0:
		w, h = float64(W), float64(H)
	}
	return w, h
}

func round(v float64) int { return max(int(math.Round(v)), 1) }

// fitScale is the factor that makes W×H fit inside w×h (a missing side does
// not constrain).
func fitScale(w, h float64, W, H int) float64 {
	s := math.Inf(1)
	if w > 0 {
		s = w / float64(W)
	}
	if h > 0 {
		s = math.Min(s, h/float64(H))
	}
	if math.IsInf(s, 1) {
		return 1
	}
	return s
}

// coverScale is the factor that makes W×H cover w×h.
func coverScale(w, h float64, W, H int) float64 {
	return math.Max(w/float64(W), h/float64(H))
}

// Plan is the output geometry of one resize component for a W×H input.
type Plan struct {
	Scale      float64         // scaling of the whole input (1: none)
	Crop       image.Rectangle // region kept, in scaled coordinates (empty: all)
	CanvasW    int             // pad modes: final canvas (0: none)
	CanvasH    int
	OutW, OutH int // final size of this component's geometry step
}

// planResize decides, from the input size alone, what a component's crop
// mode does. g_auto and offsets are resolved later (the crop is centred
// here), but the output size is exact, so limits can be checked before any
// pixel is decoded.
func planResize(c *grammar.Component, W, H int) Plan {
	w, h := target(c, W, H)
	mode := c.Crop
	if mode == "" {
		mode = "scale"
	}
	p := Plan{Scale: 1, OutW: W, OutH: H}
	both := w > 0 && h > 0
	switch mode {
	case "scale":
		if c.AspectRatio > 0 && w == 0 && h == 0 {
			return cropToAspect(p, c.AspectRatio, W, H)
		}
		if c.HasFlag("ignore_aspect_ratio") { // the side not given keeps its size
			w, h = cmp.Or(w, float64(W)), cmp.Or(h, float64(H))
		}
		w, h = keepRatio(w, h, W, H)
		p.OutW, p.OutH = round(w), round(h)
		p.Scale = float64(p.OutW) / float64(W)
	case "fit", "limit", "mfit":
		s := fitScale(w, h, W, H)
		if mode == "limit" && s >= 1 || mode == "mfit" && s <= 1 {
			return p
		}
		p.Scale = s
		p.OutW, p.OutH = round(float64(W)*s), round(float64(H)*s)
	case "fill_pad":
		if !both {
			w, h = keepRatio(w, h, W, H)
		}
		// fill or pad, decided on the pixels (applyResize); the size is w×h
		p.OutW, p.OutH = round(w), round(h)
		p.CanvasW, p.CanvasH = p.OutW, p.OutH
		p.Scale = coverScale(w, h, W, H)
	case "fill", "lfill", "thumb", "auto":
		if !both {
			if c.AspectRatio > 0 && w == 0 && h == 0 {
				return cropToAspect(p, c.AspectRatio, W, H)
			}
			w, h = keepRatio(w, h, W, H)
			if mode == "lfill" && w > float64(W) {
				return p
			}
			p.OutW, p.OutH = round(w), round(h)
			p.Scale = float64(p.OutW) / float64(W)
			return p
		}
		s := coverScale(w, h, W, H)
		if mode == "lfill" && s > 1 { // never upscale: keep the aspect, shrink the box
			w, h, s = w/s, h/s, 1
		}
		p.Scale = s
		sw, sh := round(float64(W)*s), round(float64(H)*s)
		p.OutW, p.OutH = min(round(w), sw), min(round(h), sh)
		p.Crop = image.Rect(0, 0, p.OutW, p.OutH).Add(image.Pt((sw-p.OutW)/2, (sh-p.OutH)/2))
	case "pad", "lpad", "mpad":
		if !both {
			w, h = keepRatio(w, h, W, H)
		}
		s := fitScale(w, h, W, H)
		switch {
		case mode == "lpad" && s > 1:
			s = 1
		case mode == "mpad":
			if s < 1 {
				return p // larger than the box: unchanged
			}
			s = 1
		}
		p.Scale = s
		p.OutW, p.OutH = round(w), round(h)
		p.CanvasW, p.CanvasH = p.OutW, p.OutH
	case "crop":
		if w == 0 && h == 0 && c.AspectRatio > 0 {
			return cropToAspect(p, c.AspectRatio, W, H)
		}
		if w == 0 {
			w = float64(W)
		}
		if h == 0 {
			h = float64(H)
		}
		p.OutW, p.OutH = min(round(w), W), min(round(h), H)
		p.Crop = image.Rect(0, 0, p.OutW, p.OutH).Add(image.Pt((W-p.OutW)/2, (H-p.OutH)/2))
	}
	return p
}

// cropToAspect keeps the largest centred region with aspect ratio ar.
func cropToAspect(p Plan, ar float64, W, H int) Plan {
	cw, ch := W, round(float64(W)/ar)
	if ch > H {
		cw, ch = round(float64(H)*ar), H
	}
	p.OutW, p.OutH = min(cw, W), min(ch, H)
	p.Crop = image.Rect(0, 0, p.OutW, p.OutH).Add(image.Pt((W-p.OutW)/2, (H-p.OutH)/2))
	return p
}
