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
	// Work on a thumbnail of at most 128 px on the long side.
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
	// Integral image of gradient magnitude.
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
	ww, wh := max(int(float64(w)*s), 1), max(int(float64(h)*s), 1)
	ww, wh = min(ww, tw), min(wh, th)
	total := ii[th*(tw+1)+tw]
	best, bx, by, kept := -1.0, 0, 0, 0.0
	cx, cy := float64(tw-ww)/2, float64(th-wh)/2
	for y := 0; y+wh <= th; y++ {
		for x := 0; x+ww <= tw; x++ {
			sum := ii[(y+wh)*(tw+1)+x+ww] - ii[y*(tw+1)+x+ww] - ii[(y+wh)*(tw+1)+x] + ii[y*(tw+1)+x]
			// Up to 10% bonus for being central.
			d := math.Hypot(float64(x)-cx, float64(y)-cy) / math.Max(math.Hypot(cx, cy), 1)
			score := sum * (1.1 - 0.1*d)
			if score > best {
				best, bx, by, kept = score, x, y, sum
			}
		}
	}
	x := min(int(math.Round(float64(bx)/s)), W-w)
	y := min(int(math.Round(float64(by)/s)), H-h)
	share := 1.0
	if total > 0 {
		share = kept / total
	}
	return image.Pt(max(x, 0), max(y, 0)), share
}
