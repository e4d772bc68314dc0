package pipeline

import (
	"context"
	"encoding/binary"
	"image"
	"math"
	"sync"

	"github.com/disintegration/imaging"
	"github.com/edgepix/edgepix/transform/codec"
)

// Fixed-point separable resampling of opaque 8-bit images: the filter's
// weights are computed once per output column and row (as imaging
// computes them, normalised to sum to one) and scaled to 14 bits; rows
// are resampled in width into a pooled buffer, then in height.
// Translucent images go through imaging, which weighs colours by alpha.

const weightBits = 14

// filterWeights are one axis's weights: output i reads taps source
// samples from start[i], with weights w[i*taps:(i+1)*taps].
type filterWeights struct {
	start []int
	w     []int32
	taps  int
}

// makeWeightsSpan computes the weights resampling src samples to dst with
// filter, each output's window kept inside the source, for a source whose
// src samples span span sample widths (less than src when its last sample
// stands for a partial block, after shrinkBox): output v is centred at
// (v+0.5)·span/dst in sample units.
func makeWeightsSpan(dst, src int, span float64, filter imaging.ResampleFilter) filterWeights {
	du := span / float64(dst)
	scale := max(du, 1)
	ru := max(math.Ceil(scale*filter.Support), 1) // at least one tap each side, whatever the filter
	taps := 1
	for v := 0; v < dst; v++ { // the widest window with a non-zero weight
		fu := (float64(v)+0.5)*du - 0.5
		begin, end := max(int(math.Ceil(fu-ru)), 0), min(int(math.Floor(fu+ru)), src-1)
		for begin < end && filter.Kernel((float64(begin)-fu)/scale) == 0 {
			begin++
		}
		for end > begin && filter.Kernel((float64(end)-fu)/scale) == 0 {
			end--
		}
		taps = max(taps, end-begin+1)
	}
	fw := filterWeights{start: make([]int, dst), w: make([]int32, dst*taps), taps: taps}
	fl := make([]float64, taps)
	for v := 0; v < dst; v++ {
		fu := (float64(v)+0.5)*du - 0.5
		begin := max(int(math.Ceil(fu-ru)), 0)
		end := min(int(math.Floor(fu+ru)), src-1)
		for begin < end && filter.Kernel((float64(begin)-fu)/scale) == 0 {
			begin++
		}
		for end > begin && filter.Kernel((float64(end)-fu)/scale) == 0 {
			end--
		}
		start := min(begin, src-taps)
		fw.start[v] = start
		clear(fl)
		var sum float64
		for u := begin; u <= end; u++ {
			k := filter.Kernel((float64(u) - fu) / scale)
			fl[u-start] = k
			sum += k
		}
		ws := fw.w[v*taps : (v+1)*taps]
		if sum == 0 { // no tap: nearest sample
			ws[min(max(int(math.Round(fu)), 0), src-1)-start] = 1 << weightBits
			continue
		}
		total, big := int32(0), 0
		for t, k := range fl {
			ws[t] = int32(math.Round(k / sum * (1 << weightBits)))
			total += ws[t]
			if ws[t] > ws[big] {
				big = t
			}
		}
		ws[big] += 1<<weightBits - total // the weights sum to exactly one
	}
	return fw
}

// clampShift rounds a 14-bit fixed-point sample (its rounding half
// already added) to 0..255.
func clampShift(v int32) uint8 {
	v >>= weightBits
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}

// rowPool holds the intermediate buffers of resizes.
var rowPool sync.Pool

// resizeOpaque resamples the opaque m to w×h with filter in fixed point,
// checking ctx every few rows.
func resizeOpaque(ctx context.Context, m *image.NRGBA, w, h int, filter imaging.ResampleFilter) (*image.NRGBA, error) {
	return resizeOpaqueSpan(ctx, m, w, h, float64(m.Rect.Dx()), float64(m.Rect.Dy()), false, filter)
}

// resizeOpaqueSpan is resizeOpaque for a source of spanW×spanH sample
// widths (see makeWeightsSpan). The width pass keeps three channels (one
// when gray: m's samples have R = G = B), so that the height pass does
// not resample alpha (or the copies of gray); the output is composed
// back to opaque NRGBA row by row.
func resizeOpaqueSpan(ctx context.Context, m *image.NRGBA, w, h int, spanW, spanH float64, gray bool, filter imaging.ResampleFilter) (*image.NRGBA, error) {
	r := m.Rect
	W, H := r.Dx(), r.Dy()
	src, stride, ch := m.Pix[m.PixOffset(r.Min.X, r.Min.Y):], m.Stride, 4
	if W != w || spanW != float64(W) { // width first, into a pooled w×H buffer
		ch = 3
		if gray {
			ch = 1
		}
		n := w * ch * H
		var buf []byte
		if p, _ := rowPool.Get().(*[]byte); p != nil && cap(*p) >= n {
			buf = (*p)[:n]
		} else {
			buf = make([]byte, n)
		}
		defer func() { rowPool.Put(&buf) }()
		fw := makeWeightsSpan(w, W, spanW, filter)
		for y := 0; y < H; y++ {
			if y%64 == 0 {
				if err := codec.CheckContext(ctx); err != nil {
					return nil, err
				}
			}
			dst, row := buf[y*w*ch:(y+1)*w*ch], src[y*stride:y*stride+W*4]
			if gray {
				resampleRowGray(dst, row, fw)
			} else {
				resampleRow(dst, row, fw)
			}
		}
		src, stride = buf, w*ch
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	if H == h && spanH == float64(H) {
		for y := 0; y < h; y++ {
			composeRow(out.Pix[y*out.Stride:][:w*4], src[y*stride:][:w*ch], ch)
		}
		return out, nil
	}
	fh := makeWeightsSpan(h, H, spanH, filter)
	acc := make([]int32, w*ch)
	row8 := make([]uint8, w*ch)
	for y := 0; y < h; y++ {
		if y%64 == 0 {
			if err := codec.CheckContext(ctx); err != nil {
				return nil, err
			}
		}
		for i := range acc {
			acc[i] = 1 << (weightBits - 1)
		}
		ws := fh.w[y*fh.taps : (y+1)*fh.taps]
		for t, wt := range ws {
			if wt == 0 {
				continue
			}
			row := src[(fh.start[y]+t)*stride:]
			row = row[:len(acc)]
			for i, v := range row {
				acc[i] += wt * int32(v)
			}
		}
		for i, v := range acc {
			row8[i] = clampShift(v)
		}
		composeRow(out.Pix[y*out.Stride:][:w*4], row8, ch)
	}
	return out, nil
}

// composeRow writes a row of ch-channel samples (4: NRGBA, 3: RGB, 1:
// gray) as opaque NRGBA.
func composeRow(dst, src []byte, ch int) {
	switch ch {
	case 4:
		copy(dst, src)
	case 3:
		for x := 0; x*3+2 < len(src) && x*4+3 < len(dst); x++ {
			s, d := src[x*3:][:3], dst[x*4:][:4]
			d[0], d[1], d[2], d[3] = s[0], s[1], s[2], 255
		}
	case 1:
		for x, g := range src {
			d := dst[x*4:][:4]
			d[0], d[1], d[2], d[3] = g, g, g, 255
		}
	}
}

// resampleRow resamples one opaque row of NRGBA pixels into RGB (three
// bytes a pixel).
func resampleRow(dst, src []byte, fw filterWeights) {
	taps := fw.taps
	for x := 0; x*3+2 < len(dst); x++ {
		ws := fw.w[x*taps : (x+1)*taps]
		s := src[fw.start[x]*4:]
		s = s[:len(ws)*4]
		r, g, b := int32(1<<(weightBits-1)), int32(1<<(weightBits-1)), int32(1<<(weightBits-1))
		for len(ws) > 0 && len(s) >= 4 {
			wt, p := ws[0], binary.LittleEndian.Uint32(s)
			r += wt * int32(p&0xff)
			g += wt * int32(p>>8&0xff)
			b += wt * int32(p>>16&0xff)
			ws, s = ws[1:], s[4:]
		}
		d := dst[x*3:][:3]
		d[0], d[1], d[2] = clampShift(r), clampShift(g), clampShift(b)
	}
}

// resampleRowGray resamples one opaque gray row of NRGBA pixels (R = G =
// B) into one byte a pixel.
func resampleRowGray(dst, src []byte, fw filterWeights) {
	taps := fw.taps
	for x := range dst {
		ws := fw.w[x*taps : (x+1)*taps]
		s := src[fw.start[x]*4:]
		s = s[:len(ws)*4]
		v := int32(1 << (weightBits - 1))
		for len(ws) > 0 && len(s) >= 4 {
			v += ws[0] * int32(s[0])
			ws, s = ws[1:], s[4:]
		}
		dst[x] = clampShift(v)
	}
}

// opacity reports whether every pixel of m has alpha 255, and if so
// whether every one is gray (R = G = B), in one pass.
func opacity(m *image.NRGBA) (opaque, gray bool) {
	r := m.Rect
	gray = true
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := m.Pix[m.PixOffset(r.Min.X, y):][:r.Dx()*4]
		for i := 0; i+3 < len(row); i += 4 {
			p := binary.LittleEndian.Uint32(row[i:])
			if p>>24 != 255 {
				return false, false
			}
			gray = gray && p&0xff == p>>8&0xff && p&0xff == p>>16&0xff
		}
	}
	return true, gray
}

// shrinkBox averages each kx×ky block of the opaque m into one pixel (an
// exact area average, rounded), the last column and row of blocks over
// the pixels they have: ceil(W/kx)×ceil(H/ky). When gray (R = G = B),
// one channel is averaged.
func shrinkBox(ctx context.Context, m *image.NRGBA, kx, ky int, gray bool) (*image.NRGBA, error) {
	r := m.Rect
	W, H := r.Dx(), r.Dy()
	w, h := ceilDiv(W, kx), ceilDiv(H, ky)
	if kx == 2 && ky == 2 && !gray {
		return shrink2(ctx, m)
	}
	ch := 3
	if gray {
		ch = 1
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	acc := make([]uint32, w*ch)
	row8 := make([]uint8, w*ch)
	for oy := 0; oy < h; oy++ {
		if oy%64 == 0 {
			if err := codec.CheckContext(ctx); err != nil {
				return nil, err
			}
		}
		clear(acc)
		y0, y1 := oy*ky, min(oy*ky+ky, H)
		for y := y0; y < y1; y++ {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):][:W*4]
			switch {
			case gray && kx == 2:
				for ox := 0; ox < W/2; ox++ {
					p := row[ox*8:][:8]
					acc[ox] += uint32(p[0]) + uint32(p[4])
				}
				if W%2 == 1 {
					acc[w-1] += uint32(row[(W-1)*4])
				}
			case gray:
				for x := 0; x < W; x++ {
					acc[x/kx] += uint32(row[x*4])
				}
			case kx == 2:
				for ox := 0; ox < W/2; ox++ {
					p, a := row[ox*8:][:8], acc[ox*3:][:3]
					a[0] += uint32(p[0]) + uint32(p[4])
					a[1] += uint32(p[1]) + uint32(p[5])
					a[2] += uint32(p[2]) + uint32(p[6])
				}
				if W%2 == 1 {
					p, a := row[(W-1)*4:][:4], acc[(w-1)*3:][:3]
					a[0] += uint32(p[0])
					a[1] += uint32(p[1])
					a[2] += uint32(p[2])
				}
			default:
				for x := 0; x < W; x++ {
					p, a := row[x*4:][:4], acc[x/kx*3:][:3]
					a[0] += uint32(p[0])
					a[1] += uint32(p[1])
					a[2] += uint32(p[2])
				}
			}
		}
		// The rounded mean sum/n is (2·sum+n) div 2n, by a 46-bit
		// reciprocal: exact while (2·sum+n)·2n < 2^46, which n ≤ 2^16
		// (maxShrink²) keeps.
		rows := y1 - y0
		full := reciprocal(2 * kx * rows)
		for ox := 0; ox < w; ox++ {
			n, f := kx*rows, full
			if cols := min(ox*kx+kx, W) - ox*kx; cols != kx {
				n, f = cols*rows, reciprocal(2*cols*rows)
			}
			for c := range ch {
				row8[ox*ch+c] = uint8((uint64(2*acc[ox*ch+c]) + uint64(n)) * f >> 46)
			}
		}
		composeRow(out.Pix[oy*out.Stride:][:w*4], row8, ch)
	}
	return out, nil
}

// shrink2 is shrinkBox(m, 2, 2) of opaque colour pixels: four pixels'
// channels summed in pairs of 16-bit lanes of a 32-bit word.
func shrink2(ctx context.Context, m *image.NRGBA) (*image.NRGBA, error) {
	r := m.Rect
	W, H := r.Dx(), r.Dy()
	w, h := ceilDiv(W, 2), ceilDiv(H, 2)
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	const lanes = 0x00ff00ff
	for oy := 0; oy < h; oy++ {
		if oy%64 == 0 {
			if err := codec.CheckContext(ctx); err != nil {
				return nil, err
			}
		}
		r0 := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+2*oy):][:W*4]
		r1 := r0
		if 2*oy+1 < H {
			r1 = m.Pix[m.PixOffset(r.Min.X, r.Min.Y+2*oy+1):][:W*4]
		}
		o := out.Pix[oy*out.Stride:][:w*4]
		for ox := 0; ox < W/2; ox++ {
			a, b := binary.LittleEndian.Uint32(r0[ox*8:]), binary.LittleEndian.Uint32(r0[ox*8+4:])
			c, d := binary.LittleEndian.Uint32(r1[ox*8:]), binary.LittleEndian.Uint32(r1[ox*8+4:])
			rb := a&lanes + b&lanes + c&lanes + d&lanes + 0x00020002
			g := a>>8&0xff + b>>8&0xff + c>>8&0xff + d>>8&0xff + 2
			binary.LittleEndian.PutUint32(o[ox*4:], rb>>2&lanes|g>>2<<8|0xff000000)
		}
		if W%2 == 1 { // the last column: two pixels (the same one twice on the last row of an odd height)
			a, c := binary.LittleEndian.Uint32(r0[W*4-4:]), binary.LittleEndian.Uint32(r1[W*4-4:])
			rb := a&lanes + c&lanes + 0x00010001
			g := a>>8&0xff + c>>8&0xff + 1
			binary.LittleEndian.PutUint32(o[(w-1)*4:], rb>>1&lanes|g>>1<<8|0xff000000)
		}
	}
	return out, nil
}

// reciprocal is ceil(2^46/d).
func reciprocal(d int) uint64 { return (1<<46 + uint64(d) - 1) / uint64(d) }

// maxShrink bounds shrinkBox's factors (its sums are 32-bit): a larger
// reduction leaves the rest to the filter.
const maxShrink = 256

func ceilDiv(a, b int) int { return (a + b - 1) / b }
