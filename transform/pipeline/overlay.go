package pipeline

import (
	"image"
	"image/draw"
	"math"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// Layers returns the original bytes of an image to overlay, by public_id.
type Layers func(publicID string) ([]byte, error)

// overlay applies the layer that starts at ch[i] and returns the frames
// and the index of the layer's last component. Two forms, as Cloudinary:
// one component (l_logo,w_100,g_south_east,x_10: size and effects apply to
// the layer, g/x/y place it), or a layer opened by l_, transformed by the
// components that follow and placed by the one with fl_layer_apply.
func overlay(frames []*image.NRGBA, ch grammar.Chain, i int, l Limits, layers Layers) ([]*image.NRGBA, int, error) {
	c := ch[i]
	if layers == nil {
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
	own.Overlay, own.Gravity, own.X, own.Y = "", "", grammar.Dim{}, grammar.Dim{}
	steps := grammar.Chain{&own}
	if end > i {
		steps = append(steps, ch[i+1:end]...)
	}
	src, err := layers(c.Overlay)
	if err != nil {
		return nil, i, err
	}
	lay, err := codec.Decode(src, codec.DecodeOptions{MaxPixels: l.MaxPixels, Page: 1})
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
	for _, f := range frames {
		W, H := f.Rect.Dx(), f.Rect.Dy()
		dx := int(math.Round(apply.X.Resolve(W)))
		dy := int(math.Round(apply.Y.Resolve(H)))
		p := place(g, dx, dy, top.Rect.Dx(), top.Rect.Dy(), W, H)
		r := image.Rectangle{Min: p, Max: p.Add(top.Rect.Size())}.Add(f.Rect.Min)
		draw.Draw(f, r, top, top.Rect.Min, draw.Over)
	}
	return frames, end, nil
}
