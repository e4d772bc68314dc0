package app

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/edgepix/edgepix/internal/natsembed/natstest"
	"github.com/edgepix/edgepix/internal/purge"
	"github.com/edgepix/edgepix/origin"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// --nats-replicas reaches every bucket and stream an origin creates; a
// later origin asking for fewer keeps them (and says so), and one starts
// with a node of the cluster down.
func TestNATSReplicas(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	acct := origin.Account{Cloud: "demo", APIKey: "1", APISecret: "s"}
	startOrigin := func(replicas int, log *slog.Logger) {
		t.Helper()
		a, err := Start(Config{Mode: Origin, DataDir: t.TempDir(), OriginAddr: "127.0.0.1:0", NATSURL: c.URL(),
			NATSReplicas: replicas, DeriveToken: "tok", Accounts: []origin.Account{acct}}, log)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	startOrigin(3, slog.New(slog.DiscardHandler))

	nc, err := nats.Connect(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	want := []string{"KV_assets", "KV_tags", "KV_transformations", "KV_presets", "KV_batches", "KV_uploads",
		"KV_deliveries", "JOBS", "WEBHOOKS", purge.Stream}
	check := func() {
		t.Helper()
		var names []string
		for name := range js.StreamNames(context.Background()).Name() {
			names = append(names, name)
		}
		if len(names) != len(want) {
			t.Errorf("streams %v, want %v", names, want)
		}
		for _, name := range want {
			st, err := js.Stream(context.Background(), name)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			cfg := st.CachedInfo().Config
			if cfg.Replicas != 3 || (strings.HasPrefix(name, "KV_") && cfg.AllowDirect) {
				t.Errorf("%s: R%d, direct gets %v", name, cfg.Replicas, cfg.AllowDirect)
			}
		}
	}
	check()

	var logs syncBuffer
	startOrigin(1, slog.New(slog.NewJSONHandler(&logs, nil)))
	check()
	if n := strings.Count(logs.String(), "never scaled down"); n != len(want) {
		t.Errorf("%d of %d streams logged as kept at R3:\n%s", n, len(want), logs.String())
	}

	c.Stop(1)
	startOrigin(3, slog.New(slog.DiscardHandler))
}
