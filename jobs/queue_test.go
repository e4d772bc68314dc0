package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/natsembed"
)

func TestRetryFailAndPanic(t *testing.T) {
	nc, err := natsembed.Start("", filepath.Join(t.TempDir(), "nats"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	q, err := Open(ctx, nc.JS, Config{Name: "TEST", AckWait: 3 * time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string][]int{}
	done := make(chan string, 10)
	run, stop := context.WithCancel(ctx)
	q.Run(run, 2, func(_ context.Context, j Job) error {
		mu.Lock()
		seen[string(j.Data)] = append(seen[string(j.Data)], j.Attempt)
		mu.Unlock()
		switch string(j.Data) {
		case "retry":
			if j.Attempt < 3 {
				return &RetryError{After: 50 * time.Millisecond, Err: errors.New("not yet")}
			}
		case "fail":
			done <- "fail"
			return errors.New("bad input")
		case "panic":
			done <- "panic"
			panic("boom")
		}
		done <- string(j.Data)
		return nil
	})
	for _, d := range []string{"retry", "fail", "panic", "ok", "ok"} {
		id := d
		if d == "ok" {
			id = "same-id" // published twice: stored once
		}
		if err := q.Enqueue(ctx, "t", "", []byte(d), id); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int{}
	for range 4 {
		select {
		case d := <-done:
			got[d]++
		case <-time.After(10 * time.Second):
			t.Fatalf("jobs did not finish: %v", seen)
		}
	}
	time.Sleep(300 * time.Millisecond) // room for wrong redeliveries
	stop()
	q.Wait()
	mu.Lock()
	defer mu.Unlock()
	if a := seen["retry"]; len(a) != 3 || a[2] != 3 {
		t.Errorf("retried job attempts %v, want [1 2 3]", a)
	}
	if len(seen["fail"]) != 1 || len(seen["panic"]) != 1 {
		t.Errorf("a failed job came back: %v", seen)
	}
	if len(seen["ok"]) != 1 {
		t.Errorf("a duplicate publish ran twice: %v", seen["ok"])
	}
}

// After Stop the workers take no new job, the running one finishes and is
// acknowledged; a job cancelled by Run's context goes back to the queue
// at once and runs again on the next Run.
func TestStopDrainsThenCancelNacks(t *testing.T) {
	nc, err := natsembed.Start("", filepath.Join(t.TempDir(), "nats"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	q, err := Open(ctx, nc.JS, Config{Name: "STOP", AckWait: time.Minute}, log)
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan string, 10), make(chan struct{})
	var mu sync.Mutex
	finished := map[string]int{}
	h := func(ctx context.Context, j Job) error {
		started <- string(j.Data)
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		mu.Lock()
		finished[string(j.Data)]++
		mu.Unlock()
		return nil
	}
	run, cancel := context.WithCancel(ctx)
	q.Run(run, 1, h)
	q.Enqueue(ctx, "t", "", []byte("first"), "")
	if got := <-started; got != "first" {
		t.Fatalf("started %s", got)
	}
	q.Enqueue(ctx, "t", "", []byte("second"), "")
	q.Stop()
	close(release)
	q.Wait()
	cancel()
	mu.Lock()
	if finished["first"] != 1 || finished["second"] != 0 {
		t.Fatalf("after Stop: %v", finished)
	}
	mu.Unlock()

	// The second job is still queued; cancel it while it runs.
	q2, _ := Open(ctx, nc.JS, Config{Name: "STOP", AckWait: time.Minute}, log)
	release = make(chan struct{}) // never closed: only cancellation ends it
	run, cancel = context.WithCancel(ctx)
	q2.Run(run, 1, h)
	if got := <-started; got != "second" {
		t.Fatalf("started %s", got)
	}
	cancel()
	q2.Wait()
	q3, _ := Open(ctx, nc.JS, Config{Name: "STOP", AckWait: time.Minute}, log)
	release = make(chan struct{})
	close(release)
	run, cancel = context.WithCancel(ctx)
	defer cancel()
	q3.Run(run, 1, h)
	select { // well before the minute of ack wait: the cancelled job was nacked
	case got := <-started:
		if got != "second" {
			t.Fatalf("started %s", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a cancelled job did not come back")
	}
	q3.Stop()
	q3.Wait()
}

// Queued finds a keyed job while it waits and while it runs, and no
// longer once it is acknowledged; the handler sees its kind and key.
func TestQueued(t *testing.T) {
	nc, err := natsembed.Start("", filepath.Join(t.TempDir(), "nats"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	q, err := Open(ctx, nc.JS, Config{Name: "KEYED", AckWait: time.Minute}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	queued := func(key string) bool {
		t.Helper()
		ok, err := q.Queued(ctx, "eager", key)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if err := q.Enqueue(ctx, "eager", "b1", []byte("x"), "b1"); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(ctx, "eager", "bad.key", nil, ""); err == nil {
		t.Fatal("a key with a dot was accepted")
	}
	if !queued("b1") || queued("b2") {
		t.Fatalf("waiting: b1 %v, b2 %v", queued("b1"), queued("b2"))
	}
	running, release := make(chan Job, 1), make(chan struct{})
	run, cancel := context.WithCancel(ctx)
	defer cancel()
	q.Run(run, 1, func(_ context.Context, j Job) error {
		running <- j
		<-release
		return nil
	})
	j := <-running
	if j.Kind != "eager" || j.Key != "b1" {
		t.Fatalf("job kind %q key %q", j.Kind, j.Key)
	}
	if !queued("b1") {
		t.Fatal("a running job is not queued")
	}
	close(release)
	for deadline := time.Now().Add(10 * time.Second); queued("b1"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("an acknowledged job is still queued")
		}
	}
	q.Stop()
	q.Wait()
}
