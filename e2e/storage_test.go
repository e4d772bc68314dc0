package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/admin"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/blob"
	"github.com/edgepix/edgepix/blob/s3test"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/internal/natsembed/natstest"
	"github.com/edgepix/edgepix/origin"
	"github.com/edgepix/edgepix/sdk/signature"
)

// sharedStores starts what origins share in a scale-out set-up: a NATS
// server (outside the origins) and an S3 bucket, whose credentials the
// origins take from AWS_* variables.
func sharedStores(t *testing.T) (*natstest.Cluster, *s3test.Server, string) {
	t.Helper()
	s3 := s3test.Start(t)
	blobURL := s3.Bucket(t, "edgepix", "e2e")
	for _, kv := range s3.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return natstest.Start(t), s3, blobURL
}

// startOrigin runs `edgepix origin` on the shared stores with a data
// directory of its own.
func startOrigin(t *testing.T, natsURL, blobURL string, mutate ...func(*app.Config)) *app.App {
	t.Helper()
	cfg := app.Config{Mode: app.Origin, DataDir: t.TempDir(), OriginAddr: "127.0.0.1:0", NATSURL: natsURL, Blob: blobURL,
		DeriveToken: "tok", Accounts: []origin.Account{testAccount}, AllowPrivateHooks: true, WebhookTimeout: time.Second,
		WebhookRetries: []time.Duration{0, 200 * time.Millisecond, 400 * time.Millisecond}}
	for _, m := range mutate {
		m(&cfg)
	}
	a, err := app.Start(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// Two origins sharing nothing but NATS and an S3 bucket (separate data
// directories) serve each other's assets and finish each other's work:
// delivery, eager and async uploads, rename, sprites, chunked uploads
// whose parts reach both, and destroy, which leaves nothing in the bucket.
func TestOriginsShareS3(t *testing.T) {
	ns, _, blobURL := sharedStores(t)
	a := startOrigin(t, ns.URL(), blobURL)
	b := startOrigin(t, ns.URL(), blobURL)
	e, err := app.Start(app.Config{Mode: app.Edge, DataDir: t.TempDir(), EdgeAddr: "127.0.0.1:0", NATSURL: ns.URL(),
		OriginURL: b.OriginURL, DeriveToken: "tok", Accounts: []origin.Account{testAccount}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	edgeHost := strings.TrimPrefix(e.EdgeURL, "http://")
	cldA, cldB := sdkForURL(t, a.OriginURL, edgeHost), sdkForURL(t, b.OriginURL, edgeHost)
	rcv := newReceiver(t, cldA)
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")

	// Uploaded through A, delivered through the edge from B.
	upload(t, cldA, snake, uploader.UploadParams{PublicID: "s3/snake", Tags: []string{"s3set"}, Eager: "c_scale,w_50"})
	for _, tx := range []string{"", "c_scale,w_120", "c_scale,w_50"} {
		resp, body := get(t, deliveryURL(t, cldB, "s3/snake", tx, false))
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") || len(body) == 0 {
			t.Fatalf("delivery %q through the other origin: %d %s", tx, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
		}
	}

	// Background work queued through A, done by either.
	for i := range 6 {
		upload(t, cldA, snake, uploader.UploadParams{PublicID: fmt.Sprintf("s3/eager%d", i), Tags: []string{"s3set"},
			Eager: "c_fill,w_40,h_40", EagerAsync: api.Bool(true), EagerNotificationURL: rcv.URL()})
	}
	for range 6 {
		if h := rcv.wait("eager"); h.Body["status"] != "complete" || len(h.Body["eager"].([]any)) != 1 {
			t.Fatalf("eager notification: %s", h.Raw)
		}
	}
	res, err := cldA.Upload.Upload(bg, snake, uploader.UploadParams{PublicID: "s3/async", Async: api.Bool(true), NotificationURL: rcv.URL()})
	if err != nil || res.Error.Message != "" {
		t.Fatalf("async upload: %v %+v", err, res.Error)
	}
	if h := rcv.wait("async upload"); h.Body["public_id"] != "s3/async" {
		t.Fatalf("async upload notification: %s", h.Raw)
	}
	if resp, _ := get(t, deliveryURL(t, cldB, "s3/async", "c_scale,w_30", false)); resp.StatusCode != 200 {
		t.Fatalf("async upload through the other origin: %d", resp.StatusCode)
	}

	// Rename through B of what A stored; a sprite through B of A's images.
	if r, err := cldB.Upload.Rename(bg, uploader.RenameParams{FromPublicID: "s3/eager0", ToPublicID: "s3/renamed"}); err != nil || r.Error != nil {
		t.Fatalf("rename through the other origin: %v %+v", err, r.Error)
	}
	if resp, _ := get(t, deliveryURL(t, cldA, "s3/renamed", "c_scale,w_31", false)); resp.StatusCode != 200 {
		t.Fatalf("renamed asset: %d", resp.StatusCode)
	}
	sp, err := cldB.Upload.GenerateSprite(bg, uploader.GenerateSpriteParams{Tag: "s3set", Transformation: "c_fill,w_20,h_20"})
	if err != nil || sp.Error.Message != "" || len(sp.ImageInfos) != 7 {
		t.Fatalf("sprite through the other origin: %v %+v", err, sp)
	}
	if resp, _ := get(t, e.EdgeURL+sp.CSSURL); resp.StatusCode != 200 {
		t.Fatalf("sprite css: %d", resp.StatusCode)
	}

	// A chunked upload whose parts reach both origins, the last two at once.
	whole := fixtures.Read(t, "photo-storm-1920x1280.jpg")
	third := len(whole) / 3
	first := chunkPost(t, a.OriginURL, "s3/chunked", "up-s3", whole, 0, third)
	if first["done"] != false {
		t.Fatalf("first chunk: %v", first)
	}
	answers := make([]map[string]any, 2)
	var wg sync.WaitGroup
	for i, o := range []string{a.OriginURL, b.OriginURL} {
		end := (i + 2) * third
		if i == 1 {
			end = len(whole)
		}
		wg.Go(func() { answers[i] = chunkPost(t, o, "s3/chunked", "up-s3", whole, (i+1)*third, end) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var version any
	for _, ans := range answers {
		if ans["public_id"] == nil {
			continue // this part came first: the other one completed the file
		}
		if ans["bytes"] != float64(len(whole)) || (version != nil && ans["version"] != version) {
			t.Fatalf("chunked upload answers differ: %v", answers)
		}
		version = ans["version"]
	}
	if version == nil {
		t.Fatalf("no part completed the chunked upload: %v", answers)
	}
	if again := chunkPost(t, b.OriginURL, "s3/chunked", "up-s3", whole, 2*third, len(whole)); again["version"] != version {
		t.Fatalf("a retried last part was uploaded again: %v", again)
	}
	if resp, body := get(t, deliveryURL(t, cldB, "s3/chunked", "", false)); resp.StatusCode != 200 || !bytes.Equal(body, whole) {
		t.Fatalf("chunked upload delivered: %d, %d bytes", resp.StatusCode, len(body))
	}

	// Destroy everything through B: the bucket keeps nothing.
	for _, typ := range []string{"upload", "sprite"} {
		if _, err := cldB.Admin.DeleteAllAssets(bg, admin.DeleteAllAssetsParams{AssetType: api.Image, DeliveryType: api.DeliveryType(typ)}); err != nil {
			t.Fatal(err)
		}
	}
	store, err := blob.Open(blobURL)
	if err != nil {
		t.Fatal(err)
	}
	if keys, err := blob.Keys(bg, store, ""); err != nil || len(keys) != 0 {
		t.Fatalf("the bucket keeps %d objects after every asset was destroyed: %v %v", len(keys), keys, err)
	}
}

// signedUpload is an upload request of file with params, signed by hand
// as the SDK signs (timestamp, signature, api_key added to params).
func signedUpload(ctx context.Context, originURL string, params url.Values, file []byte) *http.Request {
	params.Set("timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	params.Set("signature", signature.Sign(signature.StringToSign(params, 2), testAccount.APISecret, false))
	params.Set("api_key", testAccount.APIKey)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k := range params {
		w.WriteField(k, params.Get(k))
	}
	part, _ := w.CreateFormFile("file", "file.jpg")
	part.Write(file)
	w.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, originURL+"/v1_1/demo/image/upload", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return req
}

// chunkPost sends bytes [from, to) of file as one part of chunked upload
// id (with the total, as the Go SDK does). It may run in a goroutine: it
// reports a failure with Errorf.
func chunkPost(t *testing.T, originURL, publicID, id string, file []byte, from, to int) map[string]any {
	t.Helper()
	resp, m := postUpload(t, originURL, url.Values{"public_id": {publicID}}, file[from:to],
		"X-Unique-Upload-Id", id, "Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to-1, len(file)))
	if resp.StatusCode != 200 {
		t.Errorf("chunk %d-%d: %d %v", from, to, resp.StatusCode, m)
	}
	return m
}

// postUpload uploads file with params, signed by hand, and returns the
// response (status 0 if the request failed, reported with Errorf) and
// its decoded body.
func postUpload(t *testing.T, originURL string, params url.Values, file []byte, hdr ...string) (*http.Response, map[string]any) {
	t.Helper()
	req := signedUpload(context.Background(), originURL, params, file)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("upload: %v", err)
		return &http.Response{Header: http.Header{}}, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Errorf("upload answer %d: %s", resp.StatusCode, raw)
	}
	return resp, m
}
