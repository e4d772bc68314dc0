package origin

import (
	"context"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/edgepix/edgepix/transform/pipeline"
	"slices"
	"strconv"
	"sync"
	"time"
)

// admission bounds the pixel work in flight at the origin: renders,
// upload validation, incoming transformations and sprite frames all pass
// through it. Work takes one of Workers slots and its cost in pixels
// (decoded pixels, frames included) out of a budget of RenderPixels; a
// cost above the budget is capped at it (the work then runs alone), so
// memory follows the budget, not the number of requests.
//
// Waiters are served fairly: when capacity frees, the waiter whose client
// (an edge's client address within a cloud, or a cloud's API work) has
// the least work in flight goes first, the oldest among equals. One
// client sending heavy renders then delays another's by at most one
// render, which RenderTimeout bounds. A waiter is refused with errBusy
// beyond QueueLimit waiters or after QueueWait; its own context ending
// (deadline, or shutdown) ends the wait too.
type admission struct {
	mu         sync.Mutex
	freeSlots  int
	freePixels int64
	budget     int64
	queue      []*waiter
	inflight   map[string]int // work in flight by client
	queueLimit int
	wait       time.Duration
	depth      func(delta float64) // queue depth gauge
}

type waiter struct {
	client string
	cost   int64
	ready  chan struct{} // closed when admitted
}

func newAdmission(workers int, budget int64, queueLimit int, wait time.Duration, depth func(float64)) *admission {
	return &admission{freeSlots: workers, freePixels: budget, budget: budget, inflight: map[string]int{},
		queueLimit: queueLimit, wait: wait, depth: depth}
}

// acquire admits work of cost pixels for client and returns its release.
func (a *admission) acquire(ctx context.Context, client string, cost int64) (func(), error) {
	cost = min(max(cost, 1), a.budget)
	a.mu.Lock()
	if len(a.queue) == 0 && a.fits(cost) {
		a.take(client, cost)
		a.mu.Unlock()
		return a.releaser(client, cost), nil
	}
	if len(a.queue) >= a.queueLimit {
		a.mu.Unlock()
		return nil, errBusy
	}
	w := &waiter{client: client, cost: cost, ready: make(chan struct{})}
	a.queue = append(a.queue, w)
	a.depth(1)
	a.mu.Unlock()

	timer := time.NewTimer(a.wait)
	defer timer.Stop()
	var err error
	select {
	case <-w.ready:
		return a.releaser(client, cost), nil
	case <-timer.C:
		err = errBusy
	case <-ctx.Done():
		err = ctx.Err()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case <-w.ready: // admitted just as the wait ended: give it back
		a.put(client, cost)
		a.dispatch()
	default:
		a.queue = slices.DeleteFunc(a.queue, func(x *waiter) bool { return x == w })
		a.depth(-1)
		a.dispatch() // a head that did not fit may have been this one
	}
	return nil, err
}

func (a *admission) fits(cost int64) bool { return a.freeSlots > 0 && a.freePixels >= cost }

func (a *admission) take(client string, cost int64) {
	a.freeSlots--
	a.freePixels -= cost
	a.inflight[client]++
}

func (a *admission) put(client string, cost int64) {
	a.freeSlots++
	a.freePixels += cost
	if a.inflight[client]--; a.inflight[client] <= 0 {
		delete(a.inflight, client)
	}
}

func (a *admission) releaser(client string, cost int64) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.put(client, cost)
			a.dispatch()
		})
	}
}

// dispatch admits waiters while capacity allows, fairest first. Caller
// holds a.mu. The chosen waiter is never skipped for a smaller one (a big
// render would otherwise wait forever): it waits until it fits.
func (a *admission) dispatch() {
	for len(a.queue) > 0 && a.freeSlots > 0 {
		best := 0
		for i, w := range a.queue {
			if a.inflight[w.client] < a.inflight[a.queue[best].client] {
				best = i
			}
		}
		w := a.queue[best]
		if !a.fits(w.cost) {
			return
		}
		a.queue = slices.Delete(a.queue, best, best+1)
		a.depth(-1)
		a.take(w.client, w.cost)
		close(w.ready)
	}
}

// limits are the pipeline's bounds for work under ctx: --max-pixels for
// what is decoded and what is produced, and ctx's deadline.
func (s *Server) limits(ctx context.Context) pipeline.Limits {
	return pipeline.Limits{MaxPixels: s.cfg.MaxPixels, MaxOutputPixels: s.cfg.MaxPixels, Ctx: ctx}
}

// readmit compares what the probe of src says the render will hold with
// what was admitted from the metadata; when it is more, the render waits
// again for that much. The returned release replaces the given one.
func (s *Server) readmit(ctx context.Context, release func(), a *Asset, src []byte, chain grammar.Chain, format string) (func(), error) {
	info, err := codec.Probe(src)
	if err != nil {
		return release, nil // the render reports it
	}
	c := pipeline.Cost(info, chain, format)
	if c <= renderCost(a) {
		return release, nil
	}
	release()
	return s.admitWork(ctx, c)
}

// renderCost is what rendering asset a costs in decoded pixels: every
// frame of an animation may be decoded.
func renderCost(a *Asset) int64 {
	frames := int64(max(a.Pages, 1))
	if a.Format == "pdf" {
		frames = 1 // one page is rendered at a time
	}
	return int64(a.Width) * int64(a.Height) * frames
}

// clientKey carries, in a context, whom the work is for (see admission).
type clientKey struct{}

// forClient returns ctx naming the client its work is for.
func forClient(ctx context.Context, client string) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

// admitWork admits work of cost pixels for the client ctx names.
func (s *Server) admitWork(ctx context.Context, cost int64) (func(), error) {
	client, _ := ctx.Value(clientKey{}).(string)
	return s.admit.acquire(ctx, client, cost)
}

// renderContext bounds a delivery's work by RenderTimeout, and by the
// requesting edge's own deadline when it sent one.
func (s *Server) renderContext(parent context.Context, edgeDeadline []byte) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(s.cfg.RenderTimeout)
	if ms, err := strconv.ParseInt(string(edgeDeadline), 10, 64); err == nil {
		if d := time.UnixMilli(ms); d.Before(deadline) {
			deadline = d
		}
	}
	return context.WithDeadline(parent, deadline)
}
