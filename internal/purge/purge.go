// Package purge carries purges from origins to edges through a JetStream
// stream: origins publish each purge and wait for the stream to take it
// (Publisher); each edge follows the stream from the last sequence its
// cache applied, and drops its whole cache when the stream no longer
// holds what it missed (Follower).
package purge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/edgepix/edgepix/internal/replicated"
	"github.com/nats-io/nats.go/jetstream"
)

// Subject is the subject purges are published on.
const Subject = "edgepix.purge"

// Stream is the JetStream stream that keeps purges.
const Stream = "PURGES"

// DefaultRetention is how long the stream keeps a purge when the origin
// sets none: an edge stopped for longer drops its whole cache at start.
const DefaultRetention = 7 * 24 * time.Hour

// Message names the asset whose cached deliveries edges must drop.
type Message struct {
	Cloud        string `json:"cloud"`
	ResourceType string `json:"resource_type"`
	Type         string `json:"type"`
	PublicID     string `json:"public_id"`
}

// EnsureStream creates the purge stream with replicas copies, or brings
// an existing one up to them (never down: a stream someone raised stays
// raised). maxAge, when positive, is set as the stream's retention (an
// origin's setting); zero keeps what the stream has (an edge), or
// DefaultRetention for a new stream.
func EnsureStream(ctx context.Context, js jetstream.JetStream, replicas int, maxAge time.Duration) (jetstream.Stream, error) {
	replicas = max(replicas, 1)
	for range 3 {
		s, err := replicated.Setup(ctx, func(ctx context.Context) (jetstream.Stream, error) { return js.Stream(ctx, Stream) })
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			age := maxAge
			if age <= 0 {
				age = DefaultRetention
			}
			s, err = replicated.Setup(ctx, func(ctx context.Context) (jetstream.Stream, error) {
				return js.CreateStream(ctx, jetstream.StreamConfig{Name: Stream, Subjects: []string{Subject},
					Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld,
					MaxAge: age, Duplicates: dedupWindow(age), Replicas: replicas})
			})
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				continue // another process created it meanwhile
			}
		}
		if err != nil {
			return nil, fmt.Errorf("purge stream: %w", err)
		}
		cfg := s.CachedInfo().Config
		changed := false
		if cfg.Replicas < replicas {
			cfg.Replicas, changed = replicas, true
		}
		if maxAge > 0 && cfg.MaxAge != maxAge {
			cfg.MaxAge, cfg.Duplicates, changed = maxAge, dedupWindow(maxAge), true
		}
		if !changed {
			return s, nil
		}
		if s, err = replicated.Setup(ctx, func(ctx context.Context) (jetstream.Stream, error) { return js.UpdateStream(ctx, cfg) }); err != nil {
			return nil, fmt.Errorf("purge stream: updating to %d replicas, %v: %w", cfg.Replicas, cfg.MaxAge, err)
		}
		return s, nil
	}
	return nil, errors.New("purge stream: created and deleted concurrently")
}

// dedupWindow is how long a retried publish is recognised (its message
// id): two minutes, within the stream's age.
func dedupWindow(age time.Duration) time.Duration { return min(2*time.Minute, age) }
