// Package replicated creates the JetStream key-value buckets and streams
// edgepix keeps its state in, with the replica count an operator asks for
// (--nats-replicas), and makes their reads safe on a cluster.
//
// A bucket or stream that exists already is raised to the asked count,
// never lowered: one an operator raised by hand (or an origin with a
// higher --nats-replicas created) keeps its copies, and the mismatch is
// logged. Key-value buckets are set to answer reads from their stream
// leader only (no direct gets): a direct get may be answered by a
// follower that has not yet applied the latest write, so an origin could
// miss an asset another origin has just stored.
package replicated

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// OpTimeout bounds each operation of a Bucket: NATS buffers requests
// while it reconnects, and a store that does not answer within it is
// taken as unavailable rather than waited for (a client reconnects to
// another node of a cluster well within it).
const OpTimeout = 5 * time.Second

// Setup runs one JetStream API call that sets something up (looks up,
// creates or updates a stream, bucket or consumer), each attempt within
// OpTimeout, and runs it again while ctx allows when it went unanswered
// or JetStream said it was briefly unavailable. A NATS server that knows
// no JetStream meta leader (during an election, as after a node of the
// cluster restarts) drops such a request without an answer: sent then
// and not retried, it would wait for the whole of ctx (an origin
// starting beside a restarted node failed after 30 s although the
// cluster had a leader again within seconds).
func Setup[T any](ctx context.Context, call func(context.Context) (T, error)) (T, error) {
	wait := 100 * time.Millisecond
	for {
		actx, cancel := bound(ctx)
		v, err := call(actx)
		cancel()
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// retryable reports whether a setup call's error says JetStream did not
// answer (yet), rather than something about the request.
func retryable(err error) bool {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout), errors.Is(err, nats.ErrNoResponders):
		return true
	case errors.As(err, &apiErr):
		return apiErr.Code == 503 // JetStream temporarily unavailable: no meta leader
	}
	return false
}

// Bucket is a key-value bucket whose reads, listings included, are
// answered by its stream leader, each operation within OpTimeout.
type Bucket struct {
	kv     jetstream.KeyValue
	stream jetstream.Stream
	prefix string // of the bucket's subjects
}

func bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, OpTimeout)
}

// Get returns the latest value of key.
func (b *Bucket) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return b.kv.Get(ctx, key)
}

// Put stores value under key and returns its revision.
func (b *Bucket) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return b.kv.Put(ctx, key, value)
}

// Create stores value under key unless the key has a value
// (jetstream.ErrKeyExists).
func (b *Bucket) Create(ctx context.Context, key string, value []byte) (uint64, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return b.kv.Create(ctx, key, value)
}

// Update stores value under key if its latest revision is last
// (otherwise jetstream.ErrKeyExists).
func (b *Bucket) Update(ctx context.Context, key string, value []byte, last uint64) (uint64, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	return b.kv.Update(ctx, key, value, last)
}

// Delete removes key; a missing key is not an error.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	return b.kv.Delete(ctx, key)
}

// KeysMatching returns the keys matching filter (with KV wildcards),
// sorted, as the leader has them: a key just written is there. Deleted
// keys may be listed too (their delete markers hold the subject): callers
// get each.
func (b *Bucket) KeysMatching(ctx context.Context, filter string) ([]string, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	info, err := b.stream.Info(ctx, jetstream.WithSubjectFilter(b.prefix+filter))
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		keys = append(keys, strings.TrimPrefix(subj, b.prefix))
	}
	slices.Sort(keys)
	return keys, nil
}

// KeyValue opens the bucket cfg names, creating it or updating its
// configuration, with at least cfg.Replicas copies (at least 1), reads
// served by the leader.
func KeyValue(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, log *slog.Logger) (*Bucket, error) {
	stream := "KV_" + cfg.Bucket
	n, err := replicas(ctx, js, stream, cfg.Replicas, log)
	if err != nil {
		return nil, err
	}
	cfg.Replicas = n
	if _, err := Setup(ctx, func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, cfg)
	}); err != nil {
		return nil, fmt.Errorf("bucket %s: %w", cfg.Bucket, err)
	}
	// The client creates buckets with direct gets allowed; turn them off
	// so that every get goes to the leader.
	st, err := Setup(ctx, func(ctx context.Context) (jetstream.Stream, error) { return js.Stream(ctx, stream) })
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", cfg.Bucket, err)
	}
	if sc := st.CachedInfo().Config; sc.AllowDirect {
		sc.AllowDirect = false
		if st, err = Setup(ctx, func(ctx context.Context) (jetstream.Stream, error) { return js.UpdateStream(ctx, sc) }); err != nil {
			return nil, fmt.Errorf("bucket %s: leader reads: %w", cfg.Bucket, err)
		}
	}
	// Bound after the update, the handle reads through the leader.
	kv, err := Setup(ctx, func(ctx context.Context) (jetstream.KeyValue, error) { return js.KeyValue(ctx, cfg.Bucket) })
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", cfg.Bucket, err)
	}
	return &Bucket{kv: kv, stream: st, prefix: "$KV." + cfg.Bucket + "."}, nil
}

// Stream creates or updates the stream cfg describes, with at least
// cfg.Replicas copies (at least 1).
func Stream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, log *slog.Logger) (jetstream.Stream, error) {
	n, err := replicas(ctx, js, cfg.Name, cfg.Replicas, log)
	if err != nil {
		return nil, err
	}
	cfg.Replicas = n
	st, err := Setup(ctx, func(ctx context.Context) (jetstream.Stream, error) { return js.CreateOrUpdateStream(ctx, cfg) })
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", cfg.Name, err)
	}
	return st, nil
}

// replicas is the count stream should have: want (at least 1), or more if
// it has more already.
func replicas(ctx context.Context, js jetstream.JetStream, stream string, want int, log *slog.Logger) (int, error) {
	want = max(want, 1)
	st, err := Setup(ctx, func(ctx context.Context) (jetstream.Stream, error) { return js.Stream(ctx, stream) })
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return want, nil
	}
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", stream, err)
	}
	have := max(st.CachedInfo().Config.Replicas, 1)
	switch {
	case have > want:
		log.Warn("keeping the replicas a stream has: it is never scaled down", "stream", stream,
			"replicas", have, "nats_replicas", want)
		return have, nil
	case have < want:
		log.Info("raising the replicas of a stream", "stream", stream, "from", have, "to", want)
	}
	return want, nil
}
