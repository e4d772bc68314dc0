package app

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edgepix/edgepix/origin"
)

// Starting and closing edgepix leaves no goroutine behind: servers, job
// workers, the notifier, the sweeper, NATS and the cache all stop.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	acct := origin.Account{Cloud: "demo", APIKey: "1", APISecret: "s"}
	run := func() {
		a, err := Start(Config{DataDir: t.TempDir(), EdgeAddr: "127.0.0.1:0", OriginAddr: "127.0.0.1:0",
			Accounts: []origin.Account{acct}}, log)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{a.EdgeURL + "/healthz", a.OriginURL + "/healthz", a.EdgeURL + "/demo/image/upload/x.jpg"} {
			if resp, err := http.Get(u); err == nil {
				resp.Body.Close()
			}
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	run() // first start: package-level pools and caches are made once
	http.DefaultClient.CloseIdleConnections()
	before := runtime.NumGoroutine()
	for range 3 {
		run()
	}
	http.DefaultClient.CloseIdleConnections()
	var after int
	// fasthttp's worker-pool and client cleaners notice a stop on their next
	// tick (up to 10 s).
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if after = runtime.NumGoroutine(); after <= before {
			return
		}
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	t.Errorf("%d goroutines before three start/close cycles, %d after:\n%s", before, after,
		strings.Join(strings.SplitAfterN(stacks, "\n\n", 40), ""))
}

// A phase waits for its steps until its deadline, then abandons those
// still running, by name; errors and unfinished work are kept apart.
func TestPhaseAbandonsStuckSteps(t *testing.T) {
	s := &shutdown{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	stuck := make(chan struct{})
	defer close(stuck)
	start := time.Now()
	s.phase(start.Add(200*time.Millisecond),
		step{name: "quick", run: func() error { return nil }},
		step{name: "stuck", run: func() error { <-stuck; return nil }},
		step{name: "failing", run: func() error { return errors.New("boom") }},
		step{name: "partial", run: func() error { return unfinished("2 connections") }})
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("phase took %v with a 200 ms deadline", took)
	}
	if strings.Join(s.abandoned, ",") != "partial,stuck" && strings.Join(s.abandoned, ",") != "stuck,partial" {
		t.Errorf("abandoned %v", s.abandoned)
	}
	if len(s.errs) != 1 || !strings.Contains(s.errs[0].Error(), "failing: boom") {
		t.Errorf("errors %v", s.errs)
	}
}
