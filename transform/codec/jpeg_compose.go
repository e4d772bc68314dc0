package codec

import "image"

// image converts the DC planes to an NRGBA image of ceil(w/8)×ceil(h/8):
// each block's mean is one sample.
func (j *dcDecoder) image() *image.NRGBA {
	planes := make([][]uint8, len(j.comps))
	for ci := range j.comps {
		c := &j.comps[ci]
		q := int32(j.qt[c.tq][0])
		p := make([]uint8, len(c.dc))
		for i, dc := range c.dc {
			p[i] = uint8(min(max(dc*q/8+128, 0), 255))
		}
		planes[ci] = p
	}
	return j.composePlanes(planes, 1)
}

// composePlanes builds the output from per-component sample planes of n
// samples per block side (c.bw·n wide), each component upsampled by
// replication to the output grid, converting YCbCr (or Adobe RGB, or
// gray) to RGB.
func (j *dcDecoder) composePlanes(planes [][]uint8, n int) *image.NRGBA {
	ow, oh := ceilDiv(j.w*n, 8), ceilDiv(j.h*n, 8)
	out := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	// xs[ci][x] is the sample of component ci in output column x.
	xs := make([][]int32, len(j.comps))
	for ci := range j.comps {
		c := &j.comps[ci]
		xs[ci] = make([]int32, ow)
		for x := range xs[ci] {
			xs[ci][x] = int32(x * c.h / j.hmax)
		}
	}
	row := func(ci, y int) []uint8 {
		c := &j.comps[ci]
		return planes[ci][(y*c.v/j.vmax)*c.bw*n:]
	}
	rgb := len(j.comps) == 3 && j.adobeTransform == 0
	for y := 0; y < oh; y++ {
		dst := out.Pix[y*out.Stride:][:ow*4]
		if len(j.comps) == 1 {
			g, x0 := row(0, y), xs[0]
			for x := range ow {
				v := g[x0[x]]
				d := dst[x*4:][:4]
				d[0], d[1], d[2], d[3] = v, v, v, 255
			}
			continue
		}
		p0, p1, p2 := row(0, y), row(1, y), row(2, y)
		x0, x1, x2 := xs[0], xs[1], xs[2]
		for x := range ow {
			c0, c1, c2 := p0[x0[x]], p1[x1[x]], p2[x2[x]]
			d := dst[x*4:][:4]
			if rgb {
				d[0], d[1], d[2], d[3] = c0, c1, c2, 255
				continue
			}
			if n == 8 { // image/color's rounding, as image/jpeg's pixels
				yy, cb, cr := int32(c0)*0x10101, int32(c1)-128, int32(c2)-128
				d[0], d[1], d[2], d[3] = clampYCC(yy+91881*cr), clampYCC(yy-22554*cb-46802*cr), clampYCC(yy+116130*cb), 255
				continue
			}
			d[0], d[1], d[2] = ycc(int32(c0), int32(c1), int32(c2))
			d[3] = 255
		}
	}
	return out
}
