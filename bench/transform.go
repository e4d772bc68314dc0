package bench

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"time"

	"github.com/disintegration/imaging"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/edgepix/edgepix/transform/pipeline"
)

// TransformFigure compares edgepix's decode + c_fill,w_300,h_200 + JPEG q80
// with the naive imaging pipeline on the same file.
type TransformFigure struct {
	File           string
	Pixels         int
	Ours, Baseline time.Duration
	PSNR           float64 // ours vs baseline output, dB
	PeakHeap       uint64  // bytes allocated by ours (GC off)
	DecodedSize    uint64  // width × height × 4
}

// Speedup is baseline time / our time.
func (f TransformFigure) Speedup() float64 { return float64(f.Baseline) / float64(f.Ours) }

// HeapRatio is peak heap / decoded size.
func (f TransformFigure) HeapRatio() float64 { return float64(f.PeakHeap) / float64(f.DecodedSize) }

// OursFill is edgepix's path: the pipeline as the servers run it.
func OursFill(src []byte) ([]byte, error) {
	ch, err := grammar.ParseChain("c_fill,w_300,h_200,q_80")
	if err != nil {
		return nil, err
	}
	r, err := pipeline.Render(src, pipeline.Request{Chain: ch, Format: "jpg"})
	if err != nil {
		return nil, err
	}
	return r.Data, nil
}

// BaselineFill is the naive pipeline: imaging.Decode, Fill with Lanczos,
// Encode at quality 80.
func BaselineFill(src []byte) ([]byte, error) {
	img, err := imaging.Decode(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	out := imaging.Fill(img, 300, 200, imaging.Center, imaging.Lanczos)
	var buf bytes.Buffer
	err = imaging.Encode(&buf, out, imaging.JPEG, imaging.JPEGQuality(80))
	return buf.Bytes(), err
}

// MeasureTransform measures one fixture file.
func MeasureTransform(path string, runs int) (TransformFigure, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return TransformFigure{}, err
	}
	info, err := codec.Probe(src)
	if err != nil {
		return TransformFigure{}, err
	}
	f := TransformFigure{File: filepath.Base(path), Pixels: info.Width * info.Height,
		DecodedSize: uint64(info.Width) * uint64(info.Height) * 4}
	var ours, base []byte
	var e1, e2 error
	f.Ours = Median(runs, func() { ours, e1 = OursFill(src) })
	f.Baseline = Median(runs, func() { base, e2 = BaselineFill(src) })
	if e1 != nil || e2 != nil {
		return f, fmt.Errorf("ours: %v, baseline: %v", e1, e2)
	}
	f.PeakHeap = Allocated(func() { OursFill(src) })
	a, err1 := decodeNRGBA(ours)
	b, err2 := decodeNRGBA(base)
	if err1 != nil || err2 != nil || a.Rect.Size() != b.Rect.Size() {
		return f, fmt.Errorf("outputs differ in size or do not decode")
	}
	f.PSNR = pipeline.PSNR(a, b)
	return f, nil
}

func decodeNRGBA(b []byte) (*image.NRGBA, error) {
	img, err := codec.Decode(b, codec.DecodeOptions{})
	if err != nil {
		return nil, err
	}
	return img.Frames[0], nil
}
