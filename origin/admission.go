package origin

import (
	"context"

	"github.com/edgepix/edgepix/catalog"
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
// Clients share it fairly. One client (an edge's client address within a
// cloud, a cloud's API work, a cloud's background jobs) holds at most half
// the slots, so the others always find capacity however long its renders
// run; and when capacity frees, the waiter whose client has the least
// work in flight goes first, the oldest among equals. Slots outnumber
// cores (the pixel budget, not the slot count, bounds memory): a short
// render then shares the CPU with long ones instead of queueing behind
// them. A waiter is refused with errBusy beyond QueueLimit waiters or
// after QueueWait; its own context ending (deadline, or shutdown) ends
// the wait too.
type admission struct {
	mu         sync.Mutex
	freeSlots  int
	perClient  int // slots one client may hold
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
	since  time.Time
	ready  chan struct{} // closed when admitted
}

func newAdmission(workers int, budget int64, queueLimit int, wait time.Duration, depth func(float64)) *admission {
	return &admission{freeSlots: workers, perClient: max(workers/2, 1), freePixels: budget, budget: budget,
		inflight: map[string]int{}, queueLimit: queueLimit, wait: wait, depth: depth}
}

// acquire admits work of cost pixels for client and returns its release.
func (a *admission) acquire(ctx context.Context, client string, cost int64) (func(), error) {
	cost = min(max(cost, 1), a.budget)
	a.mu.Lock()
	if len(a.queue) == 0 && a.fits(cost) && a.inflight[client] < a.perClient {
		a.take(client, cost)
		a.mu.Unlock()
		return a.releaser(client, cost), nil
	}
	if len(a.queue) >= a.queueLimit {
		a.mu.Unlock()
		return nil, errBusy
	}
	w := &waiter{client: client, cost: cost, since: time.Now(), ready: make(chan struct{})}
	a.queue = append(a.queue, w)
	a.depth(1)
	a.dispatch() // capacity the waiters ahead cannot use (their clients at their share) may fit this one
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

// dispatch admits waiters while capacity allows (see next). Caller holds
// a.mu.
func (a *admission) dispatch() {
	for a.freeSlots > 0 {
		best := a.next()
		if best < 0 {
			return
		}
		w := a.queue[best]
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

// readmit probes src, the file of a read under the admission release
// holds: a render the limits refuse fails at once (it never waits for
// capacity it would not use); otherwise, when what the render will hold
// (pipeline.Cost: a reduced decode, the frames, the codecs' working
// memory) is more than was admitted, it waits again for that much. The
// returned release replaces the given one.
func (s *Server) readmit(ctx context.Context, release func(), a *catalog.Asset, src []byte, chain grammar.Chain, format string) (func(), error) {
	info, err := codec.Probe(src)
	if err != nil {
		return release, nil // the render reports it
	}
	if err := pipeline.Check(info, chain, format, s.limits(ctx)); err != nil {
		return release, err
	}
	c := fileCost(a) + pipeline.Cost(info, chain, format)
	if c <= fileCost(a) {
		return release, nil
	}
	release()
	r, err := s.admitWork(ctx, c)
	if err != nil {
		return func() {}, err // the caller's deferred release must not be nil
	}
	return r, nil
}

// fileCost is an asset's file in budget pixels (4 bytes): what reading
// it holds.
func fileCost(a *catalog.Asset) int64 { return int64(a.Bytes)/4 + 1 }

// next picks the waiter to admit, or -1: among those whose client is
// under its share and whose cost fits, the one whose client has the least
// in flight, the oldest among equals. A waiter too big for what is free is
// passed over (small work keeps flowing beside a big render) until it has
// waited half the queue wait: then nothing else is admitted, so capacity
// drains for it and it does not starve.
func (a *admission) next() int {
	best := -1
	for i, w := range a.queue {
		n := a.inflight[w.client]
		switch {
		case n >= a.perClient:
		case !a.fits(w.cost):
			if time.Since(w.since) > a.wait/2 {
				return -1
			}
		case best < 0 || n < a.inflight[a.queue[best].client]:
			best = i
		}
	}
	return best
}

// renderCost is what rendering asset a may cost in decoded pixels, from
// its metadata: every frame at full size.
func renderCost(a *catalog.Asset) int64 {
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
