package grammar

import (
	"image/color"
	"strconv"
	"strings"
)

// Color is an RGBA colour with its canonical spelling.
type Color struct {
	color.NRGBA
	Spec string // canonical form: a name or rgb:rrggbb[aa]
}

// namedColors holds the colour names accepted in b_ and bo_ (CSS basic and
// common extended names, as Cloudinary accepts them).
var namedColors = map[string]color.NRGBA{
	"black": {0, 0, 0, 255}, "white": {255, 255, 255, 255}, "red": {255, 0, 0, 255},
	"green": {0, 128, 0, 255}, "blue": {0, 0, 255, 255}, "yellow": {255, 255, 0, 255},
	"cyan": {0, 255, 255, 255}, "magenta": {255, 0, 255, 255}, "gray": {128, 128, 128, 255},
	"grey": {128, 128, 128, 255}, "silver": {192, 192, 192, 255}, "maroon": {128, 0, 0, 255},
	"olive": {128, 128, 0, 255}, "lime": {0, 255, 0, 255}, "aqua": {0, 255, 255, 255},
	"teal": {0, 128, 128, 255}, "navy": {0, 0, 128, 255}, "fuchsia": {255, 0, 255, 255},
	"purple": {128, 0, 128, 255}, "orange": {255, 165, 0, 255}, "pink": {255, 192, 203, 255},
	"brown": {165, 42, 42, 255}, "gold": {255, 215, 0, 255}, "beige": {245, 245, 220, 255},
	"ivory": {255, 255, 240, 255}, "khaki": {240, 230, 140, 255}, "lavender": {230, 230, 250, 255},
	"salmon": {250, 128, 114, 255}, "tomato": {255, 99, 71, 255}, "violet": {238, 130, 238, 255},
	"indigo": {75, 0, 130, 255}, "coral": {255, 127, 80, 255}, "crimson": {220, 20, 60, 255},
	"darkgray": {169, 169, 169, 255}, "lightgray": {211, 211, 211, 255}, "transparent": {0, 0, 0, 0},
}

// ParseColor parses a colour name, rgb:RGB, rgb:RRGGBB, rgb:RRGGBBAA or a
// bare/#-prefixed hex value.
func ParseColor(s string) (Color, bool) {
	ls := strings.ToLower(s)
	if c, ok := namedColors[ls]; ok {
		return Color{NRGBA: c, Spec: ls}, true
	}
	hex := strings.TrimPrefix(strings.TrimPrefix(ls, "rgb:"), "#")
	if hex == ls && !strings.HasPrefix(ls, "#") {
		return Color{}, false // a bare word that is not a known name
	}
	switch len(hex) {
	case 3, 4:
		var b strings.Builder
		for _, r := range hex {
			b.WriteRune(r)
			b.WriteRune(r)
		}
		hex = b.String()
	case 6, 8:
	default:
		return Color{}, false
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return Color{}, false
	}
	c := color.NRGBA{A: 255}
	if len(hex) == 8 {
		c = color.NRGBA{uint8(v >> 24), uint8(v >> 16), uint8(v >> 8), uint8(v)}
	} else {
		c = color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
	}
	spec := "rgb:" + hex[:6]
	if c.A != 255 {
		spec = "rgb:" + hex
	}
	return Color{NRGBA: c, Spec: spec}, true
}
