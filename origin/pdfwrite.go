package origin

import (
	"bytes"
	"fmt"
	"image"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/go-pdf/fpdf"
)

// pdfOf writes one page per frame, each frame a JPEG (quality 90) on a
// page of its own size (1 px = 1 pt), for multi to PDF.
func pdfOf(frames []*image.NRGBA) ([]byte, error) {
	first := frames[0].Rect
	doc := fpdf.NewCustom(&fpdf.InitType{UnitStr: "pt",
		Size: fpdf.SizeType{Wd: float64(first.Dx()), Ht: float64(first.Dy())}})
	doc.SetCompression(true)
	doc.SetCreator("edgepix", true)
	for i, f := range frames {
		var jpg bytes.Buffer
		img := &codec.Image{Frames: []*image.NRGBA{f}, Delays: []int{0}}
		if err := codec.Encode(&jpg, img, codec.JPEG, codec.EncodeOptions{Quality: 90}); err != nil {
			return nil, err
		}
		name := fmt.Sprintf("p%d", i)
		w, h := float64(f.Rect.Dx()), float64(f.Rect.Dy())
		opt := fpdf.ImageOptions{ImageType: "JPG"}
		doc.RegisterImageOptionsReader(name, opt, &jpg)
		doc.AddPageFormat("P", fpdf.SizeType{Wd: w, Ht: h})
		doc.ImageOptions(name, 0, 0, w, h, false, opt, 0, "")
	}
	var out bytes.Buffer
	if err := doc.Output(&out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
