// Package health answers /readyz: whether the parts a server depends on
// (NATS, JetStream, the blob store, origins, the purge stream) answer,
// with the failing ones named. /healthz stays a liveness check (the
// process serves requests) and is the servers' own.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/sync/singleflight"
)

// Path is where readiness is served.
const Path = "/readyz"

// Timeout bounds each check.
const Timeout = 2 * time.Second

// reuse is how long a report answers further probes: many edges poll
// each origin.
const reuse = 500 * time.Millisecond

// Check is one part of a server's readiness.
type Check struct {
	Name string
	Run  func(context.Context) error
}

// Private is a check's failure whose details stay in the log: the body
// of /readyz, served on public ports, says only Public.
type Private struct {
	Public string
	Err    error
}

func (p *Private) Error() string { return p.Public }
func (p *Private) Unwrap() error { return p.Err }

// Report is the body of /readyz.
type Report struct {
	Status  string            `json:"status"` // "ready" or "unready"
	Failing []string          `json:"failing,omitempty"`
	Checks  map[string]string `json:"checks"` // "ok" or why not
}

// Checker runs checks and answers /readyz.
type Checker struct {
	checks []Check
	log    *slog.Logger
	flight singleflight.Group
	mu     sync.Mutex
	last   Report
	at     time.Time
	failed map[string]bool // to log changes only
	// running holds the checks still running past their deadline (a
	// check that ignores its context): the answer each will give, and
	// since when it runs. Such a check fails, and is not started again
	// until it has returned.
	running []*pending
}

type pending struct {
	err   chan error // buffered: the check's answer
	since time.Time
}

// New returns a checker of checks.
func New(log *slog.Logger, checks ...Check) *Checker {
	return &Checker{checks: checks, log: log, failed: map[string]bool{}, running: make([]*pending, len(checks))}
}

// Run runs every check at once, each bounded by Timeout, and logs the
// checks whose state changed. A check that has not answered within
// Timeout fails (its deadline ignored: it may wait for a lock held by a
// reconnecting client), and until it returns later runs report it as
// still not answering rather than start it again: /readyz answers in
// about Timeout whatever the checks do. The checks run on contexts of
// their own, not on the caller's.
func (c *Checker) Run(_ context.Context) Report {
	c.mu.Lock()
	if !c.at.IsZero() && time.Since(c.at) < reuse {
		r := c.last
		c.mu.Unlock()
		return r
	}
	c.mu.Unlock()
	v, _, _ := c.flight.Do("run", func() (any, error) { return c.run(), nil })
	return v.(Report)
}

// run runs the checks on contexts of their own: one that overruns
// outlives the request (a fasthttp request context must not be used
// after its handler returns).
func (c *Checker) run() Report {
	runs := make([]*pending, len(c.checks))
	c.mu.Lock()
	for i, ch := range c.checks {
		if c.running[i] == nil {
			p := &pending{err: make(chan error, 1), since: time.Now()}
			c.running[i] = p
			go func() {
				cctx, cancel := context.WithTimeout(context.Background(), Timeout)
				defer cancel()
				p.err <- ch.Run(cctx)
			}()
		}
		runs[i] = c.running[i]
	}
	c.mu.Unlock()
	wait, cancel := context.WithTimeout(context.Background(), Timeout+100*time.Millisecond)
	defer cancel()
	errs := make([]error, len(c.checks))
	for i, p := range runs {
		select {
		case errs[i] = <-p.err:
			c.mu.Lock()
			c.running[i] = nil
			c.mu.Unlock()
		case <-wait.Done():
			errs[i] = fmt.Errorf("no answer (checking for %v)", time.Since(p.since).Round(100*time.Millisecond))
		}
	}
	r := Report{Status: "ready", Checks: map[string]string{}}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, ch := range c.checks {
		err := errs[i]
		if err == nil {
			r.Checks[ch.Name] = "ok"
			if c.failed[ch.Name] {
				c.log.Info("ready again: "+ch.Name, "check", ch.Name)
			}
			c.failed[ch.Name] = false
			continue
		}
		r.Status = "unready"
		r.Failing = append(r.Failing, ch.Name)
		r.Checks[ch.Name] = err.Error()
		if !c.failed[ch.Name] {
			detail := err
			var p *Private
			if errors.As(err, &p) && p.Err != nil {
				detail = p.Err
			}
			c.log.Warn("not ready: "+ch.Name, "check", ch.Name, "err", detail)
		}
		c.failed[ch.Name] = true
	}
	sort.Strings(r.Failing)
	c.last, c.at = r, time.Now()
	return r
}

// Serve returns h answering GET/HEAD /readyz itself (unlogged and
// uncounted, like /metrics): 200 when every check passes, else 503; the
// JSON body names each check's state.
func (c *Checker) Serve(h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) != Path || !(ctx.IsGet() || ctx.IsHead()) {
			h(ctx)
			return
		}
		r := c.Run(ctx)
		b, _ := json.Marshal(r)
		if r.Status != "ready" {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		}
		ctx.SetContentType("application/json")
		ctx.Response.Header.Set("Cache-Control", "no-store")
		ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
		ctx.SetBody(append(b, '\n'))
	}
}
