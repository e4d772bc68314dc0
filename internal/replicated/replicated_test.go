package replicated

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/natsembed/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

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

func streamReplicas(t *testing.T, js jetstream.JetStream, name string) jetstream.StreamConfig {
	t.Helper()
	st, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().Config
}

// A bucket is raised to the asked replicas, never lowered (the mismatch
// is logged), keeps its data, and reads through its leader.
func TestKeyValueReplicas(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	js := connect(t, c.URL())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	kv, err := KeyValue(ctx, js, jetstream.KeyValueConfig{Bucket: "things", History: 1}, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if sc := streamReplicas(t, js, "KV_things"); sc.Replicas != 1 || sc.AllowDirect {
		t.Fatalf("new bucket: R%d, direct gets %v", sc.Replicas, sc.AllowDirect)
	}
	if _, err := KeyValue(ctx, js, jetstream.KeyValueConfig{Bucket: "things", History: 1, Replicas: 3}, log); err != nil {
		t.Fatal(err)
	}
	if sc := streamReplicas(t, js, "KV_things"); sc.Replicas != 3 || sc.AllowDirect {
		t.Fatalf("raised bucket: R%d, direct gets %v", sc.Replicas, sc.AllowDirect)
	}
	logs.Reset()
	kv, err = KeyValue(ctx, js, jetstream.KeyValueConfig{Bucket: "things", History: 1, Replicas: 1}, log)
	if err != nil {
		t.Fatal(err)
	}
	if sc := streamReplicas(t, js, "KV_things"); sc.Replicas != 3 {
		t.Fatalf("a start with one replica scaled the bucket down to R%d", sc.Replicas)
	}
	if !strings.Contains(logs.String(), "never scaled down") || !strings.Contains(logs.String(), "KV_things") {
		t.Errorf("keeping R3 was not logged: %s", logs.String())
	}
	if e, err := kv.Get(ctx, "a"); err != nil || string(e.Value()) != "1" {
		t.Fatalf("value after the changes: %v", err)
	}
}

// Streams follow the same rule.
func TestStreamReplicas(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	js := connect(t, c.URL())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	cfg := jetstream.StreamConfig{Name: "WORK", Subjects: []string{"WORK.>"}, Replicas: 3}
	if _, err := Stream(ctx, js, cfg, log); err != nil {
		t.Fatal(err)
	}
	cfg.Replicas = 0
	if _, err := Stream(ctx, js, cfg, log); err != nil {
		t.Fatal(err)
	}
	if sc := streamReplicas(t, js, "WORK"); sc.Replicas != 3 {
		t.Fatalf("stream scaled down to R%d", sc.Replicas)
	}
}

// On R3, a value written through one node is read back through every
// node at once.
func TestReadAfterWriteR3(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	var kvs []*Bucket
	for i := range 3 {
		kv, err := KeyValue(ctx, connect(t, c.NodeURL(i)), jetstream.KeyValueConfig{Bucket: "raw", History: 1, Replicas: 3}, log)
		if err != nil {
			t.Fatal(err)
		}
		kvs = append(kvs, kv)
	}
	for i := range 200 {
		v := []byte(fmt.Sprint(i))
		if _, err := kvs[i%3].Put(ctx, "k", v); err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("new.%d", i)
		if _, err := kvs[i%3].Put(ctx, key, nil); err != nil {
			t.Fatal(err)
		}
		for j, kv := range kvs {
			if e, err := kv.Get(ctx, "k"); err != nil || !bytes.Equal(e.Value(), v) {
				t.Fatalf("write %d through node %d, read through node %d: %v", i, i%3, j, err)
			}
			if keys, err := kv.KeysMatching(ctx, "new.*"); err != nil || len(keys) != i+1 {
				t.Fatalf("key %d written through node %d, listed through node %d: %d keys, %v", i, i%3, j, len(keys), err)
			}
		}
	}
}

// A single server cannot hold more than one replica: asking is an error,
// not a silent R1.
func TestReplicasBeyondTheServers(t *testing.T) {
	c := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := KeyValue(ctx, connect(t, c.URL()), jetstream.KeyValueConfig{Bucket: "x", Replicas: 3},
		slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	if err == nil {
		t.Fatal("R3 on one server was accepted")
	}
}

// A setup call that goes unanswered (a server without a meta leader
// drops it) or that JetStream answers with 503 is tried again, each
// attempt bounded, while the caller's context allows; an error about
// the request itself is returned at once.
func TestSetupRetriesUnansweredCalls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	calls := 0
	v, err := Setup(ctx, func(actx context.Context) (int, error) {
		calls++
		switch calls {
		case 1: // no answer: the attempt's own deadline ends it
			if d, ok := actx.Deadline(); !ok || time.Until(d) > OpTimeout {
				t.Error("an attempt without a deadline of its own")
			}
			return 0, fmt.Errorf("stream info: %w", context.DeadlineExceeded)
		case 2:
			return 0, &jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "JetStream system temporarily unavailable"}
		case 3:
			return 0, nats.ErrNoResponders
		}
		return 42, nil
	})
	if err != nil || v != 42 || calls != 4 {
		t.Fatalf("Setup: %d %v after %d calls; want 42 after 4", v, err, calls)
	}

	calls = 0
	_, err = Setup(ctx, func(context.Context) (int, error) {
		calls++
		return 0, jetstream.ErrStreamNotFound
	})
	if !errors.Is(err, jetstream.ErrStreamNotFound) || calls != 1 {
		t.Fatalf("a not-found error: %v after %d calls; want it at once", err, calls)
	}

	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort()
	_, err = Setup(short, func(actx context.Context) (int, error) {
		<-actx.Done()
		return 0, actx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) || short.Err() == nil {
		t.Fatalf("past the caller's deadline: %v (caller's context %v)", err, short.Err())
	}
}
