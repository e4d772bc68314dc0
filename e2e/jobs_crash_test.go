package e2e

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/cloudinary/cloudinary-go/v2"
	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/fixtures"
)

// TestJobsSurviveKill9 enqueues 50 eager_async uploads to a child
// `edgepix serve`, kills it with SIGKILL twice (once while the receiver is
// down), restarts it on the same data, and expects every batch to
// complete and every notification to arrive, duplicates under one id.
func TestJobsSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	edgeAddr, originAddr := freeAddr(t), freeAddr(t)
	flags := []string{"--allow-private-webhooks", "--webhook-timeout", "2s",
		"--webhook-retries", "0s,300ms,500ms,1s,1s,2s,2s,2s,3s,3s,3s,5s,5s,5s,5s,5s,5s,5s,5s"}
	child := startChild(t, bin, data, edgeAddr, originAddr, flags...)
	cld, err := cloudinary.NewFromURL(testAccount.URL("http://" + originAddr))
	if err != nil {
		t.Fatal(err)
	}
	cld.Config.URL.Secure, cld.Config.URL.CName = false, edgeAddr
	rcv := newReceiver(t, cld)
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	batches := map[string]string{} // batch → public_id
	uploadSome := func(from, to int) {
		for i := from; i < to; i++ {
			id := fmt.Sprintf("crash%02d", i)
			res, err := cld.Upload.Upload(bg, snake, uploader.UploadParams{PublicID: id,
				Eager: "c_fill,w_120,h_90|c_scale,w_60/webp|e_grayscale,c_scale,w_30", EagerAsync: api.Bool(true),
				EagerNotificationURL: rcv.URL()})
			if err != nil || res.Error.Message != "" || len(res.Eager) != 3 {
				t.Fatalf("upload %s: %v %+v", id, err, res.Error)
			}
			batches[raw(res.Response)["eager"].([]any)[0].(map[string]any)["batch_id"].(string)] = id
		}
	}
	kill := func() {
		child.Process.Signal(syscall.SIGKILL)
		child.Wait()
		t.Logf("kill -9 with %d notification attempts received so far", len(rcv.attempts()))
	}

	uploadSome(0, 25)
	kill() // mid-way: most eager jobs have not run yet
	child = startChild(t, bin, data, edgeAddr, originAddr, flags...)

	rcv.mu.Lock()
	rcv.script = make([]int, 1000) // the receiver is down: 503 to everything
	for i := range rcv.script {
		rcv.script[i] = 503
	}
	rcv.mu.Unlock()
	uploadSome(25, 50)
	time.Sleep(500 * time.Millisecond)
	kill() // while deliveries are failing and being retried
	child = startChild(t, bin, data, edgeAddr, originAddr, flags...)
	defer func() {
		child.Process.Signal(syscall.SIGTERM)
		child.Wait()
	}()
	rcv.mu.Lock()
	rcv.script = nil // the receiver is back
	rcv.mu.Unlock()

	delivered := map[string]string{} // batch → webhook-id
	deadline := time.After(120 * time.Second)
	for len(delivered) < len(batches) {
		select {
		case h := <-rcv.arrived:
			b, _ := h.Body["batch_id"].(string)
			if _, ok := batches[b]; !ok || h.Body["notification_type"] != "eager" {
				t.Fatalf("unexpected notification: %s", h.Raw)
			}
			if len(h.Body["eager"].([]any)) != 3 {
				t.Errorf("batch %s notified with %d eager results", b, len(h.Body["eager"].([]any)))
			}
			delivered[b] = h.ID
		case <-deadline:
			t.Fatalf("after two kill -9: %d of %d eager notifications delivered", len(delivered), len(batches))
		}
	}
	for _, h := range rcv.attempts() {
		if b, _ := h.Body["batch_id"].(string); delivered[b] != h.ID {
			t.Errorf("batch %s arrived under two webhook-ids: %s and %s", b, h.ID, delivered[b])
		}
	}
	a := struct{ OriginURL string }{"http://" + originAddr}
	for b, id := range batches {
		st := batchStatusAt(t, a.OriginURL, b)
		if st["status"] != "complete" {
			t.Errorf("batch of %s: %v", id, st)
		}
	}
}
