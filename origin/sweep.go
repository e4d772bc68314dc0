package origin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/edgepix/edgepix/blob"
	"github.com/edgepix/edgepix/catalog"
)

// maxRequeues bounds how often one batch is queued again: a batch whose
// job is lost every time (it can never run) fails.
const maxRequeues = 3

// Sweep runs until ctx ends: every half StuckBatchAge it queues stuck
// batches again, and every hour it removes the chunks of uploads
// abandoned for a day. Every origin sweeps; they agree through the
// catalog.
func (s *Server) Sweep(ctx context.Context) {
	t := time.NewTicker(s.cfg.StuckBatchAge / 2)
	defer t.Stop()
	var chunksSwept time.Time
	for {
		if time.Since(chunksSwept) >= time.Hour {
			s.sweepChunks(ctx)
			chunksSwept = time.Now()
		}
		if _, err := s.requeueStuck(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Warn("sweeping stuck batches", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepChunks removes the chunks of uploads abandoned for chunkTTL.
func (s *Server) sweepChunks(ctx context.Context) {
	for cloud := range s.accounts {
		if n, err := blob.DeleteStale(ctx, s.blobs, "chunks/"+cloud, time.Now().Add(-chunkTTL)); err != nil {
			s.log.Warn("sweeping abandoned chunks", "cloud", cloud, "err", err)
		} else if n > 0 {
			s.log.Info("removed abandoned chunked uploads", "cloud", cloud, "uploads", n)
		}
	}
}

// requeueStuck finds the batches still pending or processing, unchanged
// for StuckBatchAge (at now), whose job is not in the queue (lost: its
// publication failed after the batch was stored, or its process died
// between the two), and queues their job again, returning how many it
// queued. The batch record is the record of work owed: a conditional
// update makes one origin the one that queues it, and the message id
// keeps a retried publication single.
func (s *Server) requeueStuck(ctx context.Context, now time.Time) (int, error) {
	stuck, err := s.batches.Unfinished(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range stuck {
		if now.Sub(b.UpdatedAt) < s.cfg.StuckBatchAge || len(b.Job) == 0 {
			continue
		}
		queued, err := s.jobs.Queued(ctx, b.Kind, b.ID)
		if err != nil {
			return n, err
		}
		if queued {
			continue
		}
		if b.Requeues >= maxRequeues {
			s.failLost(ctx, b)
			continue
		}
		if err := s.batches.Requeue(ctx, b); errors.Is(err, catalog.ErrChanged) {
			continue // another origin queued it, or its job moved it on
		} else if err != nil {
			return n, err
		}
		if err := s.jobs.Enqueue(ctx, b.Kind, b.ID, b.Job, fmt.Sprintf("%s-r%d", b.ID, b.Requeues)); err != nil {
			return n, err // queued again on the next sweep
		}
		s.metrics.Jobs.WithLabelValues(b.Kind, "requeued").Inc()
		s.log.Warn("queued the job of a stuck batch again", "batch", b.ID, "kind", b.Kind, "cloud", b.Cloud,
			"status", b.Status, "requeues", b.Requeues)
		n++
	}
	return n, nil
}

// failLost fails a batch whose job was lost maxRequeues times, with the
// notification it owes.
func (s *Server) failLost(ctx context.Context, b *catalog.Batch) {
	var j job
	if err := json.Unmarshal(b.Job, &j); err != nil {
		s.log.Error("undecodable job of a stuck batch", "batch", b.ID, "err", err)
	}
	msg := fmt.Sprintf("the batch's job was lost %d times", b.Requeues+1)
	b.Status, b.Errors = catalog.BatchFailed, append(b.Errors, msg)
	var n *catalog.Notice
	if j.Notify != "" {
		n = &catalog.Notice{URL: j.Notify, Type: b.Kind, ID: deliveryID(b.ID, b.Kind), Payload: map[string]any{
			"status": "failed", "error": map[string]string{"message": msg}, "public_id": j.PublicID}}
	}
	s.metrics.Jobs.WithLabelValues(b.Kind, "failed").Inc()
	if err := s.finish(ctx, s.accounts[b.Cloud], b, n); err != nil {
		s.log.Warn("failing a stuck batch", "batch", b.ID, "err", err)
	}
}
