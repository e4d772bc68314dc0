package pipeline

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"
	"strings"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// Layers returns the original bytes of an image to overlay, by public_id.
type Layers func(publicID string) ([]byte, error)

// overlay applies the layer (l_, or u_ beneath) that starts at ch[i] and returns the frames
// and the index of the layer's last component. Two forms, as Cloudinary:
// one component (l_logo,w_100,g_south_east,x_10: size and effects apply to
// the layer, g/x/y place it), or a layer opened by l_, transformed by the
// components that follow and placed by the one with fl_layer_apply.
// The layer's steps see the base chain's variables (scope.Vars); their w
// and h are the layer's.
func overlay(frames []*image.NRGBA, ch grammar.Chain, i int, l Limits, env Env, scope grammar.Values) ([]*image.NRGBA, int, error) {
	c := ch[i]
	layers := env.Layers
	text := strings.HasPrefix(c.Overlay, "text:")
	if layers == nil && !text {
		return nil, i, &grammar.Error{Msg: "Overlays are not available in this context"}
	}
	end, apply := i, c
	for k := i + 1; k < len(ch); k++ {
		if ch[k].Overlay != "" {
			break
		}
		if ch[k].HasFlag("layer_apply") {
			end, apply = k, ch[k]
			break
		}
	}
	flag := func(n string) bool { return c.HasFlag(n) || apply.HasFlag(n) }
	base := frames[0].Rect
	// the l_ component's own steps, without the placement (its variables
	// are already assigned)
	own := c.Omit("x", "y", "g")
	own.Overlay, own.Underlay, own.Gravity, own.X, own.Y, own.Color = "", false, "", grammar.Dim{}, grammar.Dim{}, nil
	own.Assigns = nil
	if text := strings.HasPrefix(c.Overlay, "text:"); text && c.Crop == "fit" && c.Width.Set {
		own = own.Omit("w", "h") // the text wraps at w instead
		own.Crop, own.Width, own.Height = "", grammar.Dim{}, grammar.Dim{}
	}
	if strings.HasPrefix(c.Overlay, "text:") && textStroke(c.Overlay) {
		own = own.Omit("bo")
		own.Border = nil // bo_ is the stroke
	}
	steps := grammar.Chain{own}
	if end > i {
		steps = append(steps, ch[i+1:end]...)
	}
	if flag("relative") { // w_0.2,fl_relative: sizes relative to the base image
		for k, s := range steps {
			steps[k] = relativeTo(s, base.Dx(), base.Dy())
		}
	}
	rc, err := c.Resolved(scope) // a text layer reads its size, wrap width and colour
	if err != nil {
		return nil, i, err
	}
	lay, err := loadLayer(rc, l, layers)
	if err != nil {
		return nil, i, err
	}
	b := lay.Frames[0].Rect
	if lay, _, err = run(lay, steps, b.Dx(), b.Dy(), l, Env{Tags: env.Tags, Context: env.Context, Pages: env.Pages}, scope.Vars); err != nil {
		return nil, i, err
	}
	top := lay.Frames[0]
	g := apply.Gravity
	if g == "" || g == "auto" {
		g = "center"
	}
	W, H := base.Dx(), base.Dy()
	scope.W, scope.H = float64(W), float64(H)
	at, err := apply.Resolved(scope)
	if err != nil {
		return nil, i, err
	}
	dx := int(math.Round(at.X.Resolve(W)))
	dy := int(math.Round(at.Y.Resolve(H)))
	p := placeFree(g, dx, dy, top.Rect.Dx(), top.Rect.Dy(), W, H)
	tiled := flag("tiled")
	// Without fl_no_overflow, an overlay reaching outside its base extends
	// the canvas (transparent where neither covers it), as Cloudinary does.
	canvas := image.Rect(0, 0, W, H)
	if !tiled && !flag("no_overflow") {
		canvas = canvas.Union(image.Rectangle{Min: p, Max: p.Add(top.Rect.Size())})
		if err := codec.CheckFrames("output", len(frames), canvas.Dx(), canvas.Dy(), l.output()); err != nil {
			return nil, i, err
		}
	}
	for k, f := range frames {
		if err := codec.CheckContext(l.Ctx); err != nil {
			return nil, i, err
		}
		if canvas != image.Rect(0, 0, W, H) {
			grown := image.NewNRGBA(image.Rect(0, 0, canvas.Dx(), canvas.Dy()))
			draw.Draw(grown, image.Rectangle{Min: canvas.Min.Mul(-1), Max: canvas.Min.Mul(-1).Add(f.Rect.Size())}, f, f.Rect.Min, draw.Src)
			f = grown
		}
		origin := canvas.Min.Mul(-1) // where the base's (0, 0) now is
		var rects []image.Rectangle
		if tiled {
			rects = tiles(p, top.Rect.Size(), f.Rect)
		} else {
			rects = []image.Rectangle{{Min: p.Add(origin), Max: p.Add(origin).Add(top.Rect.Size())}}
		}
		if !c.Underlay {
			for _, r := range rects {
				draw.Draw(f, r.Add(f.Rect.Min), top, top.Rect.Min, draw.Over)
			}
			frames[k] = f
			continue
		}
		// u_: the layer on an empty canvas of the result's size, the result
		// drawn over it (showing through its transparent parts).
		under := image.NewNRGBA(f.Rect)
		for _, r := range rects {
			draw.Draw(under, r.Add(f.Rect.Min), top, top.Rect.Min, draw.Src)
		}
		draw.Draw(under, f.Rect, f, f.Rect.Min, draw.Over)
		frames[k] = under
	}
	return frames, end, nil
}

// relativeTo returns c with relative widths and heights (w_0.2) turned
// into pixels of a W×H base (fl_relative).
func relativeTo(c *grammar.Component, W, H int) *grammar.Component {
	if !c.Width.Relative && !c.Height.Relative {
		return c
	}
	r := *c
	if r.Width.Relative {
		r.Width = grammar.Dim{Value: math.Max(math.Round(r.Width.Value*float64(W)), 1), Set: true}
	}
	if r.Height.Relative {
		r.Height = grammar.Dim{Value: math.Max(math.Round(r.Height.Value*float64(H)), 1), Set: true}
	}
	return &r
}

// tiles covers area with copies of a layer of size sz, aligned on p
// (fl_tiled).
func tiles(p image.Point, sz image.Point, area image.Rectangle) []image.Rectangle {
	if sz.X <= 0 || sz.Y <= 0 {
		return nil
	}
	x0 := p.X - (p.X+sz.X-1)/sz.X*sz.X
	y0 := p.Y - (p.Y+sz.Y-1)/sz.Y*sz.Y
	for x0 > 0 {
		x0 -= sz.X
	}
	for y0 > 0 {
		y0 -= sz.Y
	}
	var out []image.Rectangle
	for y := y0; y < area.Dy(); y += sz.Y {
		for x := x0; x < area.Dx(); x += sz.X {
			out = append(out, image.Rectangle{Min: image.Pt(x, y), Max: image.Pt(x, y).Add(sz)})
		}
	}
	return out
}

// textStroke reports whether a text overlay's style asks for a stroke.
func textStroke(spec string) bool {
	style, _, _ := strings.Cut(strings.TrimPrefix(spec, "text:"), ":")
	tokens := strings.Split(style, "_")
	return len(tokens) > 2 && slices.Contains(tokens[2:], "stroke")
}

// loadLayer renders a text layer or decodes an image one.
func loadLayer(c *grammar.Component, l Limits, layers Layers) (*codec.Image, error) {
	if strings.HasPrefix(c.Overlay, "text:") {
		col := color.NRGBA{A: 255}
		if c.Color != nil {
			col = c.Color.NRGBA
		}
		m, err := textLayer(c.Overlay, col, c, l)
		if err != nil {
			return nil, err
		}
		return &codec.Image{Frames: []*image.NRGBA{m}, Delays: []int{0}}, nil
	}
	src, err := layers(c.Overlay)
	if err != nil {
		return nil, err
	}
	return codec.Decode(src, codec.DecodeOptions{MaxPixels: l.MaxPixels, Page: 1, Ctx: l.Ctx})
}
