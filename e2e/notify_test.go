package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudinary/cloudinary-go/v2"
	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/origin"
	"github.com/edgepix/edgepix/sdk/signature"
)

// hook is one notification as the receiver got it.
type hook struct {
	ID, Timestamp string
	Body          map[string]any
	Raw           []byte
}

// receiver is a loopback webhook endpoint that verifies every request
// with the official SDK and with a Standard Webhooks verifier, and answers
// with the status codes the test scripts.
type receiver struct {
	t       *testing.T
	cld     *cloudinary.Cloudinary
	srv     *httptest.Server
	mu      sync.Mutex
	got     []hook
	script  []int         // statuses to answer, in order; then 200
	hang    time.Duration // sleep before answering
	arrived chan hook
}

func newReceiver(t *testing.T, cld *cloudinary.Cloudinary) *receiver {
	r := &receiver{t: t, cld: cld, arrived: make(chan hook, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) URL() string { return r.srv.URL + "/hook" }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	raw, _ := io.ReadAll(req.Body)
	ts := req.Header.Get("X-Cld-Timestamp")
	tsn, _ := strconv.ParseInt(ts, 10, 64)
	if !r.cld.Upload.VerifyNotificationSignature(string(raw), tsn, req.Header.Get("X-Cld-Signature"), 7200) {
		r.t.Errorf("the SDK refuses the notification signature: %s", raw)
	}
	if err := verifyStandard(testAccount.APISecret, req.Header, raw); err != nil {
		r.t.Errorf("Standard Webhooks verification: %v", err)
	}
	h := hook{ID: req.Header.Get("webhook-id"), Timestamp: ts, Raw: raw}
	json.Unmarshal(raw, &h.Body)
	r.mu.Lock()
	r.got = append(r.got, h)
	status := 200
	if len(r.script) > 0 {
		status, r.script = r.script[0], r.script[1:]
	}
	hang := r.hang
	r.mu.Unlock()
	time.Sleep(hang)
	w.WriteHeader(status)
	fmt.Fprintf(w, "receiver says %d\n", status) // kept in the delivery log as the attempt's response
	if status == 200 {
		r.arrived <- h
	}
}

// verifyStandard checks webhook-signature as the Standard Webhooks spec
// says: v1 HMAC-SHA256 over id.timestamp.body, timestamp within 5 min.
func verifyStandard(secret string, h http.Header, body []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	n, err := strconv.ParseInt(ts, 10, 64)
	if id == "" || err != nil || time.Since(time.Unix(n, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("bad id or timestamp: %q %q", id, ts)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no valid signature in %q", sigs)
}

// wait returns the next successfully delivered notification.
func (r *receiver) wait(what string) hook {
	r.t.Helper()
	select {
	case h := <-r.arrived:
		return h
	case <-time.After(30 * time.Second):
		r.t.Fatalf("no %s notification within 30 s", what)
		return hook{}
	}
}

func (r *receiver) attempts() []hook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hook(nil), r.got...)
}

// raw is the SDK's undecoded response (it keeps a *map there).
func raw(res any) map[string]any {
	if m, ok := res.(*any); ok {
		res = *m
	}
	if m, ok := res.(*map[string]any); ok {
		return *m
	}
	m, _ := res.(map[string]any)
	return m
}

func TestUploadNotificationAndEager(t *testing.T) {
	a, cld := start(t)
	rcv := newReceiver(t, cld)
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")

	// Sync upload with notification_url and sync eager.
	res := upload(t, cld, snake, uploader.UploadParams{PublicID: "n1", NotificationURL: rcv.URL(),
		Eager: "c_fill,w_100,h_100|c_scale,w_50/png"})
	if len(res.Eager) != 2 || res.Eager[0].Width != 100 || res.Eager[1].Format != "png" || res.Eager[1].Width != 50 ||
		!strings.HasSuffix(res.Eager[1].URL, "/demo/image/upload/c_scale,w_50/v"+strconv.Itoa(res.Version)+"/n1.png") {
		t.Fatalf("sync eager: %+v", res.Eager)
	}
	h := rcv.wait("upload")
	if h.Body["notification_type"] != "upload" || h.Body["public_id"] != "n1" || h.Body["timestamp"] == nil ||
		h.Body["asset_id"] != res.AssetID || len(h.Body["eager"].([]any)) != 2 {
		t.Errorf("upload notification: %s", h.Raw)
	}
	renders := rendersTotal(t, a)
	resp, _ := get(t, res.Eager[0].URL)
	if resp.StatusCode != 200 || rendersTotal(t, a) != renders {
		t.Errorf("an eager URL was rendered again on delivery (%d, renders %v → %v)", resp.StatusCode, renders, rendersTotal(t, a))
	}

	// Async upload: pending at once, then the notification with batch_id.
	ar := upload(t, cld, snake, uploader.UploadParams{PublicID: "n2", Async: api.Bool(true), NotificationURL: rcv.URL()})
	body := raw(ar.Response)
	batch, _ := body["batch_id"].(string)
	if body["status"] != "pending" || batch == "" {
		t.Fatalf("async upload reply: %v", body)
	}
	h = rcv.wait("async upload")
	if h.Body["notification_type"] != "upload" || h.Body["batch_id"] != batch || h.Body["public_id"] != "n2" ||
		h.Body["width"] != float64(600) {
		t.Errorf("async upload notification: %s", h.Raw)
	}
	if st := batchStatus(t, a, batch); st["status"] != "complete" {
		t.Errorf("batch after the notification: %v", st)
	}

	// explicit with eager_async and eager_notification_url.
	ex, err := cld.Upload.Explicit(bg, uploader.ExplicitParams{PublicID: "n1", Type: "upload",
		Eager: "c_crop,w_64,h_64,g_center/webp", EagerAsync: api.Bool(true), EagerNotificationURL: rcv.URL()})
	if err != nil || len(ex.Eager) != 1 {
		t.Fatalf("explicit: %v %+v", err, ex)
	}
	h = rcv.wait("eager")
	eager, _ := h.Body["eager"].([]any)
	if h.Body["notification_type"] != "eager" || len(eager) != 1 || h.Body["public_id"] != "n1" || h.Body["batch_id"] == nil {
		t.Fatalf("eager notification: %s", h.Raw)
	}
	e0 := eager[0].(map[string]any)
	if e0["width"] != float64(64) || e0["format"] != "webp" {
		t.Errorf("eager entry: %v", e0)
	}
	renders = rendersTotal(t, a)
	if resp, _ := get(t, e0["url"].(string)); resp.StatusCode != 200 || rendersTotal(t, a) != renders {
		t.Errorf("eager_async URL rendered on delivery")
	}

	// async explicit without eager: pending with a batch id, then the
	// notification.
	ea, err := cld.Upload.Explicit(bg, uploader.ExplicitParams{PublicID: "n2", Type: "upload", Async: api.Bool(true),
		NotificationURL: rcv.URL(), Tags: []string{"later"}})
	if err != nil || raw(ea.Response)["status"] != "pending" || raw(ea.Response)["batch_id"] == nil {
		t.Fatalf("async explicit: %v %v", err, raw(ea.Response))
	}
	if h := rcv.wait("async explicit"); h.Body["batch_id"] != raw(ea.Response)["batch_id"] || h.Body["public_id"] != "n2" {
		t.Errorf("async explicit notification: %s", h.Raw)
	}

	// Bad input.
	for _, p := range []uploader.UploadParams{
		{PublicID: "b1", Eager: "c_fill,w_abc"},
		{PublicID: "b2", NotificationURL: "ftp://x/y"},
		{PublicID: "b3", EagerNotificationURL: "not a url"},
	} {
		r, err := cld.Upload.Upload(bg, snake, p)
		if err != nil || r.Error.Message == "" {
			t.Errorf("%+v was accepted", p)
		}
	}
	if r, _ := cld.Upload.Explicit(bg, uploader.ExplicitParams{PublicID: "ghost", Type: "upload", Eager: "w_10"}); !strings.Contains(r.Error.Message, "not found") {
		t.Errorf("explicit of an unknown id: %+v", r.Error)
	}
}

func rendersTotal(t *testing.T, a *app.App) string {
	_, body := get(t, a.OriginURL+"/metrics")
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, `edgepix_origin_renders_total{result="ok"}`) {
			return l
		}
	}
	return ""
}

func batchStatus(t *testing.T, a *app.App, id string) map[string]any {
	t.Helper()
	return batchStatusAt(t, a.OriginURL, id)
}

func batchStatusAt(t *testing.T, originURL, id string) map[string]any {
	t.Helper()
	var m map[string]any
	adminCall(t, "GET", originURL+"/v1_1/demo/batches/"+id, &m)
	return m
}

// adminCall calls edgepix's own admin endpoints (HTTP Basic) and decodes
// the JSON answer into out; it returns the status.
func adminCall(t *testing.T, method, url string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.SetBasicAuth(testAccount.APIKey, testAccount.APISecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(out)
	return resp.StatusCode
}

func TestNotificationRetries(t *testing.T) {
	a, cld := start(t)
	rcv := newReceiver(t, cld)
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")

	rcv.script = []int{500, 500, 500}
	upload(t, cld, snake, uploader.UploadParams{PublicID: "r1", NotificationURL: rcv.URL()})
	h := rcv.wait("retried")
	got := rcv.attempts()
	if len(got) != 4 {
		t.Fatalf("%d attempts, want 4 (3 failures then success)", len(got))
	}
	for _, g := range got {
		if g.ID != h.ID {
			t.Errorf("webhook-id changed between attempts: %s vs %s", g.ID, h.ID)
		}
	}
	// The attempt is logged once its answer is in: the receiver may see
	// it a moment before the log does.
	var ds []map[string]any
	eventually(t, "the delivery log shows 4 attempts, delivered", func() bool {
		ds = deliveries(t, a, "")
		return len(ds) == 1 && ds[0]["status"] == "delivered" && len(ds[0]["attempts"].([]any)) == 4
	})
	if len(ds) != 1 || len(ds[0]["attempts"].([]any)) == 0 {
		t.Fatalf("delivery log: %v", ds)
	}
	// The log's field names, as documented.
	first := ds[0]["attempts"].([]any)[0].(map[string]any)
	if ds[0]["notification_type"] != "upload" || ds[0]["id"] != h.ID || first["status_code"] != float64(500) {
		t.Errorf("delivery log fields: %v", ds[0])
	}
	if _, ok := first["duration_ms"]; !ok {
		t.Errorf("attempt fields: %v", first)
	}
	// Each attempt keeps the start of the answer and the signature headers
	// it carried (the id is the same on every attempt).
	last := ds[0]["attempts"].([]any)[3].(map[string]any)
	sigs, _ := first["signatures"].(map[string]any)
	if first["response"] != "receiver says 500\n" || last["response"] != "receiver says 200\n" ||
		sigs["webhook-id"] != h.ID || sigs["X-Cld-Signature"] == "" || sigs["webhook-signature"] == "" {
		t.Errorf("attempt response and signatures: %v", first)
	}
	eventually(t, "attempts counted in /metrics", func() bool {
		_, m := get(t, a.OriginURL+"/metrics")
		return strings.Contains(string(m), `edgepix_webhook_attempts_total{result="retry"} 3`) &&
			strings.Contains(string(m), `edgepix_webhook_attempts_total{result="delivered"} 1`)
	})

	// 410 stops retrying at once.
	rcv.script = []int{410}
	upload(t, cld, snake, uploader.UploadParams{PublicID: "r2", NotificationURL: rcv.URL()})
	eventually(t, "a 410 marks the delivery failed after one attempt", func() bool {
		for _, d := range deliveries(t, a, "failed") {
			if len(d["attempts"].([]any)) == 1 && d["attempts"].([]any)[0].(map[string]any)["status_code"] == float64(410) {
				return true
			}
		}
		return false
	})
	// Redeliver sends it again under the same id.
	failed := deliveries(t, a, "failed")[0]
	var redelivered map[string]any
	if st := adminCall(t, "POST", a.OriginURL+"/v1_1/demo/webhooks/deliveries/"+failed["id"].(string)+"/redeliver", &redelivered); st != 200 {
		t.Fatalf("redeliver: %d %v", st, redelivered)
	}
	if h := rcv.wait("redelivered"); h.ID != failed["id"] {
		t.Errorf("redelivery id %s, want %s", h.ID, failed["id"])
	}

	// A receiver that hangs runs into the timeout (1 s here), every attempt.
	rcv.hang = 1500 * time.Millisecond
	upload(t, cld, snake, uploader.UploadParams{PublicID: "r3", NotificationURL: rcv.URL()})
	eventually(t, "a hanging receiver ends as failed after every attempt timed out", func() bool {
		for _, d := range deliveries(t, a, "failed") {
			at := d["attempts"].([]any)
			if len(at) == 4 && strings.Contains(at[0].(map[string]any)["error"].(string), "Timeout") {
				return true
			}
		}
		return false
	})
}

func deliveries(t *testing.T, a *app.App, status string) []map[string]any {
	t.Helper()
	var m struct{ Deliveries []map[string]any }
	adminCall(t, "GET", a.OriginURL+"/v1_1/demo/webhooks/deliveries?status="+status, &m)
	return m.Deliveries
}

func TestPrivateWebhookRefused(t *testing.T) {
	a, cld := start(t, func(c *app.Config) { c.AllowPrivateHooks = false })
	rcv := newReceiver(t, cld)
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"),
		uploader.UploadParams{PublicID: "p", NotificationURL: rcv.URL()})
	eventually(t, "a loopback receiver is refused without --allow-private-webhooks", func() bool {
		ds := deliveries(t, a, "failed")
		return len(ds) == 1 && strings.Contains(fmt.Sprint(ds[0]["attempts"]), "private address")
	})
	if n := len(rcv.attempts()); n != 0 {
		t.Errorf("the private receiver was reached %d times", n)
	}
}

func TestEagerAsyncTwentyUploads(t *testing.T) {
	a, cld := start(t)
	rcv := newReceiver(t, cld)
	names := []string{"photo-snake-600x450-grayscale.jpg", "interlaced-rgb-horse-200x200.png",
		"gif-static-photo-snake-600x450.gif", "exif-iphone4s-orient6-205x102.jpg", "avif-still-320x180.avif"}
	batches := map[string]string{}
	for i := range 20 {
		id := fmt.Sprintf("ea%02d", i)
		res := upload(t, cld, fixtures.Path(t, names[i%len(names)]), uploader.UploadParams{PublicID: id,
			Eager: "c_fill,w_80,h_60|c_scale,w_40/webp", EagerAsync: api.Bool(true), EagerNotificationURL: rcv.URL()})
		if len(res.Eager) != 2 {
			t.Fatalf("eager_async reply: %+v", res.Eager)
		}
		batches[id] = raw(res.Response)["eager"].([]any)[0].(map[string]any)["batch_id"].(string)
	}
	seen := map[string]bool{}
	for range 20 {
		h := rcv.wait("eager")
		id := h.Body["public_id"].(string)
		if h.Body["batch_id"] != batches[id] || len(h.Body["eager"].([]any)) != 2 {
			t.Errorf("eager notification for %s: %s", id, h.Raw)
		}
		seen[id] = true
	}
	if len(seen) != 20 {
		t.Fatalf("notifications for %d of 20 uploads", len(seen))
	}
	renders := rendersTotal(t, a)
	for id := range batches {
		if resp, _ := get(t, a.EdgeURL+"/demo/image/upload/c_scale,w_40/"+id+".webp"); resp.StatusCode != 200 {
			t.Errorf("%s: %d", id, resp.StatusCode)
		}
	}
	if rendersTotal(t, a) != renders {
		t.Errorf("eager URLs were rendered again on delivery: %s → %s", renders, rendersTotal(t, a))
	}
}

// signedPost calls the upload API by hand, signed as the SDKs sign, for
// parameters the Go SDK does not expose (notification_url on destroy and
// rename).
func signedPost(t *testing.T, a *app.App, action string, params url.Values) map[string]any {
	t.Helper()
	params.Set("timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	params.Set("api_key", testAccount.APIKey)
	long := a.Accounts[0].SignatureAlgorithm == "sha256" // such an account takes SHA-256 only
	params.Set("signature", signature.Sign(signature.StringToSign(params, 2), testAccount.APISecret, long))
	resp, err := http.PostForm(a.OriginURL+"/v1_1/demo/image/"+action, params)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return m
}

func TestRenameDestroyNotificationsSHA256(t *testing.T) {
	acct := testAccount
	acct.SignatureAlgorithm = "sha256"
	a, cld := start(t, func(c *app.Config) { c.Accounts = []origin.Account{acct} })
	cld.Upload.Config.Cloud.SignatureAlgorithm = "sha256" // the receiver verifies with SHA-256
	rcv := newReceiver(t, cld)
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("r"))

	m := signedPost(t, a, "rename", url.Values{"from_public_id": {"r"}, "to_public_id": {"s"}, "notification_url": {rcv.URL()}})
	if m["public_id"] != "s" {
		t.Fatalf("rename: %v", m)
	}
	h := rcv.wait("rename")
	if h.Body["notification_type"] != "rename" || h.Body["from_public_id"] != "r" || h.Body["to_public_id"] != "s" {
		t.Errorf("rename notification: %s", h.Raw)
	}
	if len(rcv.attempts()[0].Raw) == 0 || len(h.Timestamp) == 0 {
		t.Error("empty notification")
	}
	m = signedPost(t, a, "destroy", url.Values{"public_id": {"s"}, "notification_url": {rcv.URL()}})
	if m["result"] != "ok" {
		t.Fatalf("destroy: %v", m)
	}
	h = rcv.wait("delete")
	res, _ := h.Body["resources"].([]any)
	if h.Body["notification_type"] != "delete" || len(res) != 1 || res[0].(map[string]any)["public_id"] != "s" {
		t.Errorf("delete notification: %s", h.Raw)
	}
	if m := signedPost(t, a, "destroy", url.Values{"public_id": {"x"}, "notification_url": {"javascript:alert(1)"}}); m["error"] == nil {
		t.Errorf("a bad notification_url on destroy was accepted: %v", m)
	}
}

// TestAsyncFailureAndAccountDefaultURL: an async upload of a broken file
// ends as a failed batch with its error, reported to the account's
// default notification URL (no notification_url in the request).
func TestAsyncFailureAndAccountDefaultURL(t *testing.T) {
	var rcv *receiver
	acct := testAccount
	_, cld0 := start(t)
	rcv = newReceiver(t, cld0)
	acct.NotificationURL = rcv.URL()
	a, cld := start(t, func(c *app.Config) { c.Accounts = []origin.Account{acct} })
	rcv.cld = cld
	res := upload(t, cld, fixtures.Path(t, "bad-truncated-real-100x100.jpg"), uploader.UploadParams{PublicID: "broken", Async: api.Bool(true)})
	batch, _ := raw(res.Response)["batch_id"].(string)
	if batch == "" {
		t.Fatalf("async reply: %v", raw(res.Response))
	}
	h := rcv.wait("failed upload")
	if h.Body["notification_type"] != "upload" || h.Body["status"] != "failed" || h.Body["batch_id"] != batch ||
		!strings.Contains(fmt.Sprint(h.Body["error"]), "Invalid image") {
		t.Errorf("failure notification: %s", h.Raw)
	}
	st := batchStatus(t, a, batch)
	if st["status"] != "failed" || !strings.Contains(fmt.Sprint(st["errors"]), "Invalid image") {
		t.Errorf("failed batch: %v", st)
	}
	if st := batchStatus(t, a, "0123456789abcdef"); st["error"] == nil {
		t.Errorf("an unknown batch: %v", st)
	}
	if _, m := get(t, a.OriginURL+"/metrics"); !strings.Contains(string(m), `edgepix_jobs_total{kind="upload",result="failed"} 1`) {
		t.Error("the failed job is not counted in /metrics")
	}
	// The failed batches are listed (the dead letters).
	var list struct{ Batches []map[string]any }
	adminCall(t, "GET", a.OriginURL+"/v1_1/demo/batches?status=failed", &list)
	if len(list.Batches) != 1 || list.Batches[0]["batch_id"] != batch {
		t.Errorf("failed batches: %v", list.Batches)
	}
}

// Actions on one asset refuse a request without public_id.
func TestMissingPublicID(t *testing.T) {
	a, _ := start(t)
	for _, action := range []string{"destroy", "explicit", "explode"} {
		m := signedPost(t, a, action, url.Values{"type": {"upload"}})
		if e, _ := m["error"].(map[string]any); e == nil || e["message"] != "Missing required parameter - public_id" {
			t.Errorf("%s without public_id: %v", action, m)
		}
	}
}
