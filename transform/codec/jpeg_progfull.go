package codec

// Progressive scans decoded in full (n = 8), for the chroma subsamplings
// image/jpeg refuses: every coefficient is kept, quantised, until the end
// of the file (as libjpeg keeps them), then dequantised for the inverse
// DCT. ITU T.81 G.1.2: DC first and refinement scans, AC first scans with
// end-of-band runs, AC refinement scans with correction bits.

// progressiveBlock decodes one block's part of a progressive scan into
// coef, the block's 64 quantised coefficients in natural order (only
// coef[0] at 1/8).
func (j *dcDecoder) progressiveBlock(c *dcComponent, coef []int32, ss, se int, ah, al uint) bool {
	if ss == 0 { // DC
		if ah == 0 {
			t, ok := j.decode(&j.dcT[c.dcTable])
			if !ok || t > 11 {
				return false
			}
			c.pred += j.receiveExtend(uint(t))
			coef[0] = c.pred << al
		} else if j.bits(1) == 1 {
			coef[0] |= 1 << al
		}
		return true
	}
	if ah == 0 {
		return j.acFirst(c, coef, ss, se, al)
	}
	return j.acRefine(c, coef, ss, se, al)
}

// acFirst decodes the first pass of the band ss..se.
func (j *dcDecoder) acFirst(c *dcComponent, coef []int32, ss, se int, al uint) bool {
	if j.eobrun > 0 {
		j.eobrun--
		return true
	}
	ac := &j.acT[c.acTable]
	for k := ss; k <= se; k++ {
		rs, ok := j.decode(ac)
		if !ok {
			return false
		}
		r, s := int(rs>>4), uint(rs&15)
		if s == 0 {
			if r < 15 { // EOBr: this block and the next 2^r - 1 + bits end here
				j.eobrun = 1<<r - 1
				if r > 0 {
					j.eobrun += int(j.bits(uint(r)))
				}
				return true
			}
			k += 15 // ZRL: sixteen zeros
			continue
		}
		k += r
		if k > 63 {
			return false
		}
		coef[unzig[k]] = j.receiveExtend(s) << al
	}
	return true
}

// acRefine decodes a refinement pass of the band ss..se: one more bit of
// every coefficient already non-zero, and the coefficients that become
// non-zero (±1 at this bit).
func (j *dcDecoder) acRefine(c *dcComponent, coef []int32, ss, se int, al uint) bool {
	p1, m1 := int32(1)<<al, int32(-1)<<al
	refine := func(z int) {
		if j.bits(1) == 1 && coef[z]&p1 == 0 {
			if coef[z] >= 0 {
				coef[z] += p1
			} else {
				coef[z] += m1
			}
		}
	}
	k := ss
	if j.eobrun == 0 {
		ac := &j.acT[c.acTable]
		for ; k <= se; k++ {
			rs, ok := j.decode(ac)
			if !ok {
				return false
			}
			r, s := int(rs>>4), int32(rs&15)
			switch {
			case s != 0: // s is 1: a new coefficient, its sign in one bit
				if j.bits(1) == 1 {
					s = p1
				} else {
					s = m1
				}
			case r != 15: // EOBr
				j.eobrun = 1 << r
				if r > 0 {
					j.eobrun += int(j.bits(uint(r)))
				}
			}
			if s == 0 && r != 15 {
				break
			}
			// Skip r zero coefficients (refining the non-zero ones met on
			// the way), then place the new one.
			for ; k <= se; k++ {
				z := unzig[k]
				if coef[z] != 0 {
					refine(z)
				} else if r--; r < 0 {
					break
				}
			}
			if s != 0 {
				if k > se {
					return false
				}
				coef[unzig[k]] = s
			}
		}
	}
	if j.eobrun > 0 {
		for ; k <= se; k++ {
			if z := unzig[k]; coef[z] != 0 {
				refine(z)
			}
		}
		j.eobrun--
	}
	return true
}

// dequantize multiplies the kept coefficients by their quantisation
// tables, once every scan has been read.
func (j *dcDecoder) dequantize() {
	for ci := range j.comps {
		c := &j.comps[ci]
		q := &j.qt[c.tq]
		for b := 0; b+64 <= len(c.dc); b += 64 {
			blk := c.dc[b : b+64]
			for k := 0; k < 64; k++ {
				blk[unzig[k]] *= int32(q[k])
			}
		}
	}
}
