package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudinary/cloudinary-go/v2"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/origin"
)

var testAccount = origin.Account{Cloud: "demo", APIKey: "123456789012345", APISecret: "e2e-secret-abcdef"}

// start runs edgepix on free loopback ports with a fresh data directory.
func start(t *testing.T, mutate ...func(*app.Config)) (*app.App, *cloudinary.Cloudinary) {
	t.Helper()
	cfg := app.Config{DataDir: t.TempDir(), EdgeAddr: "127.0.0.1:0", OriginAddr: "127.0.0.1:0",
		Accounts: []origin.Account{testAccount}, AllowPrivateHooks: true, WebhookTimeout: time.Second,
		WebhookRetries: []time.Duration{0, 200 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}}
	for _, m := range mutate {
		m(&cfg)
	}
	a, err := app.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, sdkFor(t, a)
}

// sdkFor configures the official SDK exactly as a user would: the API host
// through upload_prefix, the delivery host through CName with Secure off.
func sdkFor(t *testing.T, a *app.App) *cloudinary.Cloudinary {
	return sdkForURL(t, a.OriginURL, strings.TrimPrefix(a.EdgeURL, "http://"))
}

// sdkForURL configures the SDK for an API base URL and an edge host:port.
func sdkForURL(t *testing.T, apiBase, edgeHost string) *cloudinary.Cloudinary {
	t.Helper()
	cld, err := cloudinary.NewFromURL(testAccount.URL(apiBase))
	if err != nil {
		t.Fatal(err)
	}
	cld.Config.URL.Secure = false
	cld.Config.URL.CName = edgeHost
	return cld
}

func uploadParams(publicID string) uploader.UploadParams {
	return uploader.UploadParams{PublicID: publicID}
}

func upload(t *testing.T, cld *cloudinary.Cloudinary, file any, p uploader.UploadParams) *uploader.UploadResult {
	t.Helper()
	res, err := cld.Upload.Upload(context.Background(), file, p)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	return res
}

// deliveryURL builds a URL with the SDK.
func deliveryURL(t *testing.T, cld *cloudinary.Cloudinary, publicID, tx string, signed bool) string {
	t.Helper()
	img, err := cld.Image(publicID)
	if err != nil {
		t.Fatal(err)
	}
	img.Transformation = tx
	img.Config.URL.SignURL = signed
	u, err := img.String()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// eventually polls cond for up to 10 s: purges reach edges asynchronously
// over NATS, as a CDN invalidation does.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Errorf("not within 10 s: %s", what)
}
