package codec

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/fixtures"
)

// cpuTime is the process's CPU time (user + system, every thread).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchCPU runs fn b.N times and reports the CPU time per run, steadier
// than wall time on a shared machine.
func benchCPU(b *testing.B, fn func() error) {
	b.ReportAllocs()
	c := cpuTime()
	for b.Loop() {
		if err := fn(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c)/float64(b.N)/1e6, "cpu-ms/op")
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range []struct {
		name, file string
		minW, minH int
	}{
		{"storm-quarter", "photo-storm-1920x1280.jpg", 450, 300},
		{"storm-full", "photo-storm-1920x1280.jpg", 0, 0},
		{"nuthatch-eighth", "photo-nuthatch-6028x3391.jpg", 533, 300},
		{"dandelions-eighth", "photo-dandelions-5312x2988-progressive.jpg", 533, 300},
		{"gray-quarter", "photo-architecture-2560x1600-grayscale.jpg", 480, 300},
		{"rgba-png", "rgba-transparent-wallpaper-2140x1200.png", 0, 0},
	} {
		src := fixtures.Read(b, c.file)
		b.Run(c.name, func(b *testing.B) {
			benchCPU(b, func() error {
				_, err := Decode(src, DecodeOptions{MinWidth: c.minW, MinHeight: c.minH})
				return err
			})
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	m, err := Decode(fixtures.Read(b, "photo-storm-1920x1280.jpg"), DecodeOptions{MinWidth: 800, MinHeight: 533})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []Format{JPEG, WebP, AVIF, PNG} {
		b.Run(string(f), func(b *testing.B) {
			benchCPU(b, func() error {
				var buf bytes.Buffer
				return Encode(&buf, m, f, EncodeOptions{Quality: 80})
			})
		})
	}
}
