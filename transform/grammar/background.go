package grammar

import (
	"strconv"
	"strings"
)

// AutoBackground is b_auto[:mode[:n[:direction]]][:palette_c1_c2…]: the pad
// colour chosen from the image. Mode is border (the default),
// predominant, border_contrast or predominant_contrast, and for gradients
// border_gradient, predominant_gradient and their _contrast forms, with N
// colours (2 or 4) in Direction (horizontal, vertical, diagonal_desc,
// diagonal_asc). Palette restricts the choice to its colours.
type AutoBackground struct {
	Mode      string
	N         int
	Direction string
	Palette   []Color
}

var autoBackgroundModes = map[string]bool{
	"border": true, "predominant": true, "border_contrast": true, "predominant_contrast": true,
	"border_gradient": true, "predominant_gradient": true, "border_gradient_contrast": true,
	"predominant_gradient_contrast": true,
}

var gradientDirections = map[string]bool{"horizontal": true, "vertical": true, "diagonal_desc": true, "diagonal_asc": true}

// Gradient reports whether the mode asks for a gradient.
func (b *AutoBackground) Gradient() bool { return strings.Contains(b.Mode, "gradient") }

// Contrast reports whether the mode asks for the contrasting colour.
func (b *AutoBackground) Contrast() bool { return strings.HasSuffix(b.Mode, "_contrast") }

// Predominant reports whether colours come from the whole image rather
// than its border.
func (b *AutoBackground) Predominant() bool { return strings.HasPrefix(b.Mode, "predominant") }

func parseAutoBackground(v string) (*AutoBackground, string, bool) {
	parts := strings.Split(v, ":")
	if parts[0] != "auto" {
		return nil, "", false
	}
	b := &AutoBackground{Mode: "border", N: 2, Direction: "horizontal"}
	args := parts[1:]
	if len(args) > 0 && autoBackgroundModes[args[0]] {
		b.Mode, args = args[0], args[1:]
	}
	if b.Gradient() {
		if len(args) > 0 && (args[0] == "2" || args[0] == "4") {
			b.N, _ = strconv.Atoi(args[0])
			args = args[1:]
		}
		if len(args) > 0 && gradientDirections[args[0]] {
			b.Direction, args = args[0], args[1:]
		}
	}
	if len(args) > 0 {
		names, ok := strings.CutPrefix(args[0], "palette_")
		if !ok || len(args) > 1 {
			return nil, "", false
		}
		for _, n := range strings.Split(names, "_") {
			c, _, ok := effectColor([]string{n})
			if !ok || len(b.Palette) == 16 {
				return nil, "", false
			}
			b.Palette = append(b.Palette, c)
		}
	}
	return b, b.String(), true
}

// String is the canonical value of b_ for b.
func (b *AutoBackground) String() string {
	s := "auto:" + b.Mode
	if b.Gradient() {
		s += ":" + strconv.Itoa(b.N) + ":" + b.Direction
	}
	if len(b.Palette) > 0 {
		names := make([]string, len(b.Palette))
		for i, c := range b.Palette {
			names[i] = strings.TrimPrefix(c.Spec, "rgb:")
		}
		s += ":palette_" + strings.Join(names, "_")
	}
	return s
}
