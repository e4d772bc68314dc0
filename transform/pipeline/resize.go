package pipeline

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/disintegration/imaging"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// resample scales m to w×h with Lanczos. Large reductions first shrink with
// a box filter to twice the target: the result is visually the same and the
// Lanczos pass then runs on far fewer pixels.
func resample(ctx context.Context, m *image.NRGBA, w, h int) (*image.NRGBA, error) {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	if W == w && H == h {
		if m.Rect.Min != (image.Point{}) {
			return imaging.Clone(m), nil // a crop of a frame: its own pixels, at the origin
		}
		return m, nil
	}
	if opaque, gray := opacity(m); opaque {
		// An exact kx×ky box average first (libvips' shrink before its
		// reduce), then Lanczos for the rest.
		kx, ky := shrinkFactor(float64(W)/float64(w)), shrinkFactor(float64(H)/float64(h))
		spanW, spanH := float64(W), float64(H)
		if kx > 1 || ky > 1 {
			var err error
			if m, err = shrinkBox(ctx, m, kx, ky, gray); err != nil {
				return nil, err
			}
			spanW, spanH = spanW/float64(kx), spanH/float64(ky)
		}
		return resizeOpaqueSpan(ctx, m, w, h, spanW, spanH, gray, imaging.Lanczos)
	}
	if W > 3*w && H > 3*h {
		var err error
		if m, err = resize(ctx, m, 2*w, 2*h, imaging.Box); err != nil {
			return nil, err
		}
	}
	return resize(ctx, m, w, h, imaging.Lanczos)
}

// shrinkFactor is the integer box shrink resample applies before Lanczos
// for a reduction by s: from 4 times, the largest leaving at least 2 to
// Lanczos (as libvips does); below, the largest leaving 1.2 (a 2.5 MP
// photo to 800 px: Lanczos then reads a quarter of the pixels). Against
// Lanczos alone on the 2.5 MP photo: 53–56 dB from 1.2 to 13 times
// smaller, where the box to twice the target beyond 3 times it replaces
// gave 50–53 dB.
func shrinkFactor(s float64) int {
	gap := 1.2
	if s >= 4 {
		gap = 2
	}
	return min(max(int(s/gap), 1), maxShrink)
}

// bandPixels is about how many pixels one band of a resize covers: ctx is
// checked between bands.
const bandPixels = 1 << 20

// resize is imaging.Resize(m, w, h, filter): for an opaque m, in fixed
// point (resample.go); otherwise computed in bands so that ctx is checked
// between them. imaging resizes horizontally then vertically,
// each pass independent per row (then per column); so are the bands: rows
// of m resized in width only, then columns of that resized in height
// only. The pixels are the same.
func resize(ctx context.Context, m *image.NRGBA, w, h int, filter imaging.ResampleFilter) (*image.NRGBA, error) {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	if W == w && H == h {
		return imaging.Clone(m), nil
	}
	if opaque, gray := opacity(m); opaque {
		return resizeOpaqueSpan(ctx, m, w, h, float64(W), float64(H), gray, filter)
	}
	var err error
	if W != w {
		if m, err = resizeRows(ctx, m, w, filter); err != nil {
			return nil, err
		}
	}
	if H != h {
		return resizeColumns(ctx, m, h, filter)
	}
	return m, nil
}

// resizeRows resizes m to width w, one band of rows at a time.
func resizeRows(ctx context.Context, m *image.NRGBA, w int, filter imaging.ResampleFilter) (*image.NRGBA, error) {
	r := m.Rect
	out := image.NewNRGBA(image.Rect(0, 0, w, r.Dy()))
	step := max(bandPixels/max(r.Dx(), w), 1)
	for lo := 0; lo < r.Dy(); lo += step {
		if err := codec.CheckContext(ctx); err != nil {
			return nil, err
		}
		hi := min(lo+step, r.Dy())
		band := imaging.Resize(m.SubImage(image.Rect(r.Min.X, r.Min.Y+lo, r.Max.X, r.Min.Y+hi)), w, hi-lo, filter)
		copy(out.Pix[lo*out.Stride:], band.Pix)
	}
	return out, nil
}

// resizeColumns resizes m to height h, one band of columns at a time.
func resizeColumns(ctx context.Context, m *image.NRGBA, h int, filter imaging.ResampleFilter) (*image.NRGBA, error) {
	r := m.Rect
	out := image.NewNRGBA(image.Rect(0, 0, r.Dx(), h))
	step := max(bandPixels/max(r.Dy(), h), 1)
	for lo := 0; lo < r.Dx(); lo += step {
		if err := codec.CheckContext(ctx); err != nil {
			return nil, err
		}
		hi := min(lo+step, r.Dx())
		band := imaging.Resize(m.SubImage(image.Rect(r.Min.X+lo, r.Min.Y, r.Min.X+hi, r.Max.Y)), hi-lo, h, filter)
		for y := 0; y < h; y++ {
			copy(out.Pix[y*out.Stride+lo*4:], band.Pix[y*band.Stride:][:(hi-lo)*4])
		}
	}
	return out, nil
}

// applyResize runs a component's crop mode on every frame. lw×lh is the
// logical input size (the source's real size); the frames may be smaller
// when the decoder returned a reduced image, and are scaled accordingly.
func applyResize(ctx context.Context, frames []*image.NRGBA, c *grammar.Component, lw, lh int) ([]*image.NRGBA, error) {
	p := planResize(c, lw, lh)
	first := frames[0]
	aw, ah := first.Rect.Dx(), first.Rect.Dy()
	k := float64(aw) / float64(lw) // actual pixels per logical pixel
	gravity := c.Gravity
	mode := c.Crop
	if gravity == "" {
		gravity = "center"
		if mode == "thumb" || mode == "auto" || mode == "fill_pad" {
			gravity = "auto"
		}
		if mode == "crop" && (c.X.Set || c.Y.Set) {
			gravity = "north_west"
		}
	}
	if mode == "fill_pad" {
		// Fill when the covering crop keeps most of the detail, else pad.
		fill := *c
		fill.Crop = "fill"
		fp := planResize(&fill, lw, lh)
		iw, ih := cropRegion(fp, k, aw, ah)
		if gravity != "auto" {
			return applyResize(ctx, frames, &fill, lw, lh)
		}
		if _, share := saliency(first, iw, ih); share >= fillPadShare {
			return applyResize(ctx, frames, &fill, lw, lh)
		}
		pad := *c
		pad.Crop = "pad"
		return applyResize(ctx, frames, &pad, lw, lh)
	}
	out := make([]*image.NRGBA, len(frames))
	switch {
	case p.CanvasW > 0: // pad modes
		sw, sh := round(float64(lw)*p.Scale), round(float64(lh)*p.Scale)
		sw, sh = min(sw, p.CanvasW), min(sh, p.CanvasH)
		if gravity == "auto" {
			gravity = "center"
		}
		pos := place(gravity, 0, 0, sw, sh, p.CanvasW, p.CanvasH)
		for i, f := range frames {
			scaled, err := resample(ctx, f, sw, sh)
			if err != nil {
				return nil, err
			}
			canvas := padCanvas(scaled, c, p.CanvasW, p.CanvasH)
			draw.Draw(canvas, image.Rect(0, 0, sw, sh).Add(pos), scaled, image.Point{}, draw.Over)
			out[i] = canvas
		}
	case !p.Crop.Empty():
		// The kept region, in actual source pixels: crop first, then scale
		// only what is kept.
		scale := p.Scale
		iw, ih := cropRegion(p, k, aw, ah)
		var pos image.Point
		switch {
		case gravity == "auto" && mode == "auto":
			iw, ih, pos = autoCrop(first, iw, ih, min(round(float64(p.OutW)*k), iw), min(round(float64(p.OutH)*k), ih))
		case gravity == "auto":
			pos = saliencyWindow(first, iw, ih)
		default:
			dx := c.X.Resolve(lw) * k / scale
			dy := c.Y.Resolve(lh) * k / scale
			if mode == "crop" || gravity == "xy_center" { // source coordinates
				dx, dy = c.X.Resolve(lw)*k, c.Y.Resolve(lh)*k
			}
			pos = place(gravity, int(math.Round(dx)), int(math.Round(dy)), iw, ih, aw, ah)
		}
		r := image.Rect(0, 0, iw, ih).Add(pos)
		for i, f := range frames {
			var err error
			if out[i], err = resample(ctx, cropView(f, r), p.OutW, p.OutH); err != nil {
				return nil, err
			}
		}
	default:
		for i, f := range frames {
			var err error
			if out[i], err = resample(ctx, f, p.OutW, p.OutH); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// cropView is the part of m inside r, sharing m's pixels (resampling
// reads it in place, without a copy).
func cropView(m *image.NRGBA, r image.Rectangle) *image.NRGBA {
	if r = r.Intersect(m.Rect); r.Empty() {
		return imaging.Crop(m, r)
	}
	return m.SubImage(r).(*image.NRGBA)
}

// fillPadShare is the share of the image's detail (edge energy) that
// c_fill_pad's crop must keep; below it the image is padded instead.
const fillPadShare = 0.85

// cropRegion is the size, in actual source pixels, of the region a crop
// plan keeps.
func cropRegion(p Plan, k float64, aw, ah int) (int, int) {
	rw := float64(p.OutW) / p.Scale * k
	rh := float64(p.OutH) / p.Scale * k
	iw, ih := min(int(math.Round(rw)), aw), min(int(math.Round(rh)), ah)
	return max(iw, 1), max(ih, 1)
}

// padCanvas is the w×h background of a pad: b_ (white by default), or
// b_auto's colour or gradient chosen from the (scaled) image m.
func padCanvas(m *image.NRGBA, c *grammar.Component, w, h int) *image.NRGBA {
	if c.AutoBG != nil {
		return autoBackground(m, c.AutoBG, w, h)
	}
	bg := color.NRGBA{255, 255, 255, 255}
	if c.Background != nil {
		bg = c.Background.NRGBA
	}
	return imaging.New(w, h, bg)
}

// applyAutoRotate handles a_auto_right / a_auto_left: rotate by 90° when the
// requested box and the image disagree on orientation.
func applyAutoRotate(frames []*image.NRGBA, c *grammar.Component, lw, lh int) ([]*image.NRGBA, bool) {
	mode := ""
	for _, a := range c.Angles {
		if a == "auto_right" || a == "auto_left" {
			mode = a
		}
	}
	w, h := target(c, lw, lh)
	if mode == "" || w == 0 || h == 0 {
		return frames, false
	}
	if (w > h) == (lw > lh) || w == h || lw == lh {
		return frames, false
	}
	for i, f := range frames {
		if mode == "auto_right" {
			frames[i] = imaging.Rotate270(f)
		} else {
			frames[i] = imaging.Rotate90(f)
		}
	}
	return frames, true
}
