package grammar

import (
	"math"
	"strconv"
	"strings"
)

// parseDim parses an integer (pixels), a decimal (relative) value or an
// expression (pixels, rounded; a size is at least one).
func (c *Component) parseDim(v string, signed bool) (Dim, string, error) {
	if v == "" {
		return Dim{}, "", errorf("empty")
	}
	if IsExpr(v) {
		lo := 1.0
		if signed {
			lo = -maxDim
		}
		f, ok := c.num(v, lo, maxDim)
		if !ok {
			return Dim{}, "", errorf("bad")
		}
		return Dim{Value: math.Round(f), Set: true}, v, nil
	}
	if strings.ContainsAny(v, ".") {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || (!signed && f <= 0) || math.Abs(f) > 100 {
			return Dim{}, "", errorf("bad")
		}
		return Dim{Value: f, Relative: true, Set: true}, formatFloat(f, true), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || (!signed && n < 0) || n > maxDim || n < -maxDim {
		return Dim{}, "", errorf("bad")
	}
	return Dim{Value: float64(n), Set: true}, strconv.Itoa(n), nil
}

// formatFloat prints f minimally; keepPoint keeps a ".0" so that a relative
// value stays distinguishable from an integer.
func formatFloat(f float64, keepPoint bool) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if keepPoint && !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func parseAspect(v string) (float64, string, bool) {
	if a, b, ok := strings.Cut(v, ":"); ok {
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		if err1 != nil || err2 != nil || x <= 0 || y <= 0 || x > 1e4 || y > 1e4 {
			return 0, "", false
		}
		return x / y, formatFloat(x, false) + ":" + formatFloat(y, false), true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 1e4 || math.IsNaN(f) {
		return 0, "", false
	}
	return f, formatFloat(f, true), true
}

func (c *Component) parseQuality(v string) (*Quality, string, bool) {
	if n, chroma, ok := strings.Cut(v, ":"); ok && (chroma == "420" || chroma == "444") {
		q, canon, ok := c.parseQuality(n)
		if !ok || q.Auto != "" {
			return nil, "", false
		}
		q.Chroma = chroma
		return q, canon + ":" + chroma, true
	}
	if lvl, ok := strings.CutPrefix(v, "auto"); ok {
		switch lvl {
		case "":
			return &Quality{Auto: "good"}, "auto", true
		case ":good", ":best", ":eco", ":low":
			if lvl == ":good" {
				return &Quality{Auto: "good"}, "auto", true
			}
			return &Quality{Auto: lvl[1:]}, "auto" + lvl, true
		}
		return nil, "", false
	}
	n, ok := c.int(v, 1, 100)
	if !ok {
		return nil, "", false
	}
	return &Quality{Value: n}, strconv.Itoa(n), true
}

var angleModes = map[string]bool{
	"auto_right": true, "auto_left": true, "hflip": true, "vflip": true, "ignore": true, "exif": true,
}

func (c *Component) parseAngles(v string) ([]string, string, bool) {
	var out []string
	parts := strings.Split(v, ".")
	if IsExpr(v) {
		parts = []string{v} // one angle: an expression's numbers may hold dots
	}
	for _, p := range parts {
		if angleModes[p] {
			out = append(out, p)
			continue
		}
		f, ok := c.num(p, -3600, 3600)
		if !ok {
			return nil, "", false
		}
		out = append(out, formatFloat(f, false))
	}
	return out, strings.Join(out, "."), true
}

func (c *Component) parseRadius(v string) (*Radius, string, bool) {
	if v == "max" {
		return &Radius{Max: true}, v, true
	}
	parts := strings.Split(v, ":")
	if len(parts) > 4 {
		return nil, "", false
	}
	r := &Radius{}
	canon := make([]string, len(parts))
	for i, p := range parts {
		n, ok := c.int(p, 0, 1<<16)
		if !ok {
			return nil, "", false
		}
		r.Corners = append(r.Corners, n)
		canon[i] = strconv.Itoa(n)
	}
	return r, strings.Join(canon, ":"), true
}

// parseBorder reads <width>px_solid_<color>; a width given as an
// expression is written without px (bo_$size_solid_red, as Cloudinary's).
func (c *Component) parseBorder(v string) (*Border, bool) {
	i := strings.LastIndex(v, "_solid_")
	if i < 0 {
		return nil, false
	}
	w, rest := v[:i], v[i+len("_solid_"):]
	if n, ok := strings.CutSuffix(w, "px"); ok && !strings.Contains(w[strings.LastIndexByte(w, '_')+1:], "$") {
		w = n
	} else if !IsExpr(w) {
		return nil, false
	}
	n, ok := c.int(w, 1, 1000)
	if !ok {
		return nil, false
	}
	col, ok := ParseColor(rest)
	if !ok {
		return nil, false
	}
	return &Border{Width: n, Color: col}, true
}
