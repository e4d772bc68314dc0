package purge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Publish timing: one attempt waits attemptTimeout for the stream's
// acknowledgement; a call retries for RetryFor in all (an R3 stream
// elects a new leader within that), then owes the purge.
const (
	attemptTimeout = 3 * time.Second
	RetryFor       = 10 * time.Second
)

// Publisher publishes purges and waits until the stream has taken each
// (JetStream's acknowledgement). A purge the stream does not take within
// RetryFor is owed: retried in the background, with the same message id
// (so a publish whose acknowledgement was lost is not stored twice),
// until the stream takes it or the process stops.
type Publisher struct {
	js       jetstream.JetStream
	log      *slog.Logger
	retryFor time.Duration
	mu       sync.Mutex
	owed     []pending
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

type pending struct {
	id   string
	data []byte
	m    Message
}

// NewPublisher returns a publisher on js and starts its background retries.
func NewPublisher(js jetstream.JetStream, log *slog.Logger) *Publisher {
	p := &Publisher{js: js, log: log, retryFor: RetryFor, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

// Publish sends m and returns once the stream has taken it, or after
// RetryFor with the last error: m is then owed and retried in the
// background (Owed counts it).
func (p *Publisher) Publish(m Message) error {
	data, _ := json.Marshal(m)
	b := make([]byte, 12)
	rand.Read(b)
	pm := pending{id: hex.EncodeToString(b), data: data, m: m}
	ctx, cancel := context.WithTimeout(context.Background(), p.retryFor)
	defer cancel()
	err := p.send(ctx, pm)
	for wait := 50 * time.Millisecond; err != nil && ctx.Err() == nil; wait = min(2*wait, time.Second) {
		select {
		case <-ctx.Done():
		case <-p.stop:
			cancel()
		case <-time.After(wait):
			err = p.send(ctx, pm)
		}
	}
	if err == nil {
		return nil
	}
	p.mu.Lock()
	p.owed = append(p.owed, pm)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	p.log.Error("purge not taken by the stream; retrying in the background", "public_id", m.PublicID, "cloud", m.Cloud, "err", err)
	return fmt.Errorf("purge of %s not taken by the stream: %w", m.PublicID, err)
}

// send makes one attempt.
func (p *Publisher) send(ctx context.Context, pm pending) error {
	ctx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	_, err := p.js.Publish(ctx, Subject, pm.data, jetstream.WithMsgID(pm.id), jetstream.WithExpectStream(Stream))
	return err
}

// Owed is the number of purges not taken by the stream yet.
func (p *Publisher) Owed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.owed)
}

// run retries owed purges, 1 s apart growing to 10 s while they fail.
func (p *Publisher) run() {
	defer close(p.done)
	wait := time.Second
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.wake:
		case <-t.C:
		}
		if p.flush(context.Background()) {
			wait = time.Second
		} else {
			wait = min(2*wait, 10*time.Second)
		}
		t.Reset(wait)
	}
}

// flush tries each owed purge once, in order, and reports whether none
// is left.
func (p *Publisher) flush(ctx context.Context) bool {
	p.mu.Lock()
	owed := append([]pending(nil), p.owed...)
	p.mu.Unlock()
	if len(owed) == 0 {
		return true
	}
	taken := map[string]bool{}
	for _, pm := range owed {
		if p.send(ctx, pm) != nil {
			break // the stream is still away: keep the rest for the next round
		}
		taken[pm.id] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	left := p.owed[:0]
	for _, pm := range p.owed {
		if !taken[pm.id] {
			left = append(left, pm)
		}
	}
	p.owed = left
	if len(taken) > 0 {
		p.log.Info("owed purges taken by the stream", "taken", len(taken), "left", len(left))
	}
	return len(left) == 0
}

// Close stops the retries after one last attempt, bounded by ctx; a
// purge still owed then is lost (logged, and in the error): edges may
// serve that asset's cached deliveries until they evict them.
func (p *Publisher) Close(ctx context.Context) error {
	p.once.Do(func() { close(p.stop) })
	<-p.done
	if p.flush(ctx) {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pm := range p.owed {
		p.log.Error("purge lost: the stream did not take it before shutdown", "cloud", pm.m.Cloud,
			"resource_type", pm.m.ResourceType, "type", pm.m.Type, "public_id", pm.m.PublicID)
	}
	return fmt.Errorf("%d purges not taken by the stream", len(p.owed))
}
