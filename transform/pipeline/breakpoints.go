package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"math"

	"github.com/disintegration/imaging"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// breakpointSamples is how many widths are encoded to learn how the file
// size grows with the width; sizes between them are interpolated.
const breakpointSamples = 10

// breakpoints finds w_auto:breakpoints' widths for m, as Cloudinary's
// responsive breakpoints: from a.Min to a.Max (m's width at most), the
// widths at which the file has grown by at least a.KB kilobytes since the
// previous one, both ends included; when that gives more than a.N, the
// step grows so that there are a.N. File sizes are those of JPEGs at
// quality q, measured at a few widths and interpolated.
func breakpoints(ctx context.Context, m *image.NRGBA, a *grammar.AutoWidth, q int) ([]int, error) {
	W, H := m.Rect.Dx(), m.Rect.Dy()
	hi := min(a.Max, W)
	lo := min(a.Min, hi)
	if hi <= lo || a.N < 2 {
		return []int{hi}, nil
	}
	// Measure: the sizes at sample widths, made non-decreasing.
	n := min(breakpointSamples, hi-lo+1)
	widths := make([]int, n)
	sizes := make([]float64, n)
	src := m
	for i := n - 1; i >= 0; i-- { // largest first: each sample is shrunk from the previous one
		if err := codec.CheckContext(ctx); err != nil {
			return nil, err
		}
		w := lo + (hi-lo)*i/(n-1)
		h := max(int(math.Round(float64(H)*float64(w)/float64(W))), 1)
		var err error
		if src, err = resize(ctx, src, w, h, imaging.Linear); err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: q}); err != nil {
			return nil, err
		}
		widths[i], sizes[i] = w, float64(buf.Len())
	}
	for i := 1; i < n; i++ {
		sizes[i] = math.Max(sizes[i], sizes[i-1])
	}
	size := func(w int) float64 { // linear between the samples
		for i := 1; i < n; i++ {
			if w <= widths[i] {
				t := float64(w-widths[i-1]) / float64(widths[i]-widths[i-1])
				return sizes[i-1] + t*(sizes[i]-sizes[i-1])
			}
		}
		return sizes[n-1]
	}
	pick := func(step float64) []int {
		out := []int{lo}
		last := size(lo)
		for w := lo + 1; w < hi; w++ {
			if s := size(w); s-last >= step {
				out, last = append(out, w), s
			}
		}
		return append(out, hi)
	}
	out := pick(math.Max(float64(a.KB)*1024, 1))
	for step := (sizes[n-1] - sizes[0]) / float64(a.N-1); len(out) > a.N; step *= 1.05 {
		out = pick(step)
	}
	return out, nil
}

// breakpointWidth is the breakpoint at or above want (the client's
// width, or w_auto's fallback), or the largest.
func breakpointWidth(bps []int, want int) int {
	for _, b := range bps {
		if b >= want && want > 0 {
			return b
		}
	}
	return bps[len(bps)-1]
}

// breakpointsJSON is w_auto:breakpoints:json's answer.
func breakpointsJSON(bps []int) (*Result, error) {
	data, err := json.Marshal(struct {
		Breakpoints []int `json:"breakpoints"`
	}{bps})
	if err != nil {
		return nil, err
	}
	return &Result{Data: data, Format: codec.JSON}, nil
}
