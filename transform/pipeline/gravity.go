package pipeline

import (
	"image"
	"math"

	"github.com/disintegration/imaging"
)

// place positions a w×h region inside a W×H container by gravity, then
// moves it by the offsets dx, dy (counted inwards from the gravity's edges),
// clamped to the container.
func place(gravity string, dx, dy, w, h, W, H int) image.Point {
	p := placeFree(gravity, dx, dy, w, h, W, H)
	return image.Pt(min(max(p.X, 0), max(W-w, 0)), min(max(p.Y, 0), max(H-h, 0)))
}

// placeFree is place without the clamping: the region may reach outside
// the container (overlays that overflow their base). g_xy_center puts the
// region's centre at dx, dy.
func placeFree(gravity string, dx, dy, w, h, W, H int) image.Point {
	if gravity == "xy_center" {
		return image.Pt(dx-w/2, dy-h/2)
	}
	var x, y int
	switch gravity {
	case "north_west", "west", "south_west":
		x = 0
	case "north_east", "east", "south_east":
		x = W - w
	default:
		x = (W - w) / 2
	}
	switch gravity {
	case "north_west", "north", "north_east":
		y = 0
	case "south_west", "south", "south_east":
		y = H - h
	default:
		y = (H - h) / 2
	}
	switch gravity {
	case "north_east", "east", "south_east":
		dx = -dx
	}
	switch gravity {
	case "south_west", "south", "south_east":
		dy = -dy
	}
	return image.Pt(x+dx, y+dy)
}

// saliencyWindow chooses where to put a w×h window inside m for g_auto: the
// position with the most edge energy (sum of gradient magnitudes, a proxy
// for detail and subjects), with a slight bias towards the centre.
func saliencyWindow(m *image.NRGBA, w, h int) image.Point {
	p, _ := saliency(m, w, h)
	return p
}

// saliency is saliencyWindow that also returns the share (0..1) of the
// image's edge energy inside the chosen window.
func saliency(m *image.NRGBA, w, h int) (image.Point, float64) {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	if w >= W && h >= H {
		return image.Point{}, 1
	}
	e := newEnergyMap(m)
	p, kept := e.best(w, h)
	if e.total() <= 0 {
		return p, 1
	}
	return p, kept / e.total()
}

// energyMap is the integral image of the gradient magnitude of a
// thumbnail of m (at most 128 px on the long side), for g_auto's windows.
type energyMap struct {
	ii     []float64
	tw, th int
	s      float64 // thumbnail pixels per source pixel
	W, H   int     // source size
}

func newEnergyMap(m *image.NRGBA) *energyMap {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	s := math.Min(1, 128/float64(max(W, H)))
	tw, th := max(int(float64(W)*s), 1), max(int(float64(H)*s), 1)
	t := imaging.Resize(m, tw, th, imaging.Box)
	lum := make([]float64, tw*th)
	for y := 0; y < th; y++ {
		for x := 0; x < tw; x++ {
			p := t.Pix[y*t.Stride+x*4:]
			lum[y*tw+x] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
		}
	}
	ii := make([]float64, (tw+1)*(th+1))
	for y := 0; y < th; y++ {
		row := 0.0
		for x := 0; x < tw; x++ {
			gx := lum[y*tw+min(x+1, tw-1)] - lum[y*tw+max(x-1, 0)]
			gy := lum[min(y+1, th-1)*tw+x] - lum[max(y-1, 0)*tw+x]
			row += math.Hypot(gx, gy)
			ii[(y+1)*(tw+1)+x+1] = ii[y*(tw+1)+x+1] + row
		}
	}
	return &energyMap{ii: ii, tw: tw, th: th, s: s, W: W, H: H}
}

// total is the energy of the whole image.
func (e *energyMap) total() float64 { return e.ii[e.th*(e.tw+1)+e.tw] }

// best returns the position (source pixels) of the w×h window with the
// most energy, up to 10% more for central positions, and the energy it
// holds.
func (e *energyMap) best(w, h int) (image.Point, float64) {
	tw, th, ii := e.tw, e.th, e.ii
	ww, wh := max(int(float64(w)*e.s), 1), max(int(float64(h)*e.s), 1)
	ww, wh = min(ww, tw), min(wh, th)
	best, bx, by, kept := -1.0, 0, 0, 0.0
	cx, cy := float64(tw-ww)/2, float64(th-wh)/2
	for y := 0; y+wh <= th; y++ {
		for x := 0; x+ww <= tw; x++ {
			sum := ii[(y+wh)*(tw+1)+x+ww] - ii[y*(tw+1)+x+ww] - ii[(y+wh)*(tw+1)+x] + ii[y*(tw+1)+x]
			d := math.Hypot(float64(x)-cx, float64(y)-cy) / math.Max(math.Hypot(cx, cy), 1)
			score := sum * (1.1 - 0.1*d)
			if score > best {
				best, bx, by, kept = score, x, y, sum
			}
		}
	}
	x := min(int(math.Round(float64(bx)/e.s)), e.W-w)
	y := min(int(math.Round(float64(by)/e.s)), e.H-h)
	return image.Pt(max(x, 0), max(y, 0)), kept
}

// autoKeep and autoMaxZoom shape c_auto's "best crop": the smallest window
// of the requested shape, down to 1/autoMaxZoom of the covering one, that
// still holds autoKeep of the covering window's energy.
const (
	autoKeep    = 0.85
	autoMaxZoom = 2.0
)

// autoCrop is c_auto with g_auto: the covering (fill) window iw×ih tightened
// around the image's detail, as Cloudinary's automatic crop "provides more
// focus than fill", but never smaller than minW×minH (the requested size
// in source pixels: a crop is only upscaled when the request is larger
// than the image). It returns the window's size and position.
func autoCrop(m *image.NRGBA, iw, ih, minW, minH int) (int, int, image.Point) {
	e := newEnergyMap(m)
	_, full := e.best(iw, ih)
	cw, ch := iw, ih
	if full > 0 {
		for z := 0.95; z >= 1/autoMaxZoom-1e-9; z -= 0.05 {
			w := min(max(int(math.Round(float64(iw)*z)), minW), iw)
			h := min(max(int(math.Round(float64(ih)*z)), minH), ih)
			if w == cw && h == ch {
				continue
			}
			if _, kept := e.best(w, h); kept < autoKeep*full {
				break
			}
			cw, ch = w, h
		}
	}
	p, _ := e.best(cw, ch)
	return cw, ch, p
}
