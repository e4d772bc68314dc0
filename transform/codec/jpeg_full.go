package codec

import "image"

// A full-size (1/1) decode of baseline JPEGs: our Huffman decoder
// (jpeg_huffman.go), each block's inverse DCT done as soon as it is read,
// straight into its component's sample plane (no coefficient planes), and
// the planes composed to NRGBA. The samples are image/jpeg's: the same
// integer inverse DCT arithmetic (the Chen–Wang factorisation with 11-bit
// constants, rows then columns), chroma upsampled by replication and the
// YCbCr conversion of image/color, so that the pixels equal those of
// image/jpeg and toNRGBA.

// noFullJPEG turns decodeJPEGFull off (tests compare the two decoders).
var noFullJPEG = false

// decodeJPEGFull decodes a baseline, Huffman-coded, one- or
// three-component YCbCr (or gray) JPEG at full size. It returns ok=false
// for anything else (progressive, RGB or CMYK, arithmetic coding, damage,
// a done opt.Ctx), for which the caller uses image/jpeg.
func decodeJPEGFull(b []byte, opt DecodeOptions) (*image.NRGBA, bool) {
	j := dcDecoder{n: 8, direct: true, maxPixels: opt.maxPixels(), ctx: opt.Ctx}
	if !j.parse(b) || !j.haveFrame || j.progressive || len(j.comps) == 3 && j.rgbLike() {
		return nil, false
	}
	if m, ok := j.composeYCbCr(); ok {
		return m, true
	}
	planes := make([][]uint8, len(j.comps))
	for ci := range j.comps {
		planes[ci] = j.comps[ci].plane
	}
	return j.composePlanes(planes, 8), true
}

// composeYCbCr is composePlanes for the usual YCbCr layouts (Cb and Cr
// sampled alike, horizontally at the luma's rate or half of it): each
// chroma pair's terms computed once for the luma samples sharing it.
func (j *dcDecoder) composeYCbCr() (*image.NRGBA, bool) {
	if len(j.comps) != 3 {
		return nil, false
	}
	y, cb, cr := &j.comps[0], &j.comps[1], &j.comps[2]
	if cb.h != cr.h || cb.v != cr.v || y.h != j.hmax || y.v != j.vmax || (j.hmax != cb.h && j.hmax != 2*cb.h) {
		return nil, false
	}
	half := j.hmax == 2*cb.h
	out := image.NewNRGBA(image.Rect(0, 0, j.w, j.h))
	ys, cs := y.bw*8, cb.bw*8
	for row := 0; row < j.h; row++ {
		yr := y.plane[row*ys:][:j.w]
		cy := row * cb.v / j.vmax * cs
		cbr, crr := cb.plane[cy:][:cs], cr.plane[cy:][:cs]
		dst := out.Pix[row*out.Stride:][:j.w*4]
		for x := 0; x < j.w; {
			ci := x
			if half {
				ci = x >> 1
			}
			b1, r1 := int32(cbr[ci])-128, int32(crr[ci])-128
			rc, gc, bc := 91881*r1, -22554*b1-46802*r1, 116130*b1
			yy := int32(yr[x]) * 0x10101
			d := dst[x*4:][:4]
			d[0], d[1], d[2], d[3] = clampYCC(yy+rc), clampYCC(yy+gc), clampYCC(yy+bc), 255
			x++
			if half && x < j.w {
				yy := int32(yr[x]) * 0x10101
				d := dst[x*4:][:4]
				d[0], d[1], d[2], d[3] = clampYCC(yy+rc), clampYCC(yy+gc), clampYCC(yy+bc), 255
				x++
			}
		}
	}
	return out, true
}

// rgbLike reports whether image/jpeg might read the three components as
// RGB rather than YCbCr (an Adobe transform of 0, or components named R,
// G, B): those are left to it.
func (j *dcDecoder) rgbLike() bool {
	return j.adobeTransform == 0 || j.comps[0].id == 'R' && j.comps[1].id == 'G' && j.comps[2].id == 'B'
}

// The inverse DCT's constants: 2048·√2·cos(kπ/16).
const (
	idctW1 = 2841
	idctW2 = 2676
	idctW3 = 2408
	idctW5 = 1609
	idctW6 = 1108
	idctW7 = 565
)

// idctStore computes the inverse DCT of the dequantised coefficients blk
// (natural order), writes the 8×8 samples (level-shifted by 128 and
// clamped) to dst with the given stride, and zeroes blk for the next block.
func idctStore(blk *[64]int32, dst []uint8, stride int) {
	// Rows: the results keep 3 more bits than the input.
	for y := 0; y < 8; y++ {
		r := blk[y*8:][:8]
		if r[1]|r[2]|r[3]|r[4]|r[5]|r[6]|r[7] == 0 {
			dc := r[0] << 3
			r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] = dc, dc, dc, dc, dc, dc, dc, dc
			continue
		}
		e0, e1 := r[0]<<11+128, r[4]<<11 // even part
		c2, c6 := r[2], r[6]
		o1, o7, o5, o3 := r[1], r[7], r[5], r[3] // odd part
		t := idctW7 * (o1 + o7)
		a := t + (idctW1-idctW7)*o1
		bb := t - (idctW1+idctW7)*o7
		t = idctW3 * (o5 + o3)
		c := t - (idctW3-idctW5)*o5
		d := t - (idctW3+idctW5)*o3
		s0, s1 := e0+e1, e0-e1
		t = idctW6 * (c2 + c6)
		m6 := t - (idctW2+idctW6)*c6
		m2 := t + (idctW2-idctW6)*c2
		p, q := a+c, a-c
		u, v := bb+d, bb-d
		f0, f3 := s0+m2, s0-m2
		f1, f2 := s1+m6, s1-m6
		g := (181*(q+v) + 128) >> 8
		h := (181*(q-v) + 128) >> 8
		r[0], r[7] = (f0+p)>>8, (f0-p)>>8
		r[1], r[6] = (f1+g)>>8, (f1-g)>>8
		r[2], r[5] = (f2+h)>>8, (f2-h)>>8
		r[3], r[4] = (f3+u)>>8, (f3-u)>>8
	}
	// Columns, then the level shift and clamp.
	for x := 0; x < 8; x++ {
		if blk[8+x]|blk[16+x]|blk[24+x]|blk[32+x]|blk[40+x]|blk[48+x]|blk[56+x] == 0 {
			v := level((blk[x]<<8 + 8192) >> 14) // what the full pass gives
			for y := range 8 {
				dst[y*stride+x] = v
			}
			continue
		}
		e0, e1 := blk[x]<<8+8192, blk[32+x]<<8
		c2, c6 := blk[16+x], blk[48+x]
		o1, o7, o5, o3 := blk[8+x], blk[56+x], blk[40+x], blk[24+x]
		t := idctW7*(o1+o7) + 4
		a := (t + (idctW1-idctW7)*o1) >> 3
		bb := (t - (idctW1+idctW7)*o7) >> 3
		t = idctW3*(o5+o3) + 4
		c := (t - (idctW3-idctW5)*o5) >> 3
		d := (t - (idctW3+idctW5)*o3) >> 3
		s0, s1 := e0+e1, e0-e1
		t = idctW6*(c2+c6) + 4
		m6 := (t - (idctW2+idctW6)*c6) >> 3
		m2 := (t + (idctW2-idctW6)*c2) >> 3
		p, q := a+c, a-c
		u, v := bb+d, bb-d
		f0, f3 := s0+m2, s0-m2
		f1, f2 := s1+m6, s1-m6
		g := (181*(q+v) + 128) >> 8
		h := (181*(q-v) + 128) >> 8
		dst[0*stride+x] = level((f0 + p) >> 14)
		dst[1*stride+x] = level((f1 + g) >> 14)
		dst[2*stride+x] = level((f2 + h) >> 14)
		dst[3*stride+x] = level((f3 + u) >> 14)
		dst[4*stride+x] = level((f3 - u) >> 14)
		dst[5*stride+x] = level((f2 - h) >> 14)
		dst[6*stride+x] = level((f1 - g) >> 14)
		dst[7*stride+x] = level((f0 - p) >> 14)
	}
	*blk = [64]int32{}
}

// dcStore stores a block whose only non-zero coefficient is its
// dequantised DC, as idctStore would.
func dcStore(dc int32, dst []uint8, stride int) {
	v := level((dc<<11 + 8192) >> 14)
	for y := range 8 {
		r := dst[y*stride:][:8]
		r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] = v, v, v, v, v, v, v, v
	}
}

// level shifts an inverse DCT output by 128 and clamps it to a sample.
func level(v int32) uint8 {
	v += 128
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}
