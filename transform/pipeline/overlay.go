package pipeline

import (
	"image"
	"image/color"
	"image/draw"
	"math"
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
func overlay(frames []*image.NRGBA, ch grammar.Chain, i int, l Limits, layers Layers) ([]*image.NRGBA, int, error) {
	c := ch[i]
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
	own := *c // the l_ component's own steps, without the placement
	own.Overlay, own.Underlay, own.Gravity, own.X, own.Y, own.Color = "", false, "", grammar.Dim{}, grammar.Dim{}, nil
	steps := grammar.Chain{&own}
	if end > i {
		steps = append(steps, ch[i+1:end]...)
	}
	lay, err := loadLayer(c, l, layers)
	if err != nil {
		return nil, i, err
	}
	b := lay.Frames[0].Rect
	if lay, err = Apply(lay, steps, b.Dx(), b.Dy(), l); err != nil {
		return nil, i, err
	}
	top := lay.Frames[0]
	g := apply.Gravity
	if g == "" || g == "auto" {
		g = "center"
	}
	for k, f := range frames {
		if err := codec.CheckContext(l.Ctx); err != nil {
			return nil, i, err
		}
		W, H := f.Rect.Dx(), f.Rect.Dy()
		dx := int(math.Round(apply.X.Resolve(W)))
		dy := int(math.Round(apply.Y.Resolve(H)))
		p := place(g, dx, dy, top.Rect.Dx(), top.Rect.Dy(), W, H)
		r := image.Rectangle{Min: p, Max: p.Add(top.Rect.Size())}.Add(f.Rect.Min)
		if !c.Underlay {
			draw.Draw(f, r, top, top.Rect.Min, draw.Over)
			continue
		}
		// u_: the layer on an empty canvas of the result's size, the result
		// drawn over it (showing through its transparent parts).
		under := image.NewNRGBA(f.Rect)
		draw.Draw(under, r, top, top.Rect.Min, draw.Src)
		draw.Draw(under, f.Rect, f, f.Rect.Min, draw.Over)
		frames[k] = under
	}
	return frames, end, nil
}

// loadLayer renders a text layer or decodes an image one.
func loadLayer(c *grammar.Component, l Limits, layers Layers) (*codec.Image, error) {
	if strings.HasPrefix(c.Overlay, "text:") {
		col := color.NRGBA{A: 255}
		if c.Color != nil {
			col = c.Color.NRGBA
		}
		m, err := textLayer(c.Overlay, col, l)
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
