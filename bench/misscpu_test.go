package bench

import (
	"os"
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
