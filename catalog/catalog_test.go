package catalog

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/natsembed"
	"github.com/edgepix/edgepix/internal/natsembed/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// backends runs a test against the embedded server (R1) and against a
// three-node cluster with R3 buckets, each store opened through a
// connection to a different node than the one that checks it.
func backends(t *testing.T, test func(t *testing.T, write, read jetstream.JetStream, o Options)) {
	t.Run("embedded", func(t *testing.T) {
		c, err := natsembed.Start("", filepath.Join(t.TempDir(), "nats"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		test(t, c.JS, c.JS, Options{Replicas: 1})
	})
	t.Run("cluster-R3", func(t *testing.T) {
		c := natstest.StartCluster(t, 3)
		test(t, connect(t, c.NodeURL(0)), connect(t, c.NodeURL(2)), Options{Replicas: 3})
	})
}

func connect(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func open(t *testing.T, js jetstream.JetStream, o Options) *Catalog {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o.Log = slog.New(slog.DiscardHandler)
	c, err := Open(ctx, js, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var bg = context.Background()
