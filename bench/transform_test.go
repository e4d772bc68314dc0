package bench

import (
	"testing"
	"time"

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

func TestMeasureDeliveryRuns(t *testing.T) {
	hit, err := MeasureHit(fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), 2, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if hit.Ours.Requests == 0 || hit.Baseline.Requests == 0 || hit.Bytes != 28725 {
		t.Fatalf("implausible hit figure: %+v", hit)
	}
	miss, err := MeasureMiss(fixtures.Path(t, "exif-orient1-synthetic-50x70.jpg"), []int{2}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(miss) != 1 || miss[0].Load.Requests != 4 || miss[0].Load.P99 == 0 {
		t.Fatalf("implausible miss figure: %+v", miss)
	}
}

func TestMeasureJobsRuns(t *testing.T) {
	e, err := MeasureEager(fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), 2)
	if err != nil || e.Ours == 0 || e.Baseline == 0 {
		t.Fatalf("eager: %v %+v", err, e)
	}
	f, err := MeasureFanout(20)
	if err != nil || f.DelayP99 == 0 || f.Ours == 0 {
		t.Fatalf("fan-out: %v %+v", err, f)
	}
}

func TestMeasurePluginsRuns(t *testing.T) {
	f, err := MeasurePlugins(1)
	if err != nil || len(f.Calls) != 4 || f.Overhead.Ours == 0 || f.WarmRestart == 0 || f.SpinLate <= 0 {
		t.Fatalf("plugins: %v %+v", err, f)
	}
}

func TestMeasureExplodeRuns(t *testing.T) {
	f, err := MeasureExplode(fixtures.Path(t, "pdf-jmeter-proxy-guide-8pages-screenshots.pdf"))
	if err != nil || f.Pages != 8 || f.Ours == 0 || f.Baseline == 0 {
		t.Fatalf("explode: %v %+v", err, f)
	}
	t.Logf("explode %d pages: %v vs %v in-process", f.Pages, f.Ours, f.Baseline)
}

func TestMeasureSpriteRuns(t *testing.T) {
	f, err := MeasureSprite(fixtures.Path(t, "exif-orient1-synthetic-50x70.jpg"), 3, 1)
	if err != nil || f.Ours == 0 || f.Baseline == 0 {
		t.Fatalf("sprite: %v %+v", err, f)
	}
}
