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

// makeWeights computes the weights resampling src samples to dst with
// filter, each output's window kept inside the source.
func makeWeights(dst, src int, filter imaging.ResampleFilter) filterWeights {
	du := float64(src) / float64(dst)
	scale := max(du, 1)
	ru := math.Ceil(scale * filter.Support)
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
	r := m.Rect
	W, H := r.Dx(), r.Dy()
	src, stride := m.Pix[m.PixOffset(r.Min.X, r.Min.Y):], m.Stride
	if W != w { // width first, into a pooled w×H buffer
		n := w * 4 * H
		var buf []byte
		if p, _ := rowPool.Get().(*[]byte); p != nil && cap(*p) >= n {
			buf = (*p)[:n]
		} else {
			buf = make([]byte, n)
		}
		defer func() { rowPool.Put(&buf) }()
		fw := makeWeights(w, W, filter)
		for y := 0; y < H; y++ {
			if y%64 == 0 {
				if err := codec.CheckContext(ctx); err != nil {
					return nil, err
				}
			}
			resampleRow(buf[y*w*4:(y+1)*w*4], src[y*stride:y*stride+W*4], fw)
		}
		src, stride = buf, w*4
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	if H == h {
		for y := 0; y < h; y++ {
			copy(out.Pix[y*out.Stride:], src[y*stride:y*stride+w*4])
		}
		return out, nil
	}
	fh := makeWeights(h, H, filter)
	acc := make([]int32, w*4)
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
		o := out.Pix[y*out.Stride : y*out.Stride+w*4]
		for i, v := range acc {
			o[i] = clampShift(v)
		}
	}
	return out, nil
}

// resampleRow resamples one opaque row of pixels (alpha left at 255).
func resampleRow(dst, src []byte, fw filterWeights) {
	taps := fw.taps
	for x := 0; x*4+3 < len(dst); x++ {
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
		binary.LittleEndian.PutUint32(dst[x*4:], uint32(clampShift(r))|uint32(clampShift(g))<<8|uint32(clampShift(b))<<16|0xff<<24)
	}
}

// isOpaque reports whether every pixel of m has alpha 255.
func isOpaque(m *image.NRGBA) bool {
	r := m.Rect
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := m.Pix[m.PixOffset(r.Min.X, y):][:r.Dx()*4]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 255 {
				return false
			}
		}
	}
	return true
}
