// Package jobs is a durable work queue on a NATS JetStream work-queue
// stream: jobs survive a crash of the process (an unacknowledged job comes
// back after its ack wait), are retried with a delay the handler chooses,
// and are shared by every process consuming the same stream.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/edgepix/edgepix/internal/replicated"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Queue is one work-queue stream and its shared durable consumer.
type Queue struct {
	name    string
	js      jetstream.JetStream
	stream  jetstream.Stream
	cons    jetstream.Consumer
	ackWait time.Duration
	log     *slog.Logger
	wg      sync.WaitGroup
	stop    chan struct{} // closed by Stop
	once    sync.Once
}

// Config names the stream and says how long a job may run between
// heartbeats before another worker may take it.
type Config struct {
	Name    string // stream name; subjects are Name.kind[.key]
	AckWait time.Duration
	// Replicas is the least number of copies of the stream (1 embedded,
	// 3 on a cluster); a stream that has more keeps them.
	Replicas int
}

// Open creates (or updates) the stream and its consumer.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config, log *slog.Logger) (*Queue, error) {
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	stream, err := replicated.Stream(ctx, js, jetstream.StreamConfig{
		Name: cfg.Name, Subjects: []string{cfg.Name + ".>"}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, Replicas: cfg.Replicas, Duplicates: 10 * time.Minute,
	}, log)
	if err != nil {
		return nil, err
	}
	cons, err := replicated.Setup(ctx, func(ctx context.Context) (jetstream.Consumer, error) {
		return js.CreateOrUpdateConsumer(ctx, cfg.Name, jetstream.ConsumerConfig{
			Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy, AckWait: cfg.AckWait,
			MaxDeliver: -1, MaxAckPending: 10000,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", cfg.Name, err)
	}
	return &Queue{name: cfg.Name, js: js, stream: stream, cons: cons, ackWait: cfg.AckWait, log: log, stop: make(chan struct{})}, nil
}

// Enqueue adds a job of kind. key, when not empty, names the job so that
// Queued can find it (letters, digits, '-' and '_'); a non-empty msgID
// makes the publish idempotent: the same msgID within ten minutes is
// stored once.
func (q *Queue) Enqueue(ctx context.Context, kind, key string, data []byte, msgID string) error {
	subj, err := q.subject(kind, key)
	if err != nil {
		return err
	}
	msg := nats.NewMsg(subj)
	msg.Data = data
	if msgID != "" {
		msg.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	_, err = q.js.PublishMsg(ctx, msg)
	return err
}

// Queued reports whether a job of kind under key is in the queue: waiting,
// running, or waiting to be retried. It asks the stream's leader.
func (q *Queue) Queued(ctx context.Context, kind, key string) (bool, error) {
	subj, err := q.subject(kind, key)
	if err != nil {
		return false, err
	}
	_, err = q.stream.GetLastMsgForSubject(ctx, subj)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil
	}
	return err == nil, err
}

// subject is Name.kind, or Name.kind.key.
func (q *Queue) subject(kind, key string) (string, error) {
	if !token(kind) || (key != "" && !token(key)) {
		return "", fmt.Errorf("jobs: kind %q or key %q is not a subject token", kind, key)
	}
	if key == "" {
		return q.name + "." + kind, nil
	}
	return q.name + "." + kind + "." + key, nil
}

// token reports whether s is made of letters, digits, '-' and '_'.
func token(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Job is one delivery of a job to a handler.
type Job struct {
	Kind    string // the subject's token after the stream name
	Key     string // the key it was queued under, if any
	Data    []byte
	Attempt int // 1 on the first delivery
}

// RetryError asks for the job again after a delay.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string { return fmt.Sprintf("retry in %v: %v", e.After, e.Err) }
func (e *RetryError) Unwrap() error { return e.Err }

// Handler runs a job: nil acknowledges it, a *RetryError brings it back
// after the delay, any other error drops it for good (the handler records
// why before returning).
type Handler func(ctx context.Context, j Job) error

// Run starts workers goroutines that take jobs until ctx ends or Stop is
// called; Wait returns when they have finished their current jobs. When
// ctx ends, running jobs see it and are handed back (nacked).
func (q *Queue) Run(ctx context.Context, workers int, h Handler) {
	for range workers {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			for ctx.Err() == nil && !q.stopped() {
				batch, err := q.cons.Fetch(1, jetstream.FetchMaxWait(250*time.Millisecond))
				if err != nil {
					if ctx.Err() == nil && !errors.Is(err, nats.ErrConnectionClosed) {
						q.log.Warn("fetching jobs", "queue", q.name, "err", err)
						sleep(ctx, q.stop, time.Second)
					}
					continue
				}
				for msg := range batch.Messages() {
					if q.stopped() {
						msg.Nak() // fetched as Stop came: another worker takes it
						continue
					}
					q.handle(ctx, msg, h)
				}
			}
		}()
	}
}

// Stop makes the workers take no new job; those running go on until they
// finish or Run's ctx ends.
func (q *Queue) Stop() { q.once.Do(func() { close(q.stop) }) }

func (q *Queue) stopped() bool {
	select {
	case <-q.stop:
		return true
	default:
		return false
	}
}

// Wait blocks until every worker has stopped.
func (q *Queue) Wait() { q.wg.Wait() }

func (q *Queue) handle(ctx context.Context, msg jetstream.Msg, h Handler) {
	attempt := 1
	if md, err := msg.Metadata(); err == nil {
		attempt = int(md.NumDelivered)
	}
	// Heartbeats keep a long job ours; a crash stops them and the job
	// returns to the queue after the ack wait.
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(q.ackWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				msg.InProgress()
			}
		}
	}()
	kind, key, _ := strings.Cut(msg.Subject()[len(q.name)+1:], ".")
	err := safeRun(ctx, h, Job{Kind: kind, Key: key, Data: msg.Data(), Attempt: attempt})
	close(done)
	var retry *RetryError
	switch {
	case err == nil:
		actx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = msg.DoubleAck(actx)
		cancel()
	case ctx.Err() != nil:
		err = msg.Nak() // shutting down: let another worker take it now
	case errors.As(err, &retry):
		err = msg.NakWithDelay(retry.After)
	default:
		q.log.Error("job failed for good", "queue", q.name, "kind", msg.Subject(), "err", err)
		err = msg.Term()
	}
	if err != nil && ctx.Err() == nil {
		q.log.Warn("acknowledging job", "queue", q.name, "err", err)
	}
}

// safeRun turns a handler panic into a permanent failure.
func safeRun(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job panicked: %v", r)
		}
	}()
	return h(ctx, j)
}

func sleep(ctx context.Context, stop <-chan struct{}, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-stop:
	case <-time.After(d):
	}
}
