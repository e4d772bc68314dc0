package purge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// maxBatch bounds the purges applied together while catching up: an edge
// applies a batch with one scan of its key index.
const maxBatch = 1000

// Cache is what a Follower keeps in step with the stream: an edge cache.
type Cache interface {
	// Position is the sequence of the last purge applied; false when
	// unknown (a new or rebuilt cache, or one from before durable purges):
	// what it holds may predate purges it never saw.
	Position() (uint64, bool)
	// Apply drops what the purges name, then records seq as applied.
	Apply(seq uint64, ms []Message)
	// Reset drops everything, then records seq as applied: the purges
	// between the cache's position and seq are not known.
	Reset(seq uint64, why string)
	// CaughtUp says the cache has applied every purge the stream held
	// when following began.
	CaughtUp()
}

// Follower applies the purge stream to a cache: from the cache's
// position at start (the purges it missed while stopped), then each new
// purge as it comes. It keeps trying while NATS or the stream is away.
type Follower struct {
	js       jetstream.JetStream
	cache    Cache
	replicas int
	log      *slog.Logger
	cancel   context.CancelFunc
	done     chan struct{}

	ready    chan struct{} // closed once caught up
	mu       sync.Mutex
	cons     jetstream.Consumer // the current ordered consumer, nil while none
	err      error              // why following failed last, nil while following
	caughtUp bool               // with the current consumer
	wasReady bool               // ready is closed
}

// Follow starts following the purge stream for cache (creating the
// stream with replicas copies if no origin has yet).
func Follow(js jetstream.JetStream, cache Cache, replicas int, log *slog.Logger) *Follower {
	ctx, cancel := context.WithCancel(context.Background())
	f := &Follower{js: js, cache: cache, replicas: replicas, log: log, cancel: cancel, done: make(chan struct{}),
		ready: make(chan struct{}), err: errors.New("starting")}
	go f.run(ctx)
	return f
}

// Stop stops following and waits for the purge being applied, if any.
func (f *Follower) Stop() {
	f.cancel()
	<-f.done
}

// Ready is closed once the cache has caught up with the stream.
func (f *Follower) Ready() <-chan struct{} { return f.ready }

// Check reports whether the follower is live: caught up, with its
// consumer answering on the server.
func (f *Follower) Check(ctx context.Context) error {
	f.mu.Lock()
	cons, err, caughtUp := f.cons, f.err, f.caughtUp
	f.mu.Unlock()
	switch {
	case cons == nil && err != nil:
		return fmt.Errorf("not following: %w", err)
	case cons == nil:
		return errors.New("not following")
	case !caughtUp:
		return errors.New("catching up with the purges missed")
	}
	if _, err := cons.Info(ctx); err != nil {
		return fmt.Errorf("consumer not answering: %w", err)
	}
	return nil
}

func (f *Follower) run(ctx context.Context) {
	defer close(f.done)
	wait := time.Second
	for {
		err := f.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		f.mu.Lock()
		f.cons, f.err = nil, err
		f.mu.Unlock()
		f.log.Warn("following purges; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// follow finds where the cache stands in the stream, drops the cache if
// the stream no longer holds what it missed, then applies purges until
// an error or ctx ends.
func (f *Follower) follow(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := EnsureStream(sctx, f.js, f.replicas, 0)
	if err != nil {
		return err
	}
	info, err := s.Info(sctx)
	if err != nil {
		return fmt.Errorf("purge stream: %w", err)
	}
	st := info.State
	pos, known := f.cache.Position()
	switch {
	case !known:
		f.cache.Reset(st.LastSeq, "the cache has no position in the purge stream")
		pos = st.LastSeq
	case pos > st.LastSeq:
		f.cache.Reset(st.LastSeq, fmt.Sprintf("the purge stream ends at %d, before the cache's position %d (was it recreated?)", st.LastSeq, pos))
		pos = st.LastSeq
	case st.FirstSeq > pos+1:
		f.cache.Reset(st.LastSeq, fmt.Sprintf("purges %d to %d expired from the stream (older than %v) before this edge applied them", pos+1, st.FirstSeq-1, info.Config.MaxAge))
		pos = st.LastSeq
	}
	cons, err := s.OrderedConsumer(sctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{Subject},
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: pos + 1})
	if err != nil {
		return fmt.Errorf("purge consumer: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("purge consumer: %w", err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	f.mu.Lock()
	f.cons, f.err, f.caughtUp = cons, nil, false // a new consumer replays what was missed meanwhile
	f.mu.Unlock()
	if pos >= st.LastSeq {
		f.markCaughtUp()
	} else if ci := cons.CachedInfo(); ci != nil && ci.NumPending == 0 {
		// What it missed expired between the look at the stream and
		// the consumer's start: look again (and find the gap).
		return fmt.Errorf("purges %d to %d expired while following began", pos+1, st.LastSeq)
	}
	var batch []Message
	for {
		msg, err := it.Next()
		if err != nil {
			return fmt.Errorf("purge consumer: %w", err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("purge consumer: %w", err)
		}
		seq := md.Sequence.Stream
		if seq <= pos {
			continue // applied already
		}
		if seq > pos+1 {
			f.cache.Apply(pos, batch)
			batch = nil
			f.cache.Reset(seq-1, fmt.Sprintf("purges %d to %d expired from the stream before this edge applied them", pos+1, seq-1))
		}
		var m Message
		if err := json.Unmarshal(msg.Data(), &m); err != nil {
			f.log.Warn("bad purge message", "seq", seq, "err", err)
		} else {
			batch = append(batch, m)
		}
		pos = seq
		if md.NumPending == 0 || len(batch) >= maxBatch {
			f.cache.Apply(pos, batch)
			batch = nil
			if md.NumPending == 0 {
				f.markCaughtUp()
			}
		}
	}
}

func (f *Follower) markCaughtUp() {
	f.mu.Lock()
	first := !f.wasReady
	f.caughtUp, f.wasReady = true, true
	f.mu.Unlock()
	if first {
		f.cache.CaughtUp()
		close(f.ready)
	}
}
