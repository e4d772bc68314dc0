package bench

import (
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
)

// The benchmark's measuring code must work; its figures are printed by
// `make bench`, never asserted here.
func TestMeasureTransformRuns(t *testing.T) {
	f, err := MeasureTransform(fixtures.Path(t, "photo-storm-1920x1280.jpg"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if f.PSNR < 30 || f.PeakHeap == 0 || f.Pixels != 1920*1280 {
		t.Fatalf("implausible figure: %+v", f)
	}
}
