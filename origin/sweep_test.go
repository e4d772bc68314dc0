package origin

import (
	"testing"
	"time"

	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/nats-io/nats.go/jetstream"
)

// storeFixture stores an image as an uploaded asset, as an upload would.
func (e *testEnv) storeFixture(t *testing.T, name, publicID string) *catalog.Asset {
	t.Helper()
	data := fixtures.Read(t, name)
	info, err := codec.Probe(data)
	if err != nil {
		t.Fatal(err)
	}
	a := &catalog.Asset{Cloud: "demo", ResourceType: "image", Type: "upload", PublicID: publicID, Version: 1,
		Format: string(info.Format), Width: info.Width, Height: info.Height, Pages: 1, Bytes: len(data), Tags: []string{}}
	a.BlobKey = originalKey(a)
	if err := e.writeBlob(bg, a.BlobKey, data); err != nil {
		t.Fatal(err)
	}
	if err := e.assets.Put(bg, a); err != nil {
		t.Fatal(err)
	}
	return a
}

// loseJob removes a batch's job from the stream, as a publication lost
// after its batch was stored (or a process dying between the two) would.
func (e *testEnv) loseJob(t *testing.T, b *catalog.Batch) {
	t.Helper()
	st, err := e.nats.JS.Stream(bg, "JOBS")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(bg, jetstream.WithPurgeSubject("JOBS."+b.Kind+"."+b.ID)); err != nil {
		t.Fatal(err)
	}
}

func (e *testEnv) queueEager(t *testing.T, a *catalog.Asset) *catalog.Batch {
	t.Helper()
	b := newBatch("demo", "eager", a.PublicID, 1)
	j := &job{Cloud: "demo", BatchID: b.ID, RT: "image", Type: "upload", PublicID: a.PublicID, Version: a.Version,
		Eager: []eagerSpec{{Chain: "c_scale,w_20"}}}
	if err := e.enqueue(bg, "eager", b, j); err != nil {
		t.Fatal(err)
	}
	return b
}

// counted is the sum of the counter name's series with a label value.
func (e *testEnv) counted(name, label string) float64 {
	mfs, _ := e.metrics.Registry.Gather()
	n := 0.0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if mf.GetName() == name && l.GetValue() == label {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

func (e *testEnv) batch(t *testing.T, id string) *catalog.Batch {
	t.Helper()
	b, ok, err := e.batches.Get(bg, "demo", id)
	if err != nil || !ok {
		t.Fatalf("batch %s: %v %v", id, ok, err)
	}
	return b
}

// A batch whose job was lost is queued again once it has been stuck for
// StuckBatchAge, once, and then completes; one whose job is lost every
// time fails after maxRequeues.
func TestRequeueStuckBatches(t *testing.T) {
	e := newTestEnv(t, Config{StuckBatchAge: time.Minute})
	a := e.storeFixture(t, "photo-snake-600x450-grayscale.jpg", "snake")
	b := e.queueEager(t, a)
	e.loseJob(t, b)
	if n, err := e.requeueStuck(bg, time.Now()); n != 0 || err != nil {
		t.Fatalf("a fresh batch was queued again: %d %v", n, err)
	}
	later := time.Now().Add(2 * time.Minute)
	if n, err := e.requeueStuck(bg, later); n != 1 || err != nil {
		t.Fatalf("stuck batch: requeued %d, %v", n, err)
	}
	if q, _ := e.jobs.Queued(bg, "eager", b.ID); !q {
		t.Fatal("the requeued job is not in the queue")
	}
	if n, _ := e.requeueStuck(bg, later); n != 0 {
		t.Fatal("a batch whose job is queued was queued again")
	}
	if n := e.counted("edgepix_jobs_total", "requeued"); n != 1 {
		t.Errorf("requeues counted: %v", n)
	}

	lost := e.queueEager(t, a)
	for i := range maxRequeues + 1 {
		if q, _ := e.jobs.Queued(bg, "eager", b.ID); !q && i > 0 {
			t.Fatal("the first batch's job went missing")
		}
		e.loseJob(t, lost)
		e.requeueStuck(bg, time.Now().Add(time.Duration(i+2)*time.Minute))
	}
	if got := e.batch(t, lost.ID); got.Status != catalog.BatchFailed || got.Requeues != maxRequeues {
		t.Fatalf("batch lost %d times: %s after %d requeues", maxRequeues+1, got.Status, got.Requeues)
	}

	e.work(t)
	for deadline := time.Now().Add(30 * time.Second); e.batch(t, b.ID).Status != catalog.BatchComplete; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the requeued batch did not complete: %+v", e.batch(t, b.ID))
		}
	}
	if open, _ := e.batches.Unfinished(bg); len(open) != 0 {
		t.Fatalf("unfinished batches left: %d", len(open))
	}
}
