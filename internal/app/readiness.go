package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/edgepix/edgepix/internal/health"
	"github.com/nats-io/nats.go"
)

// pinger is the blob store's health check (blob.Store's Ping).
type pinger interface{ Ping(context.Context) error }

// natsReplicas is the replica count of the streams created here (the
// purge stream), --nats-replicas as for every bucket and stream.
func (a *App) natsReplicas() int { return max(a.cfg.NATSReplicas, 1) }

// natsChecks: the connection is up, and JetStream answers.
func (a *App) natsChecks() []health.Check {
	return []health.Check{
		{Name: "nats", Run: func(context.Context) error {
			if st := a.nats.NC.Status(); st != nats.CONNECTED {
				return fmt.Errorf("not connected (%s)", strings.ToLower(st.String()))
			}
			return nil
		}},
		{Name: "jetstream", Run: func(ctx context.Context) error {
			if !a.nats.NC.IsConnected() {
				return errors.New("not reachable: nats not connected")
			}
			if _, err := a.nats.JS.AccountInfo(ctx); err != nil {
				return fmt.Errorf("not answering: %w", err)
			}
			return nil
		}},
	}
}

// originChecks are the origin's readiness: NATS and JetStream, the blob
// store, and no purge left owed.
func (a *App) originChecks() []health.Check {
	return append(a.natsChecks(),
		health.Check{Name: "blob", Run: func(ctx context.Context) error {
			if err := a.blobs.Ping(ctx); err != nil {
				return &health.Private{Public: "not answering", Err: err}
			}
			return nil
		}},
		health.Check{Name: "purges", Run: func(context.Context) error {
			if n := a.purges.Owed(); n > 0 {
				return fmt.Errorf("%d purges not yet taken by the purge stream", n)
			}
			return nil
		}})
}

// edgeChecks are the edge's readiness: an origin ready, and with NATS,
// NATS and JetStream and the purge follower live and caught up.
func (a *App) edgeChecks() []health.Check {
	checks := []health.Check{{Name: "origin", Run: a.edge.CheckOrigins}}
	if a.nats == nil {
		return checks
	}
	return append(append(checks, a.natsChecks()...), health.Check{Name: "purges", Run: func(ctx context.Context) error {
		if !a.nats.NC.IsConnected() {
			return errors.New("not following: nats not connected")
		}
		return a.follower.Check(ctx)
	}})
}

// allChecks are the checks of every server in the process, for the
// --metrics-addr listener's /readyz.
func (a *App) allChecks() []health.Check {
	var all []health.Check
	seen := map[string]bool{}
	add := func(prefix string, checks []health.Check) {
		for _, c := range checks {
			name := c.Name
			if name == "purges" || name == "origin" || name == "blob" {
				name = prefix + c.Name
			}
			if !seen[name] {
				seen[name] = true
				all = append(all, health.Check{Name: name, Run: c.Run})
			}
		}
	}
	if a.purges != nil {
		add("origin.", a.originChecks())
	}
	if a.edge != nil {
		add("edge.", a.edgeChecks())
	}
	return all
}
