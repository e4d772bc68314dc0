package e2e

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/edgepix/edgepix/blob"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/internal/wire"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// When the blob store, NATS or the job queue is down, API calls that need
// it answer 503 with Retry-After (never 400, never 200 for work that is
// not recorded), store nothing half-way, and work again once it is back.
func TestStoreFaults(t *testing.T) {
	ns, s3, blobURL := sharedStores(t)
	cfg := func(c *app.Config) { c.NATSURL, c.Blob, c.DeriveToken = ns.URL(), blobURL, "tok" }
	a, _ := start(t, cfg)
	snake := fixtures.Read(t, "photo-snake-600x450-grayscale.jpg")
	store, err := blob.Open(blobURL)
	if err != nil {
		t.Fatal(err)
	}
	objects := func() int {
		t.Helper()
		keys, err := blob.Keys(bg, store, "")
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	up := func(id string, extra ...string) (*http.Response, map[string]any) {
		params := url.Values{"public_id": {id}}
		for i := 0; i+1 < len(extra); i += 2 {
			params.Set(extra[i], extra[i+1])
		}
		return postUpload(t, a.OriginURL, params, snake)
	}
	unavailable := func(what string, resp *http.Response, body any) {
		t.Helper()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: %d (Retry-After %q) %v, want 503 with Retry-After", what, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	absent := func(id string) {
		t.Helper()
		var m map[string]any
		if st := adminCall(t, "GET", a.OriginURL+"/v1_1/demo/resources/image/upload/"+id, &m); st != 404 {
			t.Errorf("%s was stored by a failed call: %d %v", id, st, m)
		}
	}
	derive := func(tx string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, a.OriginURL+"/internal/derive/demo/image/upload/"+tx+"/before.jpg", nil)
		req.Header.Set(wire.TokenHeader, "tok")
		req.Header.Set(wire.CloudHeader, "demo")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	pending := func() int {
		var m map[string][]any
		adminCall(t, "GET", a.OriginURL+"/v1_1/demo/batches?status=pending", &m)
		return len(m["batches"])
	}
	if resp, m := up("before"); resp.StatusCode != 200 {
		t.Fatalf("upload: %d %v", resp.StatusCode, m)
	}

	// The blob store down.
	s3.Stop()
	resp, m := up("during-s3")
	unavailable("upload with S3 down", resp, m)
	resp, m = up("eager-s3", "eager", "c_scale,w_20", "eager_async", "true")
	unavailable("eager_async upload with S3 down", resp, m)
	unavailable("render with S3 down", derive("c_scale,w_21"), nil)
	absent("during-s3")
	absent("eager-s3")
	if n := pending(); n != 0 {
		t.Errorf("%d batches pending for calls that failed", n)
	}
	if err := s3.Restart(); err != nil {
		t.Fatal(err)
	}
	if resp, m := up("after-s3"); resp.StatusCode != 200 {
		t.Fatalf("upload after S3 came back: %d %v", resp.StatusCode, m)
	}
	if resp := derive("c_scale,w_21"); resp.StatusCode != 200 {
		t.Fatalf("render after S3 came back: %d", resp.StatusCode)
	}

	// NATS down.
	before := objects()
	ns.Stop(0)
	resp, m = up("during-nats")
	unavailable("upload with NATS down", resp, m)
	unavailable("render with NATS down", derive("c_scale,w_22"), nil)
	if n := objects(); n != before {
		t.Errorf("the failed upload left %d objects in the bucket", n-before)
	}
	ns.Restart(0)
	ns.WaitReady()
	back := false
	for deadline := time.Now().Add(30 * time.Second); !back && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, _ := up("after-nats")
		back = resp.StatusCode == 200
	}
	if !back {
		t.Fatal("uploads did not work again within 30 s of NATS coming back")
	}
	absent("during-nats")

	// The job queue gone while the KV answers: eager_async work cannot be
	// queued, so the upload is not stored.
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if err := js.DeleteStream(context.Background(), "JOBS"); err != nil {
		t.Fatal(err)
	}
	before = objects()
	resp, m = up("no-queue", "eager", "c_scale,w_20", "eager_async", "true")
	unavailable("eager_async upload without a job queue", resp, m)
	absent("no-queue")
	if n := objects(); n != before {
		t.Errorf("the refused upload left %d objects in the bucket", n-before)
	}
	if n := pending(); n != 0 {
		t.Errorf("%d batches pending for a call that failed", n)
	}
	// Without the webhook queue, a synchronous upload's notification cannot
	// be queued: the call says so (503), its retry will notify.
	if err := js.DeleteStream(context.Background(), "WEBHOOKS"); err != nil {
		t.Fatal(err)
	}
	resp, m = up("no-webhooks", "notification_url", "http://127.0.0.1:9/hook")
	unavailable("upload with a notification and no webhook queue", resp, m)
	// A new origin on the same stores creates the queue again; its work runs.
	b, cldB := start(t, cfg)
	rcv := newReceiver(t, cldB)
	resp, m = postUpload(t, b.OriginURL, url.Values{"public_id": {"queued"}, "eager": {"c_scale,w_20"},
		"eager_async": {"true"}, "eager_notification_url": {rcv.URL()}}, snake)
	if resp.StatusCode != 200 {
		t.Fatalf("eager_async upload with the queue back: %d %v", resp.StatusCode, m)
	}
	if h := rcv.wait("eager after the queue came back"); h.Body["status"] != "complete" {
		t.Fatalf("eager notification: %s", h.Raw)
	}
}
