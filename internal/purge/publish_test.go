package purge

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A purge is published once the stream has taken it; with NATS away it
// is owed, then taken when NATS is back (once: the retries carry one
// message id); a purge still owed at Close is reported lost.
func TestPublisherOwesWhatTheStreamDidNotTake(t *testing.T) {
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: filepath.Join(t.TempDir(), "js"),
		NoSigs: true, NoLog: true}
	var ns *server.Server
	start := func() {
		var err error
		if ns, err = server.NewServer(opts); err != nil {
			t.Fatal(err)
		}
		ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats did not start")
		}
		opts.Port = ns.Addr().(*net.TCPAddr).Port
	}
	stop := func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}
	start()
	defer func() { stop() }()
	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, err := EnsureStream(ctx, js, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	p := NewPublisher(js, slog.New(slog.NewTextHandler(io.Discard, nil)))
	p.retryFor = 500 * time.Millisecond
	msgs := func() uint64 {
		s, err := js.Stream(ctx, Stream)
		if err != nil {
			return 0
		}
		return s.CachedInfo().State.Msgs
	}
	if err := p.Publish(Message{Cloud: "demo", ResourceType: "image", Type: "upload", PublicID: "a"}); err != nil || msgs() != 1 {
		t.Fatalf("publish: %v, %d in the stream", err, msgs())
	}

	stop()
	if err := p.Publish(Message{Cloud: "demo", ResourceType: "image", Type: "upload", PublicID: "b"}); err == nil {
		t.Fatal("a purge published with NATS stopped was reported taken")
	}
	if p.Owed() != 1 {
		t.Fatalf("owed %d, want 1", p.Owed())
	}
	start()
	for deadline := time.Now().Add(20 * time.Second); p.Owed() > 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
	}
	if p.Owed() != 0 || msgs() != 2 {
		t.Fatalf("with NATS back: %d owed, %d in the stream; want 0 and 2", p.Owed(), msgs())
	}

	stop()
	p.Publish(Message{Cloud: "demo", ResourceType: "image", Type: "upload", PublicID: "c"})
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := p.Close(cctx); err == nil || !strings.Contains(err.Error(), "1 purges not taken") {
		t.Errorf("close with a purge owed: %v", err)
	}
	start()
}
