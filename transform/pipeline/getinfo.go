package pipeline

import (
	"encoding/json"

	"github.com/edgepix/edgepix/transform/codec"
)

// imageInfo is one side of fl_getinfo's answer.
type imageInfo struct {
	Width  int          `json:"width"`
	Height int          `json:"height"`
	Format codec.Format `json:"format"`
	Bytes  int          `json:"bytes,omitempty"`
	Frames int          `json:"frames,omitempty"`
}

// getInfo answers fl_getinfo: a JSON description of the input and of the
// output the chain would deliver (its size, frames and format, f_auto
// negotiated), instead of the image.
func getInfo(src []byte, img *codec.Image, req Request, budget int64) (*Result, error) {
	in, err := codec.Probe(src)
	if err != nil {
		return nil, err
	}
	f, err := outputFormat(img, req.Chain, req.Format, req.AcceptClass, budget)
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	frames := len(img.Frames)
	if !f.CanAnimate() {
		frames = 1
	}
	data, err := json.Marshal(struct {
		Input  imageInfo `json:"input"`
		Output imageInfo `json:"output"`
	}{
		imageInfo{Width: in.Width, Height: in.Height, Format: in.Format, Bytes: len(src), Frames: max(in.Frames, 1)},
		imageInfo{Width: b.Dx(), Height: b.Dy(), Format: f, Frames: frames},
	})
	if err != nil {
		return nil, err
	}
	return &Result{Data: data, Format: codec.JSON, Width: b.Dx(), Height: b.Dy(), Frames: frames}, nil
}
