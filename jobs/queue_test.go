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
		if err := q.Enqueue(ctx, "t", []byte(d), id); err != nil {
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
