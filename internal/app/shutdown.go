package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Close shuts the process down within Config.ShutdownTimeout; it is the
// one caller of every component's Close. In order:
//
//  1. intake: the job queues and the webhook notifier take no new work,
//     the sweeper (chunks, stuck batches) stops;
//  2. drain, until the drain deadline (the timeout less a reserve: a
//     quarter, at most 5 s; the phase ends a quarter of the reserve
//     later, for cancelled work to be handed back): each server closes its
//     listener and finishes its requests (metrics, edge, then origin,
//     which the edge's requests may need); meanwhile running jobs and
//     webhook deliveries finish, or are cancelled at the drain deadline
//     and handed back to the queue (nacked) for another origin or the
//     next start;
//  3. stores: purges stop reaching the edge (the follower stops after
//     the purge in hand) and owed purges get a last try (until half-way
//     through the reserve); then, with the rest of the reserve, the edge cache
//     (its memtable flushed), NATS (drained, then the embedded server
//     stopped) and the plugin host.
//
// Every step runs in its own goroutine and is waited for until its
// phase's deadline at most: one still running then is abandoned (left to
// die with the process), logged as "abandoned <name>" with what it was
// waiting for, and named in the returned error, so the process exits
// non-zero but always exits. Close may be called more than once.
func (a *App) Close() error {
	a.closeOnce.Do(func() { a.closeErr = a.shutdown(a.cfg.ShutdownTimeout) })
	return a.closeErr
}

func (a *App) shutdown(timeout time.Duration) error {
	start := time.Now()
	deadline := start.Add(timeout)
	reserve := min(timeout/4, 5*time.Second)
	drainBy := deadline.Add(-reserve)
	s := &shutdown{log: a.log}

	for _, w := range a.workers {
		w.w.Stop()
	}
	for _, ln := range a.listeners {
		defer ln.Close() // those not served yet (a failed start); servers close theirs
	}
	drain := []step{{name: "requests", run: func() error { return a.drainServers(drainBy) }}}
	for _, w := range a.workers {
		drain = append(drain, step{name: w.name, run: func() error { return a.drainWorker(w, drainBy) }, pending: w.pending})
	}
	s.phase(drainBy.Add(reserve/4), drain...)

	var purges []step
	if a.follower != nil {
		purges = append(purges, step{name: "purge follower", run: func() error { a.follower.Stop(); return nil }})
	}
	if a.purges != nil {
		purges = append(purges, step{name: "purge publisher", run: func() error {
			ctx, cancel := context.WithDeadline(context.Background(), drainBy.Add(reserve/2))
			defer cancel()
			return a.purges.Close(ctx)
		}})
	}
	// The stores keep the last half of the reserve whatever the purges do.
	s.phase(drainBy.Add(reserve/2), purges...)
	var stores []step
	if a.edge != nil {
		stores = append(stores, step{name: "edge cache", run: a.edge.Close})
	}
	if a.nats != nil {
		stores = append(stores, step{name: "nats", run: func() error { a.nats.Close(); return nil }})
	}
	if a.plugins != nil {
		stores = append(stores, step{name: "plugins", run: a.plugins.Close})
	}
	s.phase(deadline, stores...)

	if len(s.abandoned) > 0 {
		a.log.Error("shutdown incomplete", "abandoned", s.abandoned, "took", time.Since(start))
		s.errs = append(s.errs, fmt.Errorf("shutdown: abandoned %s after %v", strings.Join(s.abandoned, ", "), timeout))
	} else {
		a.log.Info("shutdown complete", "took", time.Since(start))
	}
	return errors.Join(s.errs...)
}

// drainServers shuts the servers down in order, each finishing its
// requests until by; it reports the connections still open then.
func (a *App) drainServers(by time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), by)
	defer cancel()
	var open []string
	for _, name := range []string{"metrics", "edge", "origin"} {
		for _, s := range a.servers {
			if s.name != name {
				continue
			}
			if s.srv.ShutdownWithContext(ctx) != nil && ctx.Err() != nil {
				open = append(open, fmt.Sprintf("%s: %d connections", name, s.srv.GetOpenConnectionsCount()))
			}
		}
	}
	if len(open) > 0 {
		return unfinished("requests still running: " + strings.Join(open, ", "))
	}
	return nil
}

// drainWorker waits until by for w's work in hand, then cancels it: the
// queue takes it back. The phase bounds the wait that follows.
func (a *App) drainWorker(w worker, by time.Time) error {
	if waitUntil(w.w.Wait, by) {
		return nil
	}
	a.log.Warn("interrupted "+w.name+": handed back to the queue", "pending", w.pending())
	a.stopWork()
	w.w.Wait()
	return nil
}

// waitUntil runs wait and reports whether it returned before by.
func waitUntil(wait func(), by time.Time) bool {
	done := make(chan struct{})
	go func() {
		wait()
		close(done)
	}()
	t := time.NewTimer(time.Until(by))
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// step is one part of the shutdown.
type step struct {
	name    string
	run     func() error
	pending func() string // what it is waiting for, if known
}

// unfinished is what a step gave up on: it counts as abandoned.
type unfinished string

func (u unfinished) Error() string { return string(u) }

// shutdown records the outcome of the steps.
type shutdown struct {
	log       *slog.Logger
	abandoned []string
	errs      []error
}

// phase runs steps at once and waits for each until by; those still
// running then are abandoned.
func (s *shutdown) phase(by time.Time, steps ...step) {
	type result struct {
		i   int
		err error
	}
	results := make(chan result, len(steps))
	for i, st := range steps {
		go func() { results <- result{i, st.run()} }()
	}
	t := time.NewTimer(time.Until(by))
	defer t.Stop()
	finished := make([]bool, len(steps))
	for range steps {
		select {
		case r := <-results:
			finished[r.i] = true
			s.record(steps[r.i].name, r.err)
		case <-t.C:
			for i, st := range steps {
				if !finished[i] {
					what := "still running at the shutdown deadline"
					if st.pending != nil {
						what = st.pending()
					}
					s.abandon(st.name, what)
				}
			}
			return
		}
	}
}

func (s *shutdown) record(name string, err error) {
	var u unfinished
	switch {
	case err == nil:
	case errors.As(err, &u):
		s.abandon(name, string(u))
	default:
		s.log.Error("shutdown: "+name, "err", err)
		s.errs = append(s.errs, fmt.Errorf("%s: %w", name, err))
	}
}

func (s *shutdown) abandon(name, pending string) {
	s.log.Error("abandoned "+name, "pending", pending)
	s.abandoned = append(s.abandoned, name)
}
