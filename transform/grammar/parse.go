package grammar

import (
	"math"
	"strconv"
	"strings"
)

// knownKeys are the parameters edgepix implements.
var knownKeys = map[string]bool{
	"c": true, "w": true, "h": true, "ar": true, "g": true, "x": true, "y": true,
	"q": true, "f": true, "e": true, "a": true, "r": true, "b": true, "bo": true,
	"o": true, "dpr": true, "pg": true, "fl": true, "t": true, "fn": true, "l": true, "co": true, "d": true,
	"if": true, "u": true, "dl": true,
}

// unsupportedKeys are Cloudinary parameters that edgepix recognises (so a
// component using them is a transformation, not part of a public_id) but
// does not implement; they fail with a clear error.
var unsupportedKeys = map[string]bool{
	"dn": true,
	"z":  true, "so": true, "eo": true, "du": true, "vc": true, "ac": true, "br": true,
	"sp": true, "fps": true, "cs": true, "dn_": true, "p": true, "ki": true, "sg": true,
}

var cropModes = map[string]bool{
	"scale": true, "fit": true, "limit": true, "mfit": true, "fill": true, "lfill": true,
	"pad": true, "lpad": true, "mpad": true, "crop": true, "thumb": true, "fill_pad": true, "auto": true,
}

var gravities = map[string]bool{
	"north_west": true, "north": true, "north_east": true, "west": true, "center": true,
	"east": true, "south_west": true, "south": true, "south_east": true, "auto": true, "xy_center": true,
}

// contentGravities are Cloudinary's automatic gravities that edgepix
// serves with its content-aware (saliency) crop.
var contentGravities = map[string]bool{"auto:subject": true, "auto:classic": true, "auto:no_faces": true}

// faceGravities need a face detector, which edgepix does not have: they
// are refused rather than served as something else.
var faceGravities = map[string]bool{
	"face": true, "faces": true, "face:center": true, "faces:center": true, "face:auto": true,
	"faces:auto": true, "auto:faces": true, "auto:face": true, "adv_face": true, "adv_faces": true,
	"adv_eyes": true, "face:auto:50": true,
}

var formats = map[string]string{
	"jpg": "jpg", "jpeg": "jpg", "jpe": "jpg", "png": "png", "gif": "gif", "webp": "webp",
	"avif": "avif", "auto": "auto", "bmp": "bmp", "tiff": "tiff", "tif": "tiff", "ico": "ico",
}

// splitPair splits "key_value" at the first '_'. fn_wasm:id has key "fn".
func splitPair(p string) (key, val string, ok bool) {
	i := strings.IndexByte(p, '_')
	if i <= 0 {
		return "", "", false
	}
	return p[:i], p[i+1:], true
}

// looksLikeComponent applies §4.1's rule: every pair has a known key.
func looksLikeComponent(s string) bool {
	if s == "" {
		return false
	}
	for _, p := range strings.Split(s, ",") {
		k, _, ok := splitPair(p)
		if !ok {
			return false
		}
		if strings.HasPrefix(k, "$") {
			if !validVarName(k[1:]) {
				return false
			}
			continue
		}
		if !knownKeys[k] && !unsupportedKeys[k] {
			return false
		}
	}
	return true
}

func validVarName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for i, r := range n {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9'
		if !ok {
			return false
		}
	}
	return true
}

// ParseChain parses a '/'-separated transformation string such as
// "c_fill,w_150,h_100/e_sepia". Variables defined in one component are
// visible in the following ones.
func ParseChain(s string) (Chain, error) {
	if s == "" {
		return nil, nil
	}
	vars := map[string]string{}
	var ch Chain
	for _, part := range strings.Split(s, "/") {
		if part == "" {
			continue
		}
		if len(ch) == MaxComponents {
			return nil, errorf("Too many transformation components: at most %d", MaxComponents)
		}
		c, err := parseComponent(part, vars)
		if err != nil {
			return nil, err
		}
		ch = append(ch, c)
	}
	return ch, nil
}

// parseComponent parses one component; vars carries the variables
// assigned so far in the chain (name → text) and is updated with the ones
// this component assigns.
func parseComponent(s string, vars map[string]string) (*Component, error) {
	c := &Component{pairs: map[string]string{}, vars: vars}
	defer func() { c.vars = nil }()
	pairs := strings.Split(s, ",")
	// Variables are assigned before the other parameters use them.
	for _, p := range pairs {
		k, v, ok := splitPair(p)
		if !ok || !strings.HasPrefix(k, "$") {
			continue
		}
		name := k[1:]
		if !validVarName(name) {
			return nil, invalid("variable name", k)
		}
		if v == "" {
			return nil, invalid("variable value", p)
		}
		e, text, err := parseVarValue(v, vars)
		if err != nil {
			return nil, err
		}
		vars[name] = text
		if c.Variables == nil {
			c.Variables = map[string]string{}
		}
		c.Variables[name] = text
		c.Assigns = append(c.Assigns, Assignment{Name: name, Value: e})
		c.pairs[k] = v
	}
	for _, p := range pairs {
		k, v, ok := splitPair(p)
		if !ok {
			return nil, errorf("Invalid transformation component: %s", p)
		}
		if strings.HasPrefix(k, "$") {
			continue
		}
		if unsupportedKeys[k] {
			return nil, errorf("Unsupported transformation parameter: %s", k)
		}
		if !knownKeys[k] {
			return nil, errorf("Invalid transformation parameter: %s", k)
		}
		if _, dup := c.pairs[k]; dup && k != "fl" { // fl_a,fl_b: the SDKs' other spelling of fl_a.b
			return nil, errorf("Duplicate parameter in transformation: %s", k)
		}
		raw := v
		// A variable standing for a whole non-numeric value (c_$mode,
		// co_$color, l_$logo) is replaced by its text; numbers are
		// evaluated when the component runs.
		if strings.HasPrefix(v, "$") && validVarName(v[1:]) && (!numericKeys[k] || k == "e") {
			ref, ok := vars[v[1:]]
			if !ok {
				return nil, errorf("Undefined variable in transformation: %s", v)
			}
			v = ref
		}
		c.isDeferred, c.exprErr = false, nil
		canon, err := c.set(k, v)
		if err != nil {
			return nil, err
		}
		if c.isDeferred {
			if c.deferred == nil {
				c.deferred = map[string]string{}
			}
			c.deferred[k] = v
		}
		if raw != v || c.isDeferred {
			canon = raw // keep the reference or the expression as written
		}
		c.pairs[k] = canon
	}
	if c.Plugin != "" {
		for k := range c.pairs {
			if k != "fn" && !strings.HasPrefix(k, "$") {
				return nil, errorf("fn_wasm must stand in its own component (with variables only): %s", s)
			}
		}
	}
	return c, nil
}

// parseVarValue reads a variable's value: an expression (a number, names,
// other variables, a !string!, ctx:!key!, to_f…), or a bare word taken as
// a string. It returns the expression and the value's text, which
// non-numeric parameters use (c_$mode, co_$color).
func parseVarValue(v string, vars map[string]string) (*Expr, string, error) {
	text := v
	switch {
	case len(v) >= 2 && v[0] == '!' && v[len(v)-1] == '!' && !strings.Contains(v[1:len(v)-1], "!"):
		text = v[1 : len(v)-1]
	case strings.HasPrefix(v, "$") && validVarName(v[1:]):
		ref, ok := vars[v[1:]]
		if !ok {
			return nil, "", errorf("Undefined variable in transformation: %s", v)
		}
		text = ref
	}
	e, err := parseExpr(v, vars)
	if err != nil {
		if strings.ContainsAny(v, "_$!") {
			return nil, "", err
		}
		e = &Expr{root: exprStr(v), src: v} // a bare word: a string
	}
	return e, text, nil
}

// assetRef reads a public_id written in a parameter (l_, u_, d_), where
// folders are separated by ':' instead of '/'.
func assetRef(v string) (string, bool) {
	if strings.ContainsAny(v, " /,") {
		return "", false
	}
	id := strings.ReplaceAll(v, ":", "/")
	return id, CheckPublicID(id) == nil
}

// set parses one parameter into c and returns its canonical value. An
// expression's own error is reported rather than the parameter's.
func (c *Component) set(k, v string) (string, error) {
	canon, err := c.setParam(k, v)
	if c.exprErr != nil {
		return "", c.exprErr
	}
	return canon, err
}

func (c *Component) setParam(k, v string) (string, error) {
	switch k {
	case "c":
		if !cropModes[v] {
			return "", invalid("crop mode", v)
		}
		c.Crop = v
		return v, nil
	case "w", "h":
		if k == "w" && strings.HasPrefix(v, "auto") {
			a, canon, ok := parseAutoWidth(v)
			if !ok {
				return "", invalid("width", v)
			}
			c.AutoWidth = a
			return canon, nil
		}
		d, canon, err := c.parseDim(v, false)
		if err != nil || d.Value <= 0 {
			return "", invalid(map[string]string{"w": "width", "h": "height"}[k], v)
		}
		if k == "w" {
			c.Width = d
		} else {
			c.Height = d
		}
		return canon, nil
	case "x", "y":
		d, canon, err := c.parseDim(v, true)
		if err != nil {
			return "", invalid(k, v)
		}
		if k == "x" {
			c.X = d
		} else {
			c.Y = d
		}
		return canon, nil
	case "ar":
		if IsExpr(v) {
			f, ok := c.num(v, 0, 1e4)
			if !ok {
				return "", invalid("aspect ratio", v)
			}
			c.AspectRatio = f
			return v, nil
		}
		ar, canon, ok := parseAspect(v)
		if !ok {
			return "", invalid("aspect ratio", v)
		}
		c.AspectRatio = ar
		return canon, nil
	case "g":
		if faceGravities[v] {
			return "", errorf("Unsupported gravity: g_%s needs face detection, which edgepix does not have (g_auto crops to the most detailed region)", v)
		}
		if contentGravities[v] {
			c.Gravity = "auto" // the content-aware window: subject and classic are what it does
			return v, nil
		}
		if !gravities[v] {
			return "", invalid("gravity", v)
		}
		c.Gravity = v
		return v, nil
	case "q":
		q, canon, ok := c.parseQuality(v)
		if !ok {
			return "", invalid("quality", v)
		}
		c.Quality = q
		return canon, nil
	case "f":
		f, ok := formats[strings.ToLower(v)]
		if !ok {
			return "", invalid("format", v)
		}
		c.Format = f
		return f, nil
	case "e":
		e, canon, err := c.parseEffect(v)
		if err != nil {
			return "", err
		}
		c.Effect = e
		return canon, nil
	case "a":
		angles, canon, ok := c.parseAngles(v)
		if !ok {
			return "", invalid("angle", v)
		}
		c.Angles = angles
		return canon, nil
	case "r":
		r, canon, ok := c.parseRadius(v)
		if !ok {
			return "", invalid("radius", v)
		}
		c.Radius = r
		return canon, nil
	case "b":
		if strings.HasPrefix(v, "auto") {
			b, canon, ok := parseAutoBackground(v)
			if !ok {
				return "", invalid("background", v)
			}
			c.AutoBG = b
			return canon, nil
		}
		col, ok := ParseColor(v)
		if !ok {
			return "", invalid("background", v)
		}
		c.Background = &col
		return col.Spec, nil
	case "bo":
		b, ok := c.parseBorder(v)
		if !ok {
			return "", invalid("border", v)
		}
		c.Border = b
		return strconv.Itoa(b.Width) + "px_solid_" + b.Color.Spec, nil
	case "o":
		n, ok := c.int(v, 0, 100)
		if !ok {
			return "", invalid("opacity", v)
		}
		c.Opacity, c.HasOpacity = n, true
		return strconv.Itoa(n), nil
	case "dpr":
		if v == "auto" {
			c.DPRAuto = true
			return v, nil
		}
		f, ok := c.num(v, 0.1, 5)
		if !IsExpr(v) {
			f, ok = c.num(v, math.SmallestNonzeroFloat64, 5)
		}
		if !ok {
			return "", invalid("dpr", v)
		}
		c.DPR = f
		return formatFloat(f, true), nil
	case "pg":
		if v == "all" {
			c.Page = &Page{All: true}
			return v, nil
		}
		n, ok := c.int(v, 1, 1<<20)
		if !ok {
			return "", invalid("page", v)
		}
		c.Page = &Page{N: n}
		return strconv.Itoa(n), nil
	case "fl":
		return c.parseFlags(v)
	case "t":
		names := strings.Split(v, ".")
		for _, n := range names {
			if n == "" || strings.ContainsAny(n, " /") {
				return "", invalid("named transformation", v)
			}
		}
		c.Named = names
		return v, nil
	case "if":
		switch v {
		case "else":
			c.IfElse = true
		case "end":
			c.IfEnd = true
		default:
			cond, err := parseCondition(v, c.vars)
			if err != nil {
				return "", err
			}
			c.If = cond
		}
		return v, nil
	case "d":
		id, ok := assetRef(v)
		if !ok {
			return "", invalid("default image", v)
		}
		if i := strings.LastIndexByte(id, '.'); i > 0 && imageExts[strings.ToLower(id[i+1:])] {
			id = id[:i]
		}
		c.Default = id
		return v, nil
	case "co":
		col, ok := ParseColor(v)
		if !ok {
			return "", invalid("color", v)
		}
		c.Color = &col
		return col.Spec, nil
	case "l":
		if i := strings.IndexByte(v, ':'); i >= 0 && (v[:i] == "fetch" || v[:i] == "video" ||
			v[:i] == "subtitles" || v[:i] == "lut") {
			return "", errorf("Unsupported overlay type: %s (image and text overlays only)", v[:i])
		}
		if rest, ok := strings.CutPrefix(v, "text:"); ok {
			style, text, ok := strings.Cut(rest, ":")
			if !ok || style == "" || text == "" {
				return "", invalid("text overlay", v)
			}
			c.Overlay = v // kept whole: the pipeline reads style and text
			return v, nil
		}
		id, ok := assetRef(v)
		if !ok {
			return "", invalid("overlay", v)
		}
		c.Overlay = id
		return v, nil
	case "dl":
		n, ok := c.int(v, 10, 60000)
		if !ok {
			return "", invalid("delay", v)
		}
		c.Delay = n
		return strconv.Itoa(n), nil
	case "u":
		id, ok := assetRef(v)
		if !ok || strings.HasPrefix(v, "text:") {
			return "", invalid("underlay", v)
		}
		c.Overlay, c.Underlay = id, true
		return v, nil
	case "fn":
		id, ok := strings.CutPrefix(v, "wasm:")
		if !ok {
			return "", errorf("Unsupported custom function: %s", v)
		}
		if strings.ContainsAny(id, " ,/") || CheckPublicID(strings.ReplaceAll(id, ":", "/")) != nil {
			return "", invalid("custom function", v)
		}
		c.Plugin = id
		return v, nil
	}
	return "", errorf("Invalid transformation parameter: %s", k)
}
