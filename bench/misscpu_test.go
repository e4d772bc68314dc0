package bench

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/fixtures"
)

// BenchmarkMiss renders each miss scenario in-process, reporting CPU
// time per render (steadier than wall time on a shared machine).
func BenchmarkMiss(b *testing.B) {
	dir := fixtures.Dir()
	if dir == "" {
		b.Skip("fixtures are absent")
	}
	tmp := b.TempDir()
	for _, s := range MissScenarios {
		path, err := s.Source(dir, tmp)
		if err != nil {
			b.Skip(err) // the generated PNG needs libvips' vips
		}
		src, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.Name, func(b *testing.B) {
			b.ReportAllocs()
			var ru syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			c := ru.Utime.Nano() + ru.Stime.Nano()
			for b.Loop() {
				if _, err := s.RenderMiss(src); err != nil {
					b.Fatal(err)
				}
			}
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			b.ReportMetric(float64(time.Duration(ru.Utime.Nano()+ru.Stime.Nano()-c))/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// The miss benchmark's measuring code must work; its figures are printed
// by make bench-miss, never asserted here.
func TestMeasureMissCPURuns(t *testing.T) {
	if _, err := exec.LookPath("vipsthumbnail"); err != nil {
		t.Skip("vipsthumbnail (libvips-tools) is absent")
	}
	dir := fixtures.Dir()
	if dir == "" {
		t.Skip("fixtures are absent")
	}
	var ss []MissScenario
	for _, s := range MissScenarios {
		if s.Name == "2.5 MP JPEG → fill 150×100 WebP q80" {
			ss = append(ss, s)
		}
	}
	figs, err := MeasureMissCPU(dir, t.TempDir(), ss, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 1 {
		t.Fatalf("%d figures", len(figs))
	}
	if f := figs[0]; f.OursBytes == 0 || f.VBytes == 0 || f.PSNR < 20 {
		t.Fatalf("implausible figure: %+v", f)
	}
}
