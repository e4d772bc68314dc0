package codec

import (
	"context"
	"encoding/binary"
	"image"
	"math"
)

// decodeJPEGScaled decodes a JPEG at 1/d scale. At 1/8 (baseline or
// progressive) each 8×8 block becomes one pixel from its DC coefficient
// alone (its exact mean); AC data is entropy-decoded only as far as needed
// to skip it (baseline) or not read at all (progressive). At 1/4 and 1/2
// (baseline only) the lowest 2×2 or 4×4 coefficients of each block are kept
// and a reduced inverse DCT gives 2×2 or 4×4 pixels. It returns ok=false
// for anything it does not handle (arithmetic coding, CMYK, progressive
// at 1/4 and 1/2, malformed data, a second frame header, a frame over
// opt's MaxPixels, a done opt.Ctx), and the caller falls back to the full
// decoder, which reports errors.
//
// At 1/1 (baseline or progressive, jpeg_progfull.go) every coefficient is
// kept and the full 8-point inverse DCT gives every pixel: the decoder for
// the chroma subsamplings image/jpeg refuses (factors of 3, chroma sampled
// differently from each other or more finely than luma), upsampled by
// replication.
func decodeJPEGScaled(b []byte, d int, opt DecodeOptions) (*image.NRGBA, bool) {
	if d != 8 && d != 4 && d != 2 && d != 1 {
		return nil, false
	}
	j := dcDecoder{n: 8 / d, maxPixels: opt.maxPixels(), ctx: opt.Ctx}
	if !j.parse(b) || !j.haveFrame || (j.progressive && j.n > 1 && j.n < 8) {
		return nil, false
	}
	if j.n == 1 {
		return j.image(), true
	}
	return j.imageIDCT(), true
}

type dcComponent struct {
	id, h, v, tq int
	bw, bh       int     // block grid padded to whole MCUs
	dc           []int32 // 1/8: quantised DC per block; else n×n dequantised coefficients per block
	plane        []uint8 // direct: the samples, bw·8 wide
	pred         int32
	dcTable      int
	acTable      int
}

type dcDecoder struct {
	n              int   // samples per block side: 1 (DC only), 2 or 4
	maxPixels      int64 // largest frame accepted
	ctx            context.Context
	b              []byte
	w, h           int
	comps          []dcComponent
	hmax, vmax     int
	mcusX, mcusY   int
	qt             [4][64]uint16
	dcT, acT       [4]huffTable
	restart        int
	progressive    bool
	haveFrame      bool
	scans          int       // decoded: a frame with none has no image
	adobeTransform int       // -1 when no Adobe segment
	direct         bool      // baseline at 1/1: blocks go through the inverse DCT as they are read (jpeg_full.go)
	blk            [64]int32 // direct: the block being read

	// bit reader state
	pos       int
	acc       uint64
	nbits     uint
	hitMarker bool
	pad       uint // zero bits fill fed in after the scan's data ended
	eobrun    int  // progressive AC: blocks left whose band has ended
}

func (j *dcDecoder) parse(b []byte) bool {
	j.b = b
	j.adobeTransform = -1
	i := 2
	for i+2 <= len(b) {
		if b[i] != 0xFF {
			return false
		}
		m := b[i+1]
		if m == 0xFF { // fill byte
			i++
			continue
		}
		if m == 0xD9 {
			if j.haveFrame && j.progressive && j.n == 8 {
				j.dequantize()
			}
			return j.haveFrame && j.scans > 0
		}
		if i+4 > len(b) {
			return false
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return false
		}
		seg := b[i+4 : i+2+n]
		switch m {
		case 0xC0, 0xC1, 0xC2:
			j.progressive = m == 0xC2
			if (j.progressive && j.n > 1 && j.n < 8) || !j.frame(seg) {
				return false // progressive: DC only (1/8) or every coefficient (1/1)
			}
		case 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
			return false // lossless, hierarchical or arithmetic coding
		case 0xC4:
			if !j.huffman(seg) {
				return false
			}
		case 0xDB:
			if !j.quant(seg) {
				return false
			}
		case 0xDD:
			if len(seg) < 2 {
				return false
			}
			j.restart = int(binary.BigEndian.Uint16(seg))
		case 0xEE:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				j.adobeTransform = int(seg[11])
			}
		case 0xDA:
			next, ok := j.scan(seg, i+2+n)
			if !ok {
				return false
			}
			j.scans++
			i = next
			continue
		}
		i += 2 + n
	}
	// No EOI: truncated. image/jpeg refuses such a file too, so a file
	// validated here (upload) is one every delivery can decode.
	return false
}

// frame reads the frame header, the only one a JPEG may have (a second
// would make us allocate for a size nobody checked), and allocates the
// coefficient planes once its size is known to be within the limit.
func (j *dcDecoder) frame(s []byte) bool {
	if j.haveFrame || len(s) < 6 || s[0] != 8 {
		return false
	}
	j.h = int(binary.BigEndian.Uint16(s[1:]))
	j.w = int(binary.BigEndian.Uint16(s[3:]))
	nc := int(s[5])
	if j.w == 0 || j.h == 0 || (nc != 1 && nc != 3) || len(s) < 6+3*nc || int64(j.w)*int64(j.h) > j.maxPixels {
		return false
	}
	j.comps = make([]dcComponent, nc)
	for k := range j.comps {
		c := &j.comps[k]
		c.id, c.h, c.v, c.tq = int(s[6+3*k]), int(s[7+3*k]>>4), int(s[7+3*k]&15), int(s[8+3*k])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return false
		}
		j.hmax, j.vmax = max(j.hmax, c.h), max(j.vmax, c.v)
	}
	if nc == 1 { // a single component is never interleaved: one block per MCU
		j.comps[0].h, j.comps[0].v, j.hmax, j.vmax = 1, 1, 1, 1
	}
	j.mcusX = (j.w + 8*j.hmax - 1) / (8 * j.hmax)
	j.mcusY = (j.h + 8*j.vmax - 1) / (8 * j.vmax)
	if j.direct && j.progressive {
		return false
	}
	if j.n == 8 { // every coefficient (4 bytes) and sample (1 byte) of every block, and the output
		var samples int64
		for _, c := range j.comps {
			samples += int64(j.mcusX*c.h*8) * int64(j.mcusY*c.v*8)
		}
		if samples*5/4+int64(j.w)*int64(j.h) > MemoryBudget(j.maxPixels) {
			return false
		}
	}
	for k := range j.comps {
		c := &j.comps[k]
		c.bw, c.bh = j.mcusX*c.h, j.mcusY*c.v
		if j.direct {
			c.plane = make([]uint8, c.bw*c.bh*64)
			continue
		}
		c.dc = make([]int32, c.bw*c.bh*j.n*j.n)
	}
	j.haveFrame = true
	return true
}

func (j *dcDecoder) quant(s []byte) bool {
	for len(s) > 0 {
		pq, tq := s[0]>>4, int(s[0]&15)
		if tq > 3 {
			return false
		}
		s = s[1:]
		for k := 0; k < 64; k++ {
			if pq == 0 {
				if len(s) < 1 {
					return false
				}
				j.qt[tq][k] = uint16(s[0])
				s = s[1:]
			} else {
				if len(s) < 2 {
					return false
				}
				j.qt[tq][k] = binary.BigEndian.Uint16(s)
				s = s[2:]
			}
		}
	}
	return true
}

// scan decodes one scan starting at the SOS segment s; data begins at
// start. It returns the offset of the marker that ends the scan.
func (j *dcDecoder) scan(s []byte, start int) (int, bool) {
	if !j.haveFrame || len(s) < 1 {
		return 0, false
	}
	ns := int(s[0])
	if ns < 1 || ns > len(j.comps) || len(s) < 1+2*ns+3 {
		return 0, false
	}
	var sc []*dcComponent
	for k := 0; k < ns; k++ {
		id := int(s[1+2*k])
		var c *dcComponent
		for m := range j.comps {
			if j.comps[m].id == id {
				c = &j.comps[m]
			}
		}
		if c == nil {
			return 0, false
		}
		c.dcTable, c.acTable = int(s[2+2*k]>>4), int(s[2+2*k]&15)
		if c.dcTable > 3 || c.acTable > 3 {
			return 0, false
		}
		sc = append(sc, c)
	}
	ss, se := int(s[1+2*ns]), int(s[2+2*ns])
	ah, al := uint(s[3+2*ns]>>4), uint(s[3+2*ns]&15)
	if j.progressive && ss != 0 && j.n == 1 {
		return skipEntropy(j.b, start), true // AC scans are not needed at 1/8
	}
	if se < ss || se > 63 || al > 13 || j.progressive && (ss == 0 && se != 0 || ss != 0 && ns != 1) {
		return 0, false // a progressive scan is DC only, or one component's band
	}
	for _, c := range sc {
		c.pred = 0
		if (!j.progressive || ah == 0 && ss == 0) && !j.dcT[c.dcTable].ok {
			return 0, false
		}
		if (!j.progressive || ss != 0) && !j.acT[c.acTable].ok {
			return 0, false
		}
	}
	j.pos, j.acc, j.nbits, j.hitMarker, j.pad, j.eobrun = start, 0, 0, false, 0, 0
	decodeBlock := func(c *dcComponent, bx, by int) bool {
		idx := by*c.bw + bx
		if j.progressive {
			return j.progressiveBlock(c, c.dc[idx*j.n*j.n:(idx+1)*j.n*j.n], ss, se, ah, al)
		}
		return j.baselineBlock(c, idx)
	}
	units, total := 0, j.mcusX*j.mcusY
	if ns == 1 {
		c := sc[0]
		total = (ceilDiv(j.w*c.h, j.hmax) + 7) / 8 * ((ceilDiv(j.h*c.v, j.vmax) + 7) / 8)
	}
	restart := func() bool {
		if j.nbits < j.pad {
			return false // a unit was decoded from bits the scan does not have
		}
		units++
		if j.restart == 0 || units%j.restart != 0 || units == total { // no marker after the last unit
			return true
		}
		// Expect RSTn: drop buffered bits and resynchronise after the marker.
		p := j.pos
		for p+1 < len(j.b) && !(j.b[p] == 0xFF && j.b[p+1] >= 0xD0 && j.b[p+1] <= 0xD7) {
			p++
		}
		if p+1 >= len(j.b) {
			return false
		}
		j.pos, j.acc, j.nbits, j.hitMarker, j.pad, j.eobrun = p+2, 0, 0, false, 0, 0
		for _, c := range sc {
			c.pred = 0
		}
		return true
	}
	if ns == 1 {
		c := sc[0]
		cw := (ceilDiv(j.w*c.h, j.hmax) + 7) / 8
		ch := (ceilDiv(j.h*c.v, j.vmax) + 7) / 8
		for by := 0; by < ch; by++ {
			if by%64 == 0 && CheckContext(j.ctx) != nil {
				return 0, false
			}
			for bx := 0; bx < cw; bx++ {
				if !decodeBlock(c, bx, by) || !restart() {
					return 0, false
				}
			}
		}
	} else {
		for my := 0; my < j.mcusY; my++ {
			if my%16 == 0 && CheckContext(j.ctx) != nil {
				return 0, false
			}
			for mx := 0; mx < j.mcusX; mx++ {
				for _, c := range sc {
					for v := 0; v < c.v; v++ {
						for h := 0; h < c.h; h++ {
							if !decodeBlock(c, mx*c.h+h, my*c.v+v) {
								return 0, false
							}
						}
					}
				}
				if !restart() {
					return 0, false
				}
			}
		}
	}
	if j.hitMarker && j.pos >= len(j.b) {
		return 0, false // ran off the end: truncated
	}
	return skipEntropy(j.b, j.pos), true
}

// skipEntropy returns the offset of the next marker that is not a restart
// marker or a stuffed byte.
func skipEntropy(b []byte, p int) int {
	for p+1 < len(b) {
		if b[p] == 0xFF {
			m := b[p+1]
			if m != 0x00 && m != 0xFF && (m < 0xD0 || m > 0xD7) {
				return p
			}
		}
		p++
	}
	return len(b)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// ycc converts JFIF YCbCr to RGB with 16.16 fixed point.
func ycc(y, cb, cr int32) (uint8, uint8, uint8) {
	yy := y<<16 + 1<<15
	cb -= 128
	cr -= 128
	r := (yy + 91881*cr) >> 16
	g := (yy - 22554*cb - 46802*cr) >> 16
	b := (yy + 116130*cb) >> 16
	return clamp8(r), clamp8(g), clamp8(b)
}

func clamp8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// unzig maps a coefficient's zigzag index to its natural (row*8+col) one.
var unzig = [64]int{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

// idctBasis[n][x*n+u] = C(u)·cos((2x+1)uπ/2n), C(0) = 1/√2: the n-point
// inverse DCT of the lowest n coefficients of an 8-point block, which is
// the block's continuous reconstruction sampled at the centres of n
// equal parts.
var idctBasis = func() map[int][]float32 {
	m := map[int][]float32{}
	for _, n := range []int{2, 4, 8} {
		b := make([]float32, n*n)
		for x := 0; x < n; x++ {
			for u := 0; u < n; u++ {
				c := 1.0
				if u == 0 {
					c = 1 / math.Sqrt2
				}
				b[x*n+u] = float32(c * math.Cos(float64((2*x+1)*u)*math.Pi/float64(2*n)))
			}
		}
		m[n] = b
	}
	return m
}()

// idct2 is imageIDCT's 2×2 inverse DCT in integers: with both basis
// vectors ±1/√2, a sample is (f00 ± f01 ± f10 ± f11)/2, over 4 and
// level-shifted as there: floor(s/8 + 128.5).
func idct2(c *dcComponent, plane []uint8) {
	pw := c.bw * 2
	for by := 0; by < c.bh; by++ {
		r0, r1 := plane[by*2*pw:][:pw], plane[(by*2+1)*pw:][:pw]
		for bx := 0; bx < c.bw; bx++ {
			f := c.dc[(by*c.bw+bx)*4:][:4]
			a, b := f[0]+f[2], f[0]-f[2] // top, bottom: DC ± vertical
			d, e := f[1]+f[3], f[1]-f[3]
			r0[bx*2], r0[bx*2+1] = sample2(a+d), sample2(a-d)
			r1[bx*2], r1[bx*2+1] = sample2(b+e), sample2(b-e)
		}
	}
}

func sample2(s int32) uint8 { return uint8(min(max((s+1028)>>3, 0), 255)) }

// imageIDCT turns the kept coefficients into an image of
// ceil(w·n/8)×ceil(h·n/8) pixels.
func (j *dcDecoder) imageIDCT() *image.NRGBA {
	n := j.n
	basis := idctBasis[n]
	planes := make([][]uint8, len(j.comps))
	var tmp [64]float32
	for ci := range j.comps {
		c := &j.comps[ci]
		pw := c.bw * n
		plane := make([]uint8, pw*c.bh*n)
		if n == 2 {
			idct2(c, plane)
			planes[ci] = plane
			continue
		}
		for by := 0; by < c.bh; by++ {
			for bx := 0; bx < c.bw; bx++ {
				f := c.dc[(by*c.bw+bx)*n*n:]
				for v := 0; v < n; v++ { // rows of coefficients → tmp[v][x]
					for x := 0; x < n; x++ {
						var s float32
						for u := 0; u < n; u++ {
							s += float32(f[v*n+u]) * basis[x*n+u]
						}
						tmp[v*n+x] = s
					}
				}
				for y := 0; y < n; y++ {
					row := plane[(by*n+y)*pw+bx*n:]
					for x := 0; x < n; x++ {
						var s float32
						for v := 0; v < n; v++ {
							s += tmp[v*n+x] * basis[y*n+v]
						}
						row[x] = uint8(min(max(s/4+128.5, 0), 255))
					}
				}
			}
		}
		planes[ci] = plane
	}
	return j.composePlanes(planes, n)
}
