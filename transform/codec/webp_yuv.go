package codec

import "image"

// webpNRGBA converts a decoded WebP to NRGBA. x/image/webp returns lossy
// images as 4:2:0 YCbCr, which Go's colour model reads as full-range
// JFIF with nearest chroma; VP8 samples are limited-range BT.601, so they
// are converted here as libwebp does: chroma upsampled with its "fancy"
// (9-3-3-1) filter and its fixed-point arithmetic, then its YUV→RGB.
func webpNRGBA(m image.Image) *image.NRGBA {
	var yc *image.YCbCr
	var a []uint8
	aStride := 0
	switch v := m.(type) {
	case *image.YCbCr:
		yc = v
	case *image.NYCbCrA:
		yc, a, aStride = &v.YCbCr, v.A, v.AStride
	default:
		return toNRGBA(m)
	}
	if yc.SubsampleRatio != image.YCbCrSubsampleRatio420 || yc.Rect.Min != (image.Point{}) {
		return toNRGBA(m)
	}
	W, H := yc.Rect.Dx(), yc.Rect.Dy()
	ch := (H + 1) / 2
	out := image.NewNRGBA(image.Rect(0, 0, W, H))
	for y := 0; y < H; y++ {
		nr, vr := 0, 0 // chroma rows: nearest, and the vertical neighbour
		if y > 0 {
			k := (y + 1) / 2
			nr, vr = k-1, k
			if y%2 == 0 {
				nr, vr = k, k-1
			}
			nr, vr = min(nr, ch-1), min(vr, ch-1)
		}
		near, vert := nr*yc.CStride, vr*yc.CStride
		row := out.Pix[y*out.Stride:]
		for x := 0; x < W; x++ {
			var u, v int
			if x == 0 || x == W-1 && W%2 == 0 { // edges: vertical interpolation only
				c := x / 2
				u = (3*int(yc.Cb[near+c]) + int(yc.Cb[vert+c]) + 2) >> 2
				v = (3*int(yc.Cr[near+c]) + int(yc.Cr[vert+c]) + 2) >> 2
			} else {
				k := (x + 1) / 2
				nc, hc := k-1, k
				if x%2 == 0 {
					nc, hc = k, k-1
				}
				u = fancy(yc.Cb[near+nc], yc.Cb[near+hc], yc.Cb[vert+nc], yc.Cb[vert+hc])
				v = fancy(yc.Cr[near+nc], yc.Cr[near+hc], yc.Cr[vert+nc], yc.Cr[vert+hc])
			}
			yy := mulHi(int(yc.Y[y*yc.YStride+x]), 19077)
			p := row[x*4 : x*4+4]
			p[0] = vp8Clip8(yy + mulHi(v, 26149) - 14234)
			p[1] = vp8Clip8(yy - mulHi(u, 6419) - mulHi(v, 13320) + 8708)
			p[2] = vp8Clip8(yy + mulHi(u, 33050) - 17685)
			p[3] = 255
			if a != nil {
				p[3] = a[y*aStride+x]
			}
		}
	}
	return out
}

// fancy is libwebp's chroma at a luma sample from the nearest chroma
// sample, its horizontal and vertical neighbours and the diagonal one.
func fancy(near, h, v, d uint8) int {
	n := int(near)
	return ((n+3*int(h)+3*int(v)+int(d)+8)>>3 + n) >> 1
}

func mulHi(v, c int) int { return v * c >> 8 }

func vp8Clip8(v int) uint8 {
	switch {
	case v&^(256<<6-1) == 0:
		return uint8(v >> 6)
	case v < 0:
		return 0
	}
	return 255
}
