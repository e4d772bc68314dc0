package codec

import (
	"errors"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
)

func TestPDFPages(t *testing.T) {
	b := fixtures.Read(t, "pdf-mma-tutorial-21pages-text.pdf")
	info, err := Probe(b)
	if err != nil || info.Format != PDF || info.Pages != 21 {
		t.Fatalf("probe: %+v %v", info, err)
	}
	img, err := Decode(b, DecodeOptions{Page: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Frames[0].Rect; r.Dx() != info.Width || r.Dy() != info.Height || len(img.Frames) != 1 {
		t.Errorf("page 3 at %d dpi: %v, probe said %dx%d", PDFDensity, r, info.Width, info.Height)
	}
	// A page is rendered at a lower density when that is all a step needs,
	// and sized to the pixel limit rather than refused.
	small, err := Decode(b, DecodeOptions{Page: 1, MinWidth: 100, MinHeight: 100})
	if err != nil || small.Frames[0].Rect.Dx() >= info.Width || small.Frames[0].Rect.Dx() < 100 {
		t.Errorf("reduced render: %v %v", small.Frames[0].Rect, err)
	}
	capped, err := Decode(b, DecodeOptions{MaxPixels: 100_000})
	if err != nil || capped.Frames[0].Rect.Dx()*capped.Frames[0].Rect.Dy() > 100_000 {
		t.Errorf("capped render: %v %v", capped.Frames[0].Rect, err)
	}
	var pe *PageError
	if _, err := Decode(b, DecodeOptions{Page: 22}); !errors.As(err, &pe) || pe.Pages != 21 {
		t.Errorf("page 22 of 21: %v", err)
	}
	var de *DecodeError
	if _, err := Decode(fixtures.Read(t, "bad-truncated-pdf-40pct.pdf"), DecodeOptions{}); !errors.As(err, &de) {
		t.Errorf("truncated PDF: %v", err)
	}
	if _, err := Probe([]byte("%PDF-1.4 garbage")); !errors.As(err, &de) {
		t.Errorf("garbage PDF: %v", err)
	}
}
