package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// meter shows the progress of many transfers: one bar (files, bytes,
// rate, ETA) on a terminal, plain lines otherwise.
type meter struct {
	out    io.Writer
	files  int
	done   atomic.Int64
	p      *mpb.Progress
	bar    *mpb.Bar
	mu     sync.Mutex
	quiet  bool
	prefix string
}

// isTerminal says whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newMeter(verb string, files int, bytes int64, quiet bool) *meter {
	m := &meter{out: os.Stderr, files: files, quiet: quiet, prefix: verb}
	if quiet || !isTerminal(os.Stderr) {
		return m
	}
	m.p = mpb.New(mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
	m.bar = m.p.AddBar(bytes,
		mpb.PrependDecorators(decor.Name(verb+" "), decor.Any(func(decor.Statistics) string {
			return fmt.Sprintf("%d/%d files ", m.done.Load(), m.files)
		}), decor.CountersKibiByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), " % .1f"), decor.Name(" ETA "),
			decor.AverageETA(decor.ET_STYLE_GO)))
	return m
}

// add counts n more bytes moved.
func (m *meter) add(n int64) {
	if m.bar != nil && n > 0 {
		m.bar.IncrInt64(n)
	}
}

// finished counts one file finished and, off a terminal, prints a line.
func (m *meter) finished(line string) {
	n := m.done.Add(1)
	if m.bar == nil && !m.quiet {
		m.mu.Lock()
		fmt.Fprintf(m.out, "[%d/%d] %s\n", n, m.files, line)
		m.mu.Unlock()
	}
}

// close ends the bar.
func (m *meter) close() {
	if m.p != nil {
		m.bar.Abort(false)
		m.p.Wait()
	}
}

// fileProgress turns a file's running byte count (which may go back when
// a part is sent again) into increments of the meter.
func (m *meter) fileProgress() func(int64) {
	var high int64
	var mu sync.Mutex
	return func(sent int64) {
		mu.Lock()
		d := sent - high
		if d > 0 {
			high = sent
		}
		mu.Unlock()
		m.add(d)
	}
}
