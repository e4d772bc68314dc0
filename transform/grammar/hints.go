package grammar

import (
	"math"
	"strconv"
	"strings"
)

// AutoWidth is w_auto[:step][:fallback] or w_auto:breakpoints[_min_max_kb_n]
// [:fallback|:json]: the width comes from the client's hints (Sec-CH-Width
// or Width, in device pixels; else Sec-CH-Viewport-Width or
// Viewport-Width, in CSS pixels), rounded up to a multiple of Step, or to
// the next of the image's breakpoints.
type AutoWidth struct {
	Step     int // rounding step in pixels (default 100)
	Fallback int // width without hints; 0: the image's own (or the largest breakpoint)
	// Breakpoints: widths from Min to Max (the image's width at most)
	// between which the file grows by at least KB kilobytes, at most N of
	// them, found by the pipeline on the image (an edge only rounds the
	// hint up onto N widths spread evenly, and passes it as the fallback).
	Breakpoints  bool
	Min, Max, KB int
	N            int
	JSON         bool // :json: answer {"breakpoints":[…]} instead of the image
}

// Hints are a request's client hints: DPR (0: absent), the image's width
// in device pixels and the viewport's in CSS pixels (0: absent).
type Hints struct {
	DPR           float64
	Width         int
	ViewportWidth int
}

// parseAutoWidth reads the value of w_auto…; the canonical form spells the
// defaults out.
func parseAutoWidth(v string) (*AutoWidth, string, bool) {
	parts := strings.Split(v, ":")
	if parts[0] != "auto" || len(parts) > 3 {
		return nil, "", false
	}
	a := &AutoWidth{Step: 100}
	args := parts[1:]
	if len(args) > 0 && strings.HasPrefix(args[0], "breakpoints") {
		a.Breakpoints, a.Min, a.Max, a.KB, a.N = true, 50, 1000, 20, 20
		if rest, ok := strings.CutPrefix(args[0], "breakpoints_"); ok {
			nums := strings.Split(rest, "_")
			if len(nums) != 4 {
				return nil, "", false
			}
			vals := make([]int, 4)
			for i, s := range nums {
				n, err := strconv.Atoi(s)
				if err != nil || n < 1 || n > 1<<16 {
					return nil, "", false
				}
				vals[i] = n
			}
			a.Min, a.Max, a.KB, a.N = vals[0], vals[1], vals[2], vals[3]
			if a.Min > a.Max || a.N > 100 {
				return nil, "", false
			}
		} else if args[0] != "breakpoints" {
			return nil, "", false
		}
		args = args[1:]
		if len(args) > 1 {
			return nil, "", false
		}
	} else if len(args) > 0 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 || n > 1<<16 {
			return nil, "", false
		}
		a.Step, args = n, args[1:]
	}
	if len(args) > 0 && args[0] == "json" && a.Breakpoints {
		a.JSON = true
	} else if len(args) > 0 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 || n > 1<<16 {
			return nil, "", false
		}
		a.Fallback = n
	}
	return a, a.String(), true
}

// String is the canonical value of w_ for a.
func (a *AutoWidth) String() string {
	s := "auto:" + strconv.Itoa(a.Step)
	if a.Breakpoints {
		s = "auto:breakpoints_" + strconv.Itoa(a.Min) + "_" + strconv.Itoa(a.Max) + "_" + strconv.Itoa(a.KB) + "_" + strconv.Itoa(a.N)
	}
	if a.Fallback > 0 {
		s += ":" + strconv.Itoa(a.Fallback)
	}
	if a.JSON {
		s += ":json"
	}
	return s
}

// Resolve returns the width for hints h in pixels and whether it is in
// device pixels (from a width hint, DPR included) rather than CSS pixels
// (viewport hint or fallback); 0 means none.
func (a *AutoWidth) Resolve(h Hints) (int, bool) {
	w, device := h.Width, true
	if w <= 0 {
		w, device = h.ViewportWidth, false
	}
	if w <= 0 {
		return a.Fallback, false
	}
	if !a.Breakpoints {
		return (w + a.Step - 1) / a.Step * a.Step, device
	}
	if w >= a.Max {
		return a.Max, device
	}
	step := float64(a.Max-a.Min) / float64(max(a.N-1, 1))
	for i := 0; i < a.N; i++ {
		if bp := a.Min + int(math.Ceil(step*float64(i))); bp >= w {
			return bp, device
		}
	}
	return a.Max, device
}

// AutoDPR is dpr_auto's value for a DPR hint: 1.0 without one, else the
// hint rounded up to a whole ratio (as the SDKs' round_dpr does), at most 5.
func AutoDPR(dpr float64) float64 {
	if dpr <= 0 || math.IsNaN(dpr) {
		return 1
	}
	return min(math.Ceil(dpr), 5)
}

// UsesHints reports which client hints the chain depends on: dpr_auto
// (DPR), w_auto (Width and Viewport-Width).
func (ch Chain) UsesHints() (dpr, width bool) {
	for _, c := range ch {
		dpr = dpr || c.DPRAuto
		width = width || c.AutoWidth != nil
	}
	return dpr, width
}

// WithHints returns a copy of p whose chain has w_auto and dpr_auto
// replaced by their values for h, so that the resolved path (and its cache
// key) says what is rendered. A width from a width hint already counts the
// DPR: its component's dpr becomes 1.0. A w_auto without hints nor
// fallback is dropped (the image keeps its width). The signature, if any,
// is dropped: the caller signs the new path if it needs one.
func (p *Path) WithHints(h Hints) (*Path, error) {
	dprHint, widthHint := p.Chain.UsesHints()
	if !dprHint && !widthHint {
		return p, nil
	}
	var comps []string
	for _, raw := range strings.Split(p.RawChain, "/") {
		pairs := strings.Split(raw, ",")
		deviceWidth := false
		out := make([]string, 0, len(pairs))
		for _, pair := range pairs {
			k, v, _ := splitPair(pair)
			if k != "w" || !strings.HasPrefix(v, "auto") {
				continue
			}
			a, _, ok := parseAutoWidth(v)
			if !ok {
				return nil, invalid("width", v)
			}
			w, device := a.Resolve(h)
			deviceWidth = device && w > 0
		}
		for _, pair := range pairs {
			k, v, _ := splitPair(pair)
			switch {
			case k == "w" && strings.HasPrefix(v, "auto"):
				a, _, _ := parseAutoWidth(v)
				w, _ := a.Resolve(h)
				switch {
				case a.Breakpoints && !a.JSON: // the pipeline picks the breakpoint at or above w
					b := *a
					b.Fallback = w
					out = append(out, "w_"+b.String())
				case a.JSON:
					out = append(out, "w_"+a.String())
				case w > 0:
					out = append(out, "w_"+strconv.Itoa(w))
				}
			case k == "dpr" && deviceWidth:
				out = append(out, "dpr_1.0")
			case k == "dpr" && v == "auto":
				out = append(out, "dpr_"+formatFloat(AutoDPR(h.DPR), true))
			default:
				out = append(out, pair)
			}
		}
		if len(out) > 0 {
			comps = append(comps, strings.Join(out, ","))
		}
	}
	c := *p
	c.RawChain, c.Signature = strings.Join(comps, "/"), ""
	ch, err := ParseChain(c.RawChain)
	if err != nil {
		return nil, err
	}
	c.Chain = ch
	return &c, nil
}
