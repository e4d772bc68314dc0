package codec

import (
	"bufio"
	"image"
	"io"
	"math"
)

// encodeProgressiveJPEG writes m as a progressive JPEG (SOF2) with 4:2:0
// chroma (4:4:4 with full), using spectral selection: one interleaved DC scan, then for each
// component a low-frequency AC scan (1–5) and a high-frequency one (6–63).
// Browsers show the low-frequency pass early. Standard Annex K Huffman
// tables are used; every band end is coded with EOB (EOBRUN of 1).
func encodeProgressiveJPEG(w io.Writer, m *image.RGBA, quality int, full bool) error {
	bw := bufio.NewWriter(w)
	e := &progEncoder{w: bw, sub: 2}
	if full {
		e.sub = 1
	}
	e.init(m, quality)
	e.headers()
	e.scanDC()
	for c := 0; c < 3; c++ {
		e.scanAC(c, 1, 5)
	}
	for c := 0; c < 3; c++ {
		e.scanAC(c, 6, 63)
	}
	e.marker(0xD9)
	if e.err != nil {
		return e.err
	}
	return bw.Flush()
}

// zigzag maps zig-zag order to natural (row-major) order.
var zigzag = [64]int{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

// Annex K base quantisation tables, natural order.
var baseQuant = [2][64]int{
	{16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
		14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
		18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
		49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99},
	{17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
		24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99},
}

// Annex K Huffman table specifications: code counts per length, then values.
var huffSpecs = [4]struct {
	class, id byte
	counts    [16]byte
	values    []byte
}{
	{0, 0, [16]byte{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{1, 0, [16]byte{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d}, []byte{
		0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
		0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
		0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
		0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
		0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
		0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
		0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
		0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
		0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
		0xf9, 0xfa}},
	{0, 1, [16]byte{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{1, 1, [16]byte{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77}, []byte{
		0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
		0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
		0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
		0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
		0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
		0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
		0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
		0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
		0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
		0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
		0xf9, 0xfa}},
}

type huffCode struct {
	code uint32
	size uint8
}

type progEncoder struct {
	w      *bufio.Writer
	err    error
	width  int
	height int
	quant  [2][64]int // natural order
	codes  [4][256]huffCode
	// coefficients per component, blocks in raster order of the padded grid
	blocks [3][][64]int32
	bw, bh [3]int
	sub    int // luma blocks per chroma block on each axis: 2 (4:2:0) or 1 (4:4:4)
	acc    uint32
	nacc   uint8
}

var dctCos [8][8]float64

func init() {
	for x := 0; x < 8; x++ {
		for u := 0; u < 8; u++ {
			dctCos[x][u] = math.Cos(float64(2*x+1) * float64(u) * math.Pi / 16)
		}
	}
}

func (e *progEncoder) init(m *image.RGBA, quality int) {
	b := m.Bounds()
	e.width, e.height = b.Dx(), b.Dy()
	scale := 5000 / quality
	if quality >= 50 {
		scale = 200 - 2*quality
	}
	for t := 0; t < 2; t++ {
		for k := 0; k < 64; k++ {
			e.quant[t][k] = min(max((baseQuant[t][k]*scale+50)/100, 1), 255)
		}
	}
	for i, s := range huffSpecs {
		code, k := uint32(0), 0
		for l := 0; l < 16; l++ {
			for n := 0; n < int(s.counts[l]); n++ {
				e.codes[i][s.values[k]] = huffCode{code, uint8(l + 1)}
				code++
				k++
			}
			code <<= 1
		}
	}
	mcusX, mcusY := ceilDiv(e.width, 8*e.sub), ceilDiv(e.height, 8*e.sub)
	e.bw = [3]int{mcusX * e.sub, mcusX, mcusX}
	e.bh = [3]int{mcusY * e.sub, mcusY, mcusY}
	for c := 0; c < 3; c++ {
		e.blocks[c] = make([][64]int32, e.bw[c]*e.bh[c])
	}
	// Sample the planes (edge pixels replicated), chroma averaged sub×sub.
	px := func(x, y int) (int32, int32, int32) {
		x, y = min(x, e.width-1), min(y, e.height-1)
		o := m.PixOffset(b.Min.X+x, b.Min.Y+y)
		return int32(m.Pix[o]), int32(m.Pix[o+1]), int32(m.Pix[o+2])
	}
	var blk [64]float64
	for by := 0; by < e.bh[0]; by++ {
		for bx := 0; bx < e.bw[0]; bx++ {
			for y := 0; y < 8; y++ {
				for x := 0; x < 8; x++ {
					r, g, bl := px(bx*8+x, by*8+y)
					blk[y*8+x] = (19595*float64(r)+38470*float64(g)+7471*float64(bl))/65536 - 128
				}
			}
			e.fdct(&blk, 0, &e.blocks[0][by*e.bw[0]+bx])
		}
	}
	var cb, cr [64]float64
	for by := 0; by < e.bh[1]; by++ {
		for bx := 0; bx < e.bw[1]; bx++ {
			for y := 0; y < 8; y++ {
				for x := 0; x < 8; x++ {
					var sb, sr float64
					k := e.sub
					for dy := 0; dy < k; dy++ {
						for dx := 0; dx < k; dx++ {
							r, g, bl := px(bx*8*k+x*k+dx, by*8*k+y*k+dy)
							sb += (-11059*float64(r) - 21709*float64(g) + 32768*float64(bl)) / 65536
							sr += (32768*float64(r) - 27439*float64(g) - 5329*float64(bl)) / 65536
						}
					}
					cb[y*8+x], cr[y*8+x] = sb/float64(k*k), sr/float64(k*k)
				}
			}
			e.fdct(&cb, 1, &e.blocks[1][by*e.bw[1]+bx])
			e.fdct(&cr, 1, &e.blocks[2][by*e.bw[2]+bx])
		}
	}
}

// fdct computes the 2-D DCT of blk and stores quantised coefficients in
// natural order.
func (e *progEncoder) fdct(blk *[64]float64, table int, out *[64]int32) {
	var tmp [64]float64
	for y := 0; y < 8; y++ {
		for u := 0; u < 8; u++ {
			s := 0.0
			for x := 0; x < 8; x++ {
				s += blk[y*8+x] * dctCos[x][u]
			}
			tmp[y*8+u] = s
		}
	}
	for u := 0; u < 8; u++ {
		for v := 0; v < 8; v++ {
			s := 0.0
			for y := 0; y < 8; y++ {
				s += tmp[y*8+u] * dctCos[y][v]
			}
			cu, cv := 1.0, 1.0
			if u == 0 {
				cu = math.Sqrt2 / 2
			}
			if v == 0 {
				cv = math.Sqrt2 / 2
			}
			c := s * cu * cv / 4
			out[v*8+u] = int32(math.Round(c / float64(e.quant[table][v*8+u])))
		}
	}
}

func (e *progEncoder) write(b ...byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *progEncoder) marker(m byte) { e.write(0xFF, m) }

func (e *progEncoder) segment(m byte, data []byte) {
	n := len(data) + 2
	e.write(0xFF, m, byte(n>>8), byte(n))
	e.write(data...)
}

func (e *progEncoder) headers() {
	e.marker(0xD8)
	e.segment(0xE0, []byte{'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0})
	for t := 0; t < 2; t++ {
		d := []byte{byte(t)}
		for k := 0; k < 64; k++ {
			d = append(d, byte(e.quant[t][zigzag[k]]))
		}
		e.segment(0xDB, d)
	}
	e.segment(0xC2, []byte{8, byte(e.height >> 8), byte(e.height), byte(e.width >> 8), byte(e.width), 3,
		1, byte(e.sub<<4 | e.sub), 0, 2, 0x11, 1, 3, 0x11, 1})
	for _, s := range huffSpecs {
		d := []byte{s.class<<4 | s.id}
		d = append(d, s.counts[:]...)
		d = append(d, s.values...)
		e.segment(0xC4, d)
	}
}

func (e *progEncoder) bits(code uint32, size uint8) {
	for size > 0 {
		size--
		e.acc = e.acc<<1 | code>>size&1
		e.nacc++
		if e.nacc == 8 {
			b := byte(e.acc)
			e.write(b)
			if b == 0xFF {
				e.write(0)
			}
			e.acc, e.nacc = 0, 0
		}
	}
}

func (e *progEncoder) flushBits() {
	if e.nacc > 0 {
		e.bits(0x7F, 8-e.nacc) // pad with ones
	}
}

func (e *progEncoder) emit(table int, sym byte) {
	c := e.codes[table][sym]
	e.bits(c.code, c.size)
}

// magnitude returns JPEG's size category and the bits of v.
func magnitude(v int32) (uint8, uint32) {
	a := v
	if a < 0 {
		a = -a
		v--
	}
	n := uint8(0)
	for a > 0 {
		n++
		a >>= 1
	}
	return n, uint32(v) & (1<<n - 1)
}

func (e *progEncoder) scanDC() {
	e.segment(0xDA, []byte{3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 0, 0})
	var pred [3]int32
	mcusX, mcusY := e.bw[1], e.bh[1]
	for my := 0; my < mcusY; my++ {
		for mx := 0; mx < mcusX; mx++ {
			for c := 0; c < 3; c++ {
				n := 1
				if c == 0 {
					n = e.sub
				}
				table := 0
				if c > 0 {
					table = 2
				}
				for v := 0; v < n; v++ {
					for h := 0; h < n; h++ {
						blk := &e.blocks[c][(my*n+v)*e.bw[c]+mx*n+h]
						diff := blk[0] - pred[c]
						pred[c] = blk[0]
						size, bits := magnitude(diff)
						e.emit(table, size)
						e.bits(bits, size)
					}
				}
			}
		}
	}
	e.flushBits()
}

func (e *progEncoder) scanAC(c, ss, se int) {
	tid := byte(0)
	table := 1
	if c > 0 {
		tid, table = 1, 3
	}
	e.segment(0xDA, []byte{1, byte(c + 1), tid, byte(ss), byte(se), 0})
	// A non-interleaved scan covers only the blocks inside the component.
	cw := ceilDiv(e.width, 8)
	ch := ceilDiv(e.height, 8)
	if c > 0 {
		cw, ch = ceilDiv(ceilDiv(e.width, e.sub), 8), ceilDiv(ceilDiv(e.height, e.sub), 8)
	}
	for by := 0; by < ch; by++ {
		for bx := 0; bx < cw; bx++ {
			blk := &e.blocks[c][by*e.bw[c]+bx]
			run := 0
			for k := ss; k <= se; k++ {
				v := blk[zigzag[k]]
				if v == 0 {
					run++
					continue
				}
				for run > 15 {
					e.emit(table, 0xF0)
					run -= 16
				}
				size, bits := magnitude(v)
				e.emit(table, byte(run<<4)|size)
				e.bits(bits, size)
				run = 0
			}
			if run > 0 {
				e.emit(table, 0x00) // EOB
			}
		}
	}
	e.flushBits()
}
