package codec

import "encoding/binary"

// Huffman decoding for our JPEG decoder: a 64-bit bit reservoir refilled
// eight bytes at a time when they hold no 0xFF (markers and stuffed bytes
// take the byte-at-a-time path), and lookahead tables indexed by the next
// lookBits bits: one gives a code's symbol and length, one (AC tables)
// the whole coefficient — run, value and bits used — when the code and
// its extra bits fit in the lookahead.

const lookBits = 10

type huffTable struct {
	lut     [1 << lookBits]uint16 // code length << 8 | symbol, 0 when longer than lookBits
	fastAC  [1 << lookBits]int32  // value << 16 | run << 8 | code+extra bits, 0 when they do not fit
	maxcode [18]int32
	valptr  [17]int32
	mincode [17]int32
	vals    []byte
	ok      bool
}

func (j *dcDecoder) huffman(s []byte) bool {
	for len(s) >= 17 {
		tc, th := s[0]>>4, int(s[0]&15)
		if tc > 1 || th > 3 {
			return false
		}
		var counts [17]int
		total := 0
		for l := 1; l <= 16; l++ {
			counts[l] = int(s[l])
			total += counts[l]
		}
		if total > 256 || len(s) < 17+total {
			return false
		}
		t := &j.dcT[th]
		if tc == 1 {
			t = &j.acT[th]
		}
		*t = huffTable{vals: append([]byte(nil), s[17:17+total]...), ok: true}
		code, k := int32(0), 0
		for l := 1; l <= 16; l++ {
			t.valptr[l] = int32(k)
			t.mincode[l] = code
			for n := 0; n < counts[l]; n++ {
				if code >= 1<<l {
					return false // more codes than the length allows: a corrupt table
				}
				if l <= lookBits {
					for fill := 0; fill < 1<<(lookBits-l); fill++ {
						t.lut[int(code)<<(lookBits-l)|fill] = uint16(l)<<8 | uint16(t.vals[k])
					}
				}
				code++
				k++
			}
			t.maxcode[l] = code - 1
			if counts[l] == 0 {
				t.maxcode[l] = -1
			}
			code <<= 1
		}
		t.maxcode[17] = 1 << 30
		if tc == 1 {
			t.buildFastAC()
		}
		s = s[17+total:]
	}
	return len(s) == 0
}

// buildFastAC fills fastAC for every lookahead whose code has a non-zero
// size and whose extra bits follow within the lookahead.
func (t *huffTable) buildFastAC() {
	for i, e := range t.lut {
		if e == 0 {
			continue
		}
		l, rs := uint(e>>8), byte(e)
		r, sz := int32(rs>>4), uint(rs&15)
		if sz == 0 || l+sz > lookBits {
			continue
		}
		v := int32(i>>(lookBits-l-sz)) & (1<<sz - 1)
		if v < 1<<(sz-1) {
			v += -1<<sz + 1
		}
		t.fastAC[i] = v<<16 | r<<8 | int32(l+sz)
	}
}

// fill tops the bit accumulator up to at least 57 bits. After a marker it
// feeds zeros, counted in pad: a unit that used any of them (nbits < pad
// once it is decoded) was read from data the scan does not have.
func (j *dcDecoder) fill() {
	if !j.hitMarker && j.pos+8 <= len(j.b) {
		x := binary.BigEndian.Uint64(j.b[j.pos:])
		if (^x-0x0101010101010101)&x&0x8080808080808080 == 0 { // no 0xFF byte
			n := (63 - j.nbits) >> 3
			j.acc |= x >> (64 - 8*n) << (64 - 8*n - j.nbits)
			j.pos += int(n)
			j.nbits += 8 * n
			return
		}
	}
	for j.nbits <= 56 {
		var c byte
		if j.hitMarker || j.pos >= len(j.b) {
			j.hitMarker = true
			j.pad += 8
		} else {
			c = j.b[j.pos]
			if c == 0xFF {
				if j.pos+1 < len(j.b) && j.b[j.pos+1] == 0x00 {
					j.pos += 2
				} else {
					j.hitMarker = true
					j.pad += 8
					c = 0
				}
			} else {
				j.pos++
			}
		}
		j.acc |= uint64(c) << (56 - j.nbits)
		j.nbits += 8
	}
}

func (j *dcDecoder) bits(n uint) int32 {
	if n == 0 {
		return 0
	}
	if j.nbits < n {
		j.fill()
	}
	v := int32(j.acc >> (64 - n))
	j.acc <<= n
	j.nbits -= n
	return v
}

// receiveExtend reads n bits and sign-extends them as in JPEG's EXTEND.
func (j *dcDecoder) receiveExtend(n uint) int32 {
	v := j.bits(n)
	if n > 0 && v < 1<<(n-1) {
		v += -1<<n + 1
	}
	return v
}

func (j *dcDecoder) decode(t *huffTable) (byte, bool) {
	if j.nbits < 16 {
		j.fill()
	}
	if e := t.lut[j.acc>>(64-lookBits)]; e != 0 {
		l := uint(e >> 8)
		j.acc <<= l
		j.nbits -= l
		return byte(e), true
	}
	return j.decodeSlow(t)
}

// decodeSlow decodes a code longer than the lookahead, a bit at a time.
func (j *dcDecoder) decodeSlow(t *huffTable) (byte, bool) {
	code := int32(0)
	for l := 1; l <= 16; l++ {
		code = code<<1 | int32(j.acc>>63)
		j.acc <<= 1
		j.nbits--
		if code <= t.maxcode[l] {
			idx := t.valptr[l] + code - t.mincode[l]
			if int(idx) >= len(t.vals) {
				return 0, false
			}
			return t.vals[idx], true
		}
	}
	return 0, false
}

// baselineBlock decodes block idx of c in a baseline scan, keeping the
// quantised DC at 1/8 (n = 1), and the dequantised lowest n×n
// coefficients otherwise (every one at 1/1, n = 8).
func (j *dcDecoder) baselineBlock(c *dcComponent, idx int) bool {
	t, ok := j.decode(&j.dcT[c.dcTable])
	if !ok || t > 11 {
		return false
	}
	c.pred += j.receiveExtend(uint(t))
	n := j.n
	var coef []int32
	q := &j.qt[c.tq]
	switch {
	case j.direct:
		coef = j.blk[:]
		coef[0] = c.pred * int32(q[0])
	case n == 1:
		c.dc[idx] = c.pred
	default:
		coef = c.dc[idx*n*n : (idx+1)*n*n]
		coef[0] = c.pred * int32(q[0])
	}
	ac := &j.acT[c.acTable]
	keep := &keepAt[n]
	acSeen := false              // a kept AC coefficient was set
	acc, nbits := j.acc, j.nbits // in registers for the loop
	for k := 1; k < 64; k++ {
		if nbits < 32 {
			j.acc, j.nbits = acc, nbits
			j.fill()
			acc, nbits = j.acc, j.nbits
		}
		look := acc >> (64 - lookBits)
		var v int32
		if f := ac.fastAC[look]; f != 0 {
			k += int(f >> 8 & 0xff)
			l := uint(f & 0xff)
			acc <<= l
			nbits -= l
			v = f >> 16
		} else {
			var rs byte
			if e := ac.lut[look]; e != 0 {
				l := uint(e >> 8)
				acc <<= l
				nbits -= l
				rs = byte(e)
			} else {
				j.acc, j.nbits = acc, nbits
				if rs, ok = j.decodeSlow(ac); !ok {
					return false
				}
				acc, nbits = j.acc, j.nbits
			}
			r, sz := int(rs>>4), uint(rs&15)
			if sz == 0 {
				if r != 15 {
					break // EOB
				}
				k += 15
				continue
			}
			k += r
			v = int32(acc >> (64 - sz))
			acc <<= sz
			nbits -= sz
			if v < 1<<(sz-1) {
				v += -1<<sz + 1
			}
		}
		if k > 63 {
			j.acc, j.nbits = acc, nbits
			return false
		}
		if p := keep[k]; p >= 0 {
			coef[p] = v * int32(q[k])
			acSeen = true
		}
	}
	j.acc, j.nbits = acc, nbits
	if j.direct {
		stride := c.bw * 8
		dst := c.plane[idx/c.bw*8*stride+idx%c.bw*8:]
		if !acSeen {
			dcStore(coef[0], dst, stride)
			coef[0] = 0
		} else {
			idctStore(&j.blk, dst, stride)
		}
	}
	return true
}

// keepAt[n][k] is where the coefficient of zig-zag index k goes among the
// n×n kept at 1/(8/n) scale, -1 when it is not kept (every one at n = 1,
// where only the DC is).
var keepAt = func() (t [9][64]int8) {
	for n := range t {
		for k, z := range unzig {
			t[n][k] = -1
			if n > 1 && z>>3 < n && z&7 < n {
				t[n][k] = int8((z>>3)*n + z&7)
			}
		}
	}
	return t
}()
