package grammar

import (
	"sort"
	"strings"
)

// Dim is a width, height or offset: absolute pixels or (Relative) a
// fraction of the input's size. Set is false when the parameter is absent.
// An expression is resolved to pixels (see Component.Resolved).
type Dim struct {
	Value    float64
	Relative bool
	Set      bool
}

// Resolve returns the dimension in pixels for an input extent of base.
func (d Dim) Resolve(base int) float64 {
	if d.Relative {
		return d.Value * float64(base)
	}
	return d.Value
}

// Border is a bo_ parameter: <width>px_solid_<color>.
type Border struct {
	Width int
	Color Color
}

// Radius is an r_ parameter: Max (r_max) or up to four corner radii.
type Radius struct {
	Max     bool
	Corners []int
}

// Quality is q_: a value 1–100 or an auto level (good, best, eco, low),
// with an optional JPEG chroma subsampling (q_80:444: "444" or "420").
type Quality struct {
	Value  int
	Auto   string
	Chroma string
}

// Page is pg_: a 1-based page or frame, or All.
type Page struct {
	N   int
	All bool
}

// Component is one '/'-separated part of a transformation chain, parsed into
// typed parameters. Fields hold zero values when the parameter is absent.
type Component struct {
	Crop        string
	Width       Dim
	Height      Dim
	AspectRatio float64
	AutoWidth   *AutoWidth
	DPRAuto     bool // dpr_auto: 1.0 unless an edge resolved it from client hints
	Gravity     string
	X, Y        Dim
	Quality     *Quality
	Format      string
	Effect      *Effect
	Angles      []string // degrees as strings or modes, applied in order
	Radius      *Radius
	Background  *Color
	AutoBG      *AutoBackground // b_auto…: chosen from the image (pad modes)
	Border      *Border
	Opacity     int // 0..100, meaningful when HasOpacity
	HasOpacity  bool
	DPR         float64
	Page        *Page
	Flags       []string
	FlagArgs    map[string]string // e.g. attachment → filename
	Named       []string
	Plugin      string            // public_id of an fn_wasm plugin
	Overlay     string            // l_: an image's public_id (':' read as '/') or "text:<style>:<text>"
	Underlay    bool              // u_: the Overlay image goes beneath the result
	Delay       int               // dl_: milliseconds between animation frames
	Color       *Color            // co_: text colour
	Default     string            // d_: public_id served instead when the asset is missing
	If          *Condition        // if_<condition>: alone, opens a branch; with other parameters, guards them
	IfElse      bool              // if_else
	IfEnd       bool              // if_end
	Variables   map[string]string // user variables assigned here, as written
	Assigns     []Assignment      // the same, in order, to evaluate when the component runs

	pairs      map[string]string // canonical value per key, for String
	vars       map[string]string // variables in scope while parsing: name → text
	deferred   map[string]string // parameters holding expressions: key → value
	scope      *Values           // set while Resolved evaluates them
	isDeferred bool              // the parameter being parsed holds an expression
	exprErr    error             // an expression's error, reported instead of "invalid"
}

// Assignment is a user variable's assignment ($name_value): its value is
// an expression, evaluated when the component runs.
type Assignment struct {
	Name  string
	Value *Expr
}

// maxDim bounds evaluated sizes and offsets as parseDim bounds literal ones.
const maxDim = 1 << 20

// Variable holds a user variable's name (without '$') and its value.
type Variable struct {
	Name, Value string
}

// IsBranch reports whether the component is a bare if_<condition>, which
// opens a branch closed by if_end (rather than guarding its own
// parameters, variable assignments included: if_$s_gt_15,$s_15).
func (c *Component) IsBranch() bool {
	return c.If != nil && len(c.pairs) == 1
}

// IsPlugin reports whether the component is a bare plugin step.
func (c *Component) IsPlugin() bool { return c.Plugin != "" }

// HasFlag reports whether fl_<name> is set.
func (c *Component) HasFlag(name string) bool {
	for _, f := range c.Flags {
		if f == name {
			return true
		}
	}
	return false
}

// String returns the canonical form: variables first (sorted), then the
// other key_value pairs sorted by key.
func (c *Component) String() string {
	var vars, rest []string
	for k, v := range c.pairs {
		if strings.HasPrefix(k, "$") {
			vars = append(vars, k+"_"+v)
		} else {
			rest = append(rest, k+"_"+v)
		}
	}
	sort.Strings(vars)
	sort.Strings(rest)
	return strings.Join(append(vars, rest...), ",")
}

// Chain is a sequence of components applied in order.
type Chain []*Component

// String returns the canonical chain, components joined by '/'.
func (ch Chain) String() string {
	parts := make([]string, 0, len(ch))
	for _, c := range ch {
		if s := c.String(); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "/")
}

// Default returns the d_ placeholder's public_id, or "".
func (ch Chain) Default() string {
	for _, c := range ch {
		if c.Default != "" {
			return c.Default
		}
	}
	return ""
}

// Delay returns the last dl_ in the chain (ms), or 0. A dl_ given as an
// expression is evaluated with the chain's variables (taken in order,
// conditions untested) and no image: dl_$d after $d_250 is 250.
func (ch Chain) Delay() int {
	d := 0
	v := Values{Vars: map[string]Value{}}
	for _, c := range ch {
		for _, a := range c.Assigns {
			if val, err := a.Value.Eval(v); err == nil {
				v.Vars[a.Name] = val
			}
		}
		if c.Delay <= 0 {
			continue
		}
		d = c.Delay
		if _, ok := c.deferred["dl"]; ok {
			if r, err := c.Resolved(v); err == nil {
				d = r.Delay
			}
		}
	}
	return d
}

// Format returns the last f_ in the chain, or "".
func (ch Chain) Format() string {
	f := ""
	for _, c := range ch {
		if c.Format != "" {
			f = c.Format
		}
	}
	return f
}

// Flag reports whether any component sets fl_<name>, with its argument.
func (ch Chain) Flag(name string) (arg string, ok bool) {
	for _, c := range ch {
		if c.HasFlag(name) {
			return c.FlagArgs[name], true
		}
	}
	return "", false
}

// Quality returns the last q_ in the chain, or nil.
func (ch Chain) Quality() *Quality {
	var q *Quality
	for _, c := range ch {
		if c.Quality != nil {
			q = c.Quality
		}
	}
	return q
}

// Variables returns the user variables defined anywhere in the chain.
func (ch Chain) Variables() map[string]string {
	out := map[string]string{}
	for _, c := range ch {
		for k, v := range c.Variables {
			out[k] = v
		}
	}
	return out
}

// SplitPlugin splits the chain at its first fn_wasm step: before, the plugin
// public_id and after. ok is false when the chain has no plugin.
func (ch Chain) SplitPlugin() (before Chain, plugin string, after Chain, ok bool) {
	for i, c := range ch {
		if c.Plugin != "" {
			return ch[:i], c.Plugin, ch[i+1:], true
		}
	}
	return ch, "", nil, false
}
