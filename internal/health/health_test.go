package health

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A check that ignores its deadline (blocked on a lock, say) fails the
// report in about Timeout instead of holding /readyz; later reports name
// it as still not answering without starting it again; once it returns,
// its late answer counts, and the next report runs it afresh.
func TestCheckIgnoringItsDeadline(t *testing.T) {
	release := make(chan struct{})
	var started atomic.Int32
	c := New(slog.New(slog.NewTextHandler(io.Discard, nil)),
		Check{Name: "fine", Run: func(context.Context) error { return nil }},
		Check{Name: "stuck", Run: func(context.Context) error {
			if started.Add(1) == 1 {
				<-release
			}
			return nil
		}})
	for range 2 {
		done := make(chan Report, 1)
		go func() { done <- c.run() }()
		var r Report
		select {
		case r = <-done:
		case <-time.After(30 * time.Second): // a hung report never comes
			t.Fatal("the report waits for a check that ignores its deadline")
		}
		if r.Status != "unready" || len(r.Failing) != 1 || r.Failing[0] != "stuck" ||
			!strings.HasPrefix(r.Checks["stuck"], "no answer") || r.Checks["fine"] != "ok" {
			t.Fatalf("report with a stuck check: %+v", r)
		}
	}
	if n := started.Load(); n != 1 {
		t.Fatalf("the stuck check was started %d times while it ran", n)
	}
	close(release)
	deadline := time.Now().Add(30 * time.Second)
	for r := c.run(); r.Status != "ready"; r = c.run() {
		if time.Now().After(deadline) {
			t.Fatalf("still unready after the check returned: %+v", r)
		}
	}
	if r := c.run(); r.Status != "ready" || started.Load() != 2 {
		t.Fatalf("after the check returned: %+v, %d runs; want ready, run again", r, started.Load())
	}
}
