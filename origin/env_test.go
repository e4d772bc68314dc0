package origin

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgepix/edgepix/blob"
	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/internal/natsembed"
	"github.com/edgepix/edgepix/jobs"
	"github.com/edgepix/edgepix/notify"
)

var testAccount = Account{Cloud: "demo", APIKey: "k", APISecret: "s"}

// testEnv is an origin over real stores: an embedded NATS (catalog, job
// queue, notifier) and a file blob store.
type testEnv struct {
	*Server
	nats  *natsembed.Conn
	blobs blob.Store
	queue *jobs.Queue
}

func newTestEnv(t *testing.T, cfg Config) *testEnv {
	t.Helper()
	nc, err := natsembed.Start("", filepath.Join(t.TempDir(), "nats"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	cat, err := catalog.Open(ctx, nc.JS, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := jobs.Open(ctx, nc.JS, jobs.Config{Name: "JOBS", AckWait: 15 * time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	secrets := func(string) (string, bool, bool) { return testAccount.APISecret, false, true }
	n, err := notify.New(ctx, nc.JS, notify.Config{AllowPrivate: true}, secrets, log)
	if err != nil {
		t.Fatal(err)
	}
	s := New(cfg, []Account{testAccount}, Deps{Catalog: cat, Blobs: blobs, Jobs: q, Notifier: n}, log)
	return &testEnv{Server: s, nats: nc, blobs: blobs, queue: q}
}

// work runs the job queue's workers until the test ends.
func (e *testEnv) work(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	e.queue.Run(ctx, 2, e.RunJob)
	t.Cleanup(func() { cancel(); e.queue.Wait() })
}
