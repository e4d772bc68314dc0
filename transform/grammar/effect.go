package grammar

import (
	"math"
	"strconv"
	"strings"
)

// Effect is one e_ parameter: a name, an optional level and the arguments
// some effects take after it.
type Effect struct {
	Name     string
	Level    float64 // meaningful when HasLevel; else EffectDefault(Name)
	HasLevel bool
	Mode     string      // outline and gradient_fade modes, the art filter, cartoonify's "bw", tint's "equalize"
	Width    float64     // outline: thickness (px); cartoonify: colour reduction
	Blur     float64     // outline: blur of the outline
	Colors   []ColorStop // tint's colours, replace_color's target then source, trim's override

	min, max float64 // the level's range, while parsing
}

// ColorStop is a colour with an optional position (tint gradients: 40p).
type ColorStop struct {
	Color  Color
	Pos    float64 // 0..100 when HasPos
	HasPos bool
}

// effectSpec is an effect's level range and default (NaN: it takes no
// level) and, for effects with other arguments, their parser, which
// returns the canonical arguments.
type effectSpec struct {
	min, max, def float64
	args          func(c *Component, e *Effect, args []string) ([]string, bool)
}

var noLevel = math.NaN()

var effects = map[string]effectSpec{
	"sepia":      {1, 100, 80, nil},
	"grayscale":  {0, 0, noLevel, nil},
	"blackwhite": {0, 100, 50, nil},
	"blur":       {1, 2000, 100, nil},
	"sharpen":    {1, 2000, 100, nil},
	"brightness": {-99, 100, 80, nil},
	"contrast":   {-100, 100, 0, nil},
	"saturation": {-100, 100, 80, nil},
	"negate":     {0, 0, noLevel, nil},
	"pixelate":   {1, 200, 5, nil},
	"vignette":   {0, 100, 20, nil},
	"gamma":      {-50, 150, 0, nil},
	// auto adjustments: the level is how strongly they apply
	"improve":          {0, 100, 100, nil},
	"auto_contrast":    {0, 100, 100, nil},
	"auto_color":       {0, 100, 100, nil},
	"auto_brightness":  {0, 100, 100, nil},
	"colorize":         {0, 100, 100, nil}, // towards co_ (gray when none)
	"hue":              {-100, 100, 80, nil},
	"vibrance":         {-100, 100, 20, nil},
	"unsharp_mask":     {1, 2000, 100, nil},
	"red":              {-100, 100, 0, nil},
	"green":            {-100, 100, 0, nil},
	"blue":             {-100, 100, 0, nil},
	"oil_paint":        {0, 100, 30, nil},
	"shadow":           {0, 100, 40, nil},
	"pixelate_region":  {1, 200, 5, nil},
	"blur_region":      {1, 2000, 100, nil},
	"make_transparent": {0, 100, 10, nil},
	"gradient_fade":    {0, 100, 20, gradientFadeArgs},
	"outline":          {0, 0, noLevel, outlineArgs},
	"trim":             {0, 100, 10, trimArgs},
	"replace_color":    {0, 100, 50, replaceColorArgs},
	"tint":             {0, 100, 60, tintArgs},
	"cartoonify":       {0, 100, 50, cartoonifyArgs},
	"art":              {0, 0, noLevel, artArgs},
}

// faceEffects need a face detector, which edgepix does not have: they are
// refused rather than served as something else.
var faceEffects = map[string]bool{
	"redeye": true, "adv_redeye": true, "pixelate_faces": true, "blur_faces": true,
}

// ArtFilters are Cloudinary's named artistic filters (e_art:<filter>).
var ArtFilters = map[string]bool{
	"al_dente": true, "athena": true, "audrey": true, "aurora": true, "daguerre": true,
	"eucalyptus": true, "fes": true, "frost": true, "hairspray": true, "hokusai": true,
	"incognito": true, "linen": true, "peacock": true, "primavera": true, "quartz": true,
	"red_rock": true, "refresh": true, "sizzle": true, "sonnet": true, "ukulele": true,
	"zorro": true,
}

// EffectDefault returns the default level of an effect.
func EffectDefault(name string) float64 { return effects[name].def }

// LevelOr returns the effect's level, or its default.
func (e *Effect) LevelOr() float64 {
	if e.HasLevel {
		return e.Level
	}
	return EffectDefault(e.Name)
}

func (c *Component) parseEffect(v string) (*Effect, string, error) {
	parts := strings.Split(v, ":")
	name, args := parts[0], parts[1:]
	if faceEffects[name] {
		return nil, "", errorf("Unsupported effect: e_%s needs face detection, which edgepix does not have", name)
	}
	spec, ok := effects[name]
	if !ok {
		return nil, "", errorf("Invalid effect in transformation: %s", v)
	}
	e := &Effect{Name: name, min: spec.min, max: spec.max}
	bad := errorf("Invalid effect level in transformation: %s", v)
	if spec.args != nil {
		canon, ok := spec.args(c, e, args)
		if !ok || e.HasLevel && (e.Level < spec.min || e.Level > spec.max) {
			return nil, "", bad
		}
		return e, strings.Join(append([]string{name}, canon...), ":"), nil
	}
	switch {
	case len(args) == 0:
		return e, name, nil
	case len(args) > 1 || math.IsNaN(spec.def):
		return nil, "", bad
	}
	f, ok := c.num(args[0], spec.min, spec.max)
	if !ok {
		return nil, "", bad
	}
	e.Level, e.HasLevel = f, true
	return e, name + ":" + formatFloat(f, false), nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// setLevel reads a level argument: a literal (checked against the
// effect's range by parseEffect) or an expression, clamped to the range.
func (c *Component) setLevel(e *Effect, s string) (string, bool) {
	lo, hi := math.Inf(-1), math.Inf(1)
	if IsExpr(s) {
		lo, hi = e.min, e.max
	}
	f, ok := c.num(s, lo, hi)
	if !ok {
		return "", false
	}
	e.Level, e.HasLevel = f, true
	return formatFloat(f, false), true
}

// isNum reports whether an effect argument is a number or an expression
// (rather than a colour or a mode).
func (c *Component) isNum(s string) bool { return isNumber(s) || IsExpr(s) }

// effectColor reads a colour written inside an effect's arguments: a name,
// a bare hex value, or rgb followed by one (rgb:ff0000 split at ':').
// It returns the colour and how many arguments it used.
func effectColor(args []string) (Color, int, bool) {
	if len(args) == 0 {
		return Color{}, 0, false
	}
	if strings.EqualFold(args[0], "rgb") && len(args) > 1 {
		c, ok := ParseColor("rgb:" + args[1])
		return c, 2, ok
	}
	if c, ok := ParseColor(args[0]); ok {
		return c, 1, true
	}
	if isHex(args[0]) {
		c, ok := ParseColor("rgb:" + args[0])
		return c, 1, ok
	}
	return Color{}, 0, false
}

func isHex(s string) bool {
	if n := len(s); n != 3 && n != 4 && n != 6 && n != 8 {
		return false
	}
	for _, r := range strings.ToLower(s) {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// e_gradient_fade[:symmetric|symmetric_pad][:strength]
func gradientFadeArgs(c *Component, e *Effect, args []string) ([]string, bool) {
	var canon []string
	if len(args) > 0 && (args[0] == "symmetric" || args[0] == "symmetric_pad") {
		e.Mode = args[0]
		canon, args = append(canon, args[0]), args[1:]
	}
	if len(args) > 1 {
		return nil, false
	}
	if len(args) == 1 {
		s, ok := c.setLevel(e, args[0])
		if !ok {
			return nil, false
		}
		canon = append(canon, s)
	}
	return canon, true
}

var outlineModes = map[string]bool{"inner": true, "outer": true, "inner_fill": true, "outer_fill": true, "fill": true}

// e_outline[:mode][:width][:blur]: width 1..100 (5), blur 0..2000 (0).
func outlineArgs(c *Component, e *Effect, args []string) ([]string, bool) {
	var canon []string
	e.Width = 5
	if len(args) > 0 && !c.isNum(args[0]) {
		if !outlineModes[args[0]] {
			return nil, false
		}
		e.Mode = args[0]
		canon, args = append(canon, args[0]), args[1:]
	}
	if len(args) > 2 {
		return nil, false
	}
	if len(args) > 0 {
		w, ok := c.num(args[0], 1, 100)
		if !ok {
			return nil, false
		}
		e.Width = w
		canon = append(canon, formatFloat(w, false))
	}
	if len(args) > 1 {
		b, ok := c.num(args[1], 0, 2000)
		if !ok {
			return nil, false
		}
		e.Blur = b
		canon = append(canon, formatFloat(b, false))
	}
	return canon, true
}

// e_trim[:tolerance][:color_override]
func trimArgs(c *Component, e *Effect, args []string) ([]string, bool) {
	var canon []string
	if len(args) > 0 && c.isNum(args[0]) {
		s, _ := c.setLevel(e, args[0])
		canon, args = append(canon, s), args[1:]
	}
	if len(args) > 0 {
		c, n, ok := effectColor(args)
		if !ok || n != len(args) {
			return nil, false
		}
		e.Colors = []ColorStop{{Color: c}}
		canon = append(canon, strings.TrimPrefix(c.Spec, "rgb:"))
	}
	return canon, true
}

// e_replace_color:to_color[:tolerance[:from_color]]
func replaceColorArgs(c *Component, e *Effect, args []string) ([]string, bool) {
	to, n, ok := effectColor(args)
	if !ok {
		return nil, false
	}
	canon := []string{strings.TrimPrefix(to.Spec, "rgb:")}
	e.Colors = []ColorStop{{Color: to}}
	args = args[n:]
	if len(args) > 0 {
		s, ok := c.setLevel(e, args[0])
		if !ok {
			return nil, false
		}
		canon, args = append(canon, s), args[1:]
	}
	if len(args) > 0 {
		from, n, ok := effectColor(args)
		if !ok || n != len(args) {
			return nil, false
		}
		e.Colors = append(e.Colors, ColorStop{Color: from})
		canon = append(canon, strings.TrimPrefix(from.Spec, "rgb:"))
	}
	return canon, true
}

// e_tint[:equalize][:amount][:color[:pos]]...: red when no colour is given.
func tintArgs(c *Component, e *Effect, args []string) ([]string, bool) {
	var canon []string
	if len(args) > 0 && args[0] == "equalize" {
		e.Mode = "equalize"
		canon, args = append(canon, "equalize"), args[1:]
	}
	if len(args) > 0 && c.isNum(args[0]) {
		s, _ := c.setLevel(e, args[0])
		canon, args = append(canon, s), args[1:]
	}
	for len(args) > 0 {
		col, n, ok := effectColor(args)
		if !ok || len(e.Colors) == 16 {
			return nil, false
		}
		stop := ColorStop{Color: col}
		canon, args = append(canon, strings.TrimPrefix(col.Spec, "rgb:")), args[n:]
		if len(args) > 0 && strings.HasSuffix(args[0], "p") {
			p, ok := c.num(strings.TrimSuffix(args[0], "p"), 0, 100)
			if !ok {
				return nil, false
			}
			stop.Pos, stop.HasPos = p, true
			canon, args = append(canon, formatFloat(p, false)+"p"), args[1:]
		}
		e.Colors = append(e.Colors, stop)
	}
	return canon, true
}

// e_cartoonify[:line_strength][:color_reduction|bw]: 50 and 50.
func cartoonifyArgs(c *Component, e *Effect, args []string) ([]string, bool) {
	var canon []string
	e.Width = 50
	if len(args) > 2 {
		return nil, false
	}
	if len(args) > 0 {
		s, ok := c.setLevel(e, args[0])
		if !ok {
			return nil, false
		}
		canon = append(canon, s)
	}
	if len(args) > 1 {
		if args[1] == "bw" {
			e.Mode = "bw"
			return append(canon, "bw"), true
		}
		r, ok := c.num(args[1], 0, 100)
		if !ok {
			return nil, false
		}
		e.Width = r
		canon = append(canon, formatFloat(r, false))
	}
	return canon, true
}

// e_art:<filter>
func artArgs(c *Component, e *Effect, args []string) ([]string, bool) {
	if len(args) != 1 || !ArtFilters[args[0]] {
		return nil, false
	}
	e.Mode = args[0]
	return args, true
}
