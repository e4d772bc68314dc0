package plugin

import (
	"encoding/binary"
	"image"
	"testing"
)

func TestRunWritesTheABIOutput(t *testing.T) {
	Handle(func(img *image.NRGBA, m Meta) (*image.NRGBA, error) {
		if m.Number("n", 0) != 3 || m.String("s", "") != "x" || m.Context["k"] != "v" || m.Tags[0] != "t" {
			t.Errorf("metadata: %+v", m)
		}
		// return the right half: a different size and a sub-image
		return img.SubImage(image.Rect(1, 0, 2, 2)).(*image.NRGBA), nil
	})
	pix := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	out, err := Run(2, 2, pix, []byte(`{"context":{"k":"v"},"tags":["t"],"variables":{"n":3,"s":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if w, h := binary.BigEndian.Uint32(out), binary.BigEndian.Uint32(out[4:]); w != 1 || h != 2 {
		t.Fatalf("header %dx%d", w, h)
	}
	if string(out[8:]) != string([]byte{5, 6, 7, 8, 13, 14, 15, 16}) {
		t.Errorf("pixels %v", out[8:])
	}
	if _, err := Run(2, 2, pix[:8], nil); err == nil {
		t.Error("a short pixel buffer was accepted")
	}
	if _, err := Run(2, 2, pix, []byte("{")); err == nil {
		t.Error("bad metadata was accepted")
	}
	handler = nil
	if _, err := Run(2, 2, pix, nil); err == nil {
		t.Error("Run without a registered function must fail")
	}
}
