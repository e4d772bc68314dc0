package notify

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/natsembed"
)

func TestParseSchedule(t *testing.T) {
	s, err := ParseSchedule("0s, 1s,5m")
	if err != nil || len(s) != 3 || s[2] != 5*time.Minute {
		t.Fatalf("%v %v", s, err)
	}
	for _, bad := range []string{"", "1s,,2s", "-1s", "soon"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func startNotifier(t *testing.T, sched []time.Duration) *Notifier {
	t.Helper()
	nc, err := natsembed.Start("", filepath.Join(t.TempDir(), "nats"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := New(context.Background(), nc.JS, Config{Schedule: sched, Timeout: time.Second, AllowPrivate: true},
		func(string) (string, bool, bool) { return "s3cret", false, true }, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.Run(ctx)
	t.Cleanup(func() { cancel(); n.Wait(); nc.Close() })
	return n
}

func TestRetryAfterAndRedirects(t *testing.T) {
	n := startNotifier(t, []time.Duration{0, 10 * time.Millisecond, 10 * time.Millisecond})
	var mu sync.Mutex
	var times []time.Time
	var redirected atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			mu.Lock()
			times = append(times, time.Now())
			first := len(times) == 1
			mu.Unlock()
			if first {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(503)
			}
		case "/moved":
			http.Redirect(w, r, "/target", http.StatusFound)
		case "/target":
			redirected.Add(1)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	if err := n.Send(ctx, &Delivery{Cloud: "c", Type: "upload", URL: srv.URL + "/slow", Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := n.Send(ctx, &Delivery{Cloud: "c", Type: "upload", URL: srv.URL + "/moved", Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, _ := n.List(ctx, "c", "", "")
		done := 0
		for _, d := range list {
			if d.Status != Pending {
				done++
			}
		}
		if done == 2 {
			for _, d := range list {
				switch d.URL {
				case srv.URL + "/slow":
					if d.Status != Delivered || len(d.Attempts) != 2 {
						t.Errorf("Retry-After delivery: %+v", d)
					}
				case srv.URL + "/moved":
					if d.Status != Failed || len(d.Attempts) != 3 || d.Attempts[0].StatusCode != 302 {
						t.Errorf("a redirect must count as a failure: %+v", d)
					}
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries not finished: %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
		t.Errorf("Retry-After: 1 was not honoured: retried after %v", gap)
	}
	if redirected.Load() != 0 {
		t.Error("a redirect was followed")
	}
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("a", 1000)
	for in, want := range map[string]string{
		"ok\n":                     "ok\n",
		"bad\x00\x1bbytes\xff\xfe": "bad??bytes?",
		long:                       long[:snippetBytes],
	} {
		if got := snippet([]byte(in)); got != want {
			t.Errorf("snippet(%q) = %q, want %q", in, got, want)
		}
	}
}
