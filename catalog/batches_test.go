package catalog

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Batches are listed as unfinished until they finish; of two origins
// requeueing one stuck batch, one wins.
func TestBatches(t *testing.T) {
	backends(t, func(t *testing.T, w, r jetstream.JetStream, o Options) {
		ws, rs := open(t, w, o).Batches, open(t, r, o).Batches
		now := time.Now().UTC()
		mk := func(id, kind string) *Batch {
			b := &Batch{ID: id, Cloud: "demo", Kind: kind, Status: BatchPending, CreatedAt: now, Job: []byte(`{"x":1}`)}
			now = now.Add(time.Second)
			if err := ws.Create(bg, b); err != nil {
				t.Fatal(err)
			}
			return b
		}
		b1, b2 := mk("b1", "eager"), mk("b2", "upload")
		open, err := rs.Unfinished(bg)
		if err != nil || len(open) != 2 || open[0].ID != "b1" || string(open[1].Job) != `{"x":1}` {
			t.Fatalf("unfinished: %v %v", open, err)
		}
		b1.Status = BatchProcessing
		ws.Put(bg, b1)
		b2.Status = BatchFailed
		ws.Put(bg, b2)
		if open, _ = rs.Unfinished(bg); len(open) != 1 || open[0].ID != "b1" || open[0].Status != BatchProcessing {
			t.Fatalf("unfinished after b2 failed: %v", open)
		}
		// The index entry of b2 is dropped once; later sweeps write nothing.
		last := func() uint64 {
			st, err := w.Stream(bg, "KV_batches")
			if err != nil {
				t.Fatal(err)
			}
			info, err := st.Info(bg)
			if err != nil {
				t.Fatal(err)
			}
			return info.State.LastSeq
		}
		before := last()
		for range 3 {
			rs.Unfinished(bg)
		}
		if after := last(); after != before {
			t.Fatalf("sweeps of nothing new wrote %d messages", after-before)
		}
		if list, _ := rs.List(bg, "demo", BatchFailed, "", 10); len(list) != 1 || list[0].ID != "b2" {
			t.Fatalf("failed batches: %v", list)
		}
		if list, _ := rs.List(bg, "demo", "", "eager", 10); len(list) != 1 || list[0].ID != "b1" {
			t.Fatalf("eager batches: %v", list)
		}
		if _, ok, err := rs.Get(bg, "demo", "bad.id"); ok || err != nil {
			t.Fatalf("invalid id: %v %v", ok, err)
		}
		// Two origins read the stuck batch; the first requeue wins.
		x, _, _ := rs.Get(bg, "demo", "b1")
		y, _, _ := ws.Get(bg, "demo", "b1")
		if err := rs.Requeue(bg, x); err != nil || x.Requeues != 1 {
			t.Fatalf("first requeue: %v, %d", err, x.Requeues)
		}
		if err := ws.Requeue(bg, y); !errors.Is(err, ErrChanged) {
			t.Fatalf("second requeue: %v", err)
		}
		if err := rs.Requeue(bg, x); err != nil || x.Requeues != 2 {
			t.Fatalf("requeue of the batch as written: %v", err)
		}
		if err := ws.Delete(bg, "demo", "b1"); err != nil {
			t.Fatal(err)
		}
		if open, _ = rs.Unfinished(bg); len(open) != 0 {
			t.Fatalf("a deleted batch is unfinished: %v", open)
		}
	})
}
