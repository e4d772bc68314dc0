package pipeline

import (
	"context"
	"image"
	"syscall"
	"testing"

	"github.com/disintegration/imaging"
)

func BenchmarkResizeOpaque(b *testing.B) {
	m := image.NewNRGBA(image.Rect(0, 0, 1920, 1280))
	for i := range m.Pix {
		m.Pix[i] = uint8(i*7 + i/7680)
	}
	for i := 3; i < len(m.Pix); i += 4 {
		m.Pix[i] = 255
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	c := ru.Utime.Nano() + ru.Stime.Nano()
	for b.Loop() {
		if _, err := resizeOpaque(context.Background(), m, benchW, benchH, imaging.Lanczos); err != nil {
			b.Fatal(err)
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.ReportMetric(float64(ru.Utime.Nano()+ru.Stime.Nano()-c)/float64(b.N)/1e6, "cpu-ms/op")
}

var benchW, benchH = 1920, 533
