package grammar

import (
	"maps"
	"math"
	"strconv"
)

// numericKeys are the parameters whose value, or part of it, may be an
// expression resolved when the component runs (e_ takes them in its
// arguments, after the effect's name).
var numericKeys = map[string]bool{"w": true, "h": true, "x": true, "y": true, "ar": true, "a": true, "r": true,
	"o": true, "q": true, "bo": true, "dl": true, "pg": true, "dpr": true, "e": true}

// num reads a number of the parameter being parsed: a literal within
// [lo, hi] (ok is false outside), or an expression. While parsing, an
// expression is checked and marks the parameter to be resolved when the
// component runs (Resolved), and stands for a value within the range;
// once evaluated, it is clamped to [lo, hi] (a computed value is not a
// mistake of the URL's author). An expression's own error is kept in
// c.exprErr.
func (c *Component) num(s string, lo, hi float64) (float64, bool) {
	if !IsExpr(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || f < lo || f > hi {
			return 0, false
		}
		return f, true
	}
	vars := c.vars
	if c.scope != nil {
		vars = nil // names were checked while parsing
	}
	e, err := parseExpr(s, vars)
	if err != nil {
		c.exprErr = err
		return 0, false
	}
	if c.scope == nil {
		c.isDeferred = true
		return min(max(1, lo), hi), true
	}
	f, err := e.Number(*c.scope)
	if err != nil {
		c.exprErr = err
		return 0, false
	}
	return min(max(f, lo), hi), true
}

// int is num for whole numbers: a literal must be an integer, an
// expression is rounded.
func (c *Component) int(s string, lo, hi int) (int, bool) {
	if !IsExpr(s) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= lo && n <= hi
	}
	f, ok := c.num(s, float64(lo), float64(hi))
	return int(math.Round(f)), ok
}

// Deferred reports whether the component has parameters given as
// expressions, resolved when it runs (only key's, when keys are given).
func (c *Component) Deferred(keys ...string) bool {
	if len(keys) == 0 {
		return len(c.deferred) > 0
	}
	for _, k := range keys {
		if _, ok := c.deferred[k]; ok {
			return true
		}
	}
	return false
}

// Resolved returns c with its expressions evaluated for v (sizes and
// offsets rounded to pixels, every value clamped to its parameter's
// range), and dpr_auto and w_auto given their values without client hints
// (1.0, and the fallback width or none; w_auto:breakpoints stays, for the
// pipeline to resolve on the image): what the pipeline renders. c
// itself is returned when it has none. An expression that cannot be
// evaluated (a variable not assigned on the branch taken) is an error.
func (c *Component) Resolved(v Values) (*Component, error) {
	if len(c.deferred) == 0 && (c.AutoWidth == nil || c.AutoWidth.Breakpoints) && !c.DPRAuto {
		return c, nil
	}
	r := *c
	r.scope, r.deferred = &v, nil
	for k, raw := range c.deferred {
		r.exprErr = nil
		if _, err := r.set(k, raw); err != nil {
			return nil, err
		}
	}
	r.scope = nil
	if r.AutoWidth != nil && !r.AutoWidth.Breakpoints { // breakpoints are found on the image
		if w, _ := r.AutoWidth.Resolve(Hints{}); w > 0 {
			r.Width = Dim{Value: float64(w), Set: true}
		}
		r.AutoWidth = nil
	}
	if r.DPRAuto {
		r.DPR, r.DPRAuto = 1, false
	}
	return &r, nil
}

// Omit returns a copy of c whose expressions for keys are dropped: the
// caller clears those parameters (an overlay's own steps leave out its
// placement).
func (c *Component) Omit(keys ...string) *Component {
	r := *c
	r.deferred = maps.Clone(c.deferred)
	for _, k := range keys {
		delete(r.deferred, k)
	}
	return &r
}
