package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/sdk/signature"
	"github.com/edgepix/edgepix/transform/codec"
)

func TestUploadEveryFormatAndDeliver(t *testing.T) {
	a, cld := start(t)
	files := map[string][3]any{ // fixture → format, width, height
		"photo-storm-1920x1280.jpg":                  {"jpg", 1920, 1280},
		"interlaced-palette-trns-toucan-162x150.png": {"png", 162, 150},
		"gif-anim-throbber-32x32-8frames.gif":        {"gif", 32, 32},
		"webp-lossy-rose-400x301.webp":               {"webp", 400, 301},
		"avif-still-320x180.avif":                    {"avif", 320, 180},
	}
	for name, want := range files {
		res := upload(t, cld, fixtures.Path(t, name), uploader.UploadParams{
			PublicID: "fmt/" + strings.Split(name, ".")[0], Tags: api.CldAPIArray{"e2e", "formats"},
			Context: api.CldAPIMap{"alt": "a picture"}})
		if res.Error.Message != "" {
			t.Fatalf("%s: %s", name, res.Error.Message)
		}
		if res.Format != want[0] || res.Width != want[1] || res.Height != want[2] || res.ResourceType != "image" ||
			res.Type != "upload" || res.Version == 0 || len(res.AssetID) != 32 || len(res.Etag) != 32 ||
			res.CreatedAt.IsZero() || len(res.Tags) != 2 || res.Bytes == 0 {
			t.Errorf("%s: result %+v", name, res)
		}
		if !strings.HasPrefix(res.URL, a.EdgeURL+"/demo/image/upload/v") {
			t.Errorf("%s: url %s", name, res.URL)
		}
		// The response signature is the one the SDK verifies.
		if res.Signature != signature.Sign(fmt.Sprintf("public_id=%s&version=%d", res.PublicID, res.Version), testAccount.APISecret, false) {
			t.Errorf("%s: response signature", name)
		}
		resp, body := get(t, res.URL)
		if resp.StatusCode != 200 || len(body) != res.Bytes {
			t.Errorf("%s: original delivery %d, %d bytes", name, resp.StatusCode, len(body))
		}
	}
	// Transformed deliveries built by the SDK, one per crop mode and format.
	cases := []struct {
		tx     string
		format codec.Format
		w, h   int
	}{
		{"c_fill,w_150,h_100", codec.JPEG, 150, 100},
		{"c_fit,w_200,h_200", codec.JPEG, 200, 133},
		{"c_scale,w_0.25", codec.JPEG, 480, 320},
		{"c_pad,w_120,h_120,b_black", codec.JPEG, 120, 120},
		{"c_crop,w_100,h_50,g_south_east", codec.JPEG, 100, 50},
		{"c_thumb,w_64,h_64/f_png", codec.PNG, 64, 64},
		{"c_limit,w_100/f_webp", codec.WebP, 100, 67},
		{"c_lfill,w_90,h_90/f_gif", codec.GIF, 90, 90},
		{"c_fill,w_40,h_40/f_avif", codec.AVIF, 40, 40},
	}
	for _, c := range cases {
		u := deliveryURL(t, cld, "fmt/photo-storm-1920x1280.jpg", c.tx, false)
		resp, body := get(t, u)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", u, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
		}
		info, err := codec.Probe(body)
		if err != nil || info.Format != c.format || info.Width != c.w || info.Height != c.h {
			t.Errorf("%s: %+v %v", u, info, err)
		}
		if resp.Header.Get("X-Cache") != "MISS" || resp.Header.Get("Content-Type") != c.format.ContentType() {
			t.Errorf("%s: headers %v", u, resp.Header)
		}
		resp2, body2 := get(t, u)
		if resp2.Header.Get("X-Cache") != "HIT" || string(body2) != string(body) {
			t.Errorf("%s: second fetch %s", u, resp2.Header.Get("X-Cache"))
		}
		etag := resp2.Header.Get("ETag")
		resp3, _ := get(t, u, "If-None-Match", etag)
		if resp3.StatusCode != http.StatusNotModified {
			t.Errorf("%s: If-None-Match gave %d", u, resp3.StatusCode)
		}
	}
}

func TestUploadByURLAndDataURI(t *testing.T) {
	src := fixtures.Read(t, "photo-snake-600x450-grayscale.jpg")
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(src) }))
	defer files.Close()

	_, cld := start(t)
	res, err := cld.Upload.Upload(context.Background(), files.URL+"/snake.jpg", uploader.UploadParams{PublicID: "remote"})
	if err != nil || res.Error.Message == "" || !strings.Contains(res.Error.Message, "private address") {
		t.Fatalf("a loopback URL must be refused without --allow-private-fetch: %+v %v", res, err)
	}

	_, cld = start(t, func(c *app.Config) { c.AllowPrivateFetch = true })
	res = upload(t, cld, files.URL+"/snake.jpg", uploader.UploadParams{PublicID: "remote"})
	if res.Error.Message != "" || res.Width != 600 || res.Height != 450 || res.OriginalFilename != "snake" {
		t.Fatalf("by URL: %+v", res)
	}
	dataURI := "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(src)
	res = upload(t, cld, dataURI, uploader.UploadParams{PublicID: "inline"})
	if res.Error.Message != "" || res.Width != 600 {
		t.Fatalf("by data URI: %+v", res)
	}
}

func TestSignedURLs(t *testing.T) {
	_, cld := start(t)
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploader.UploadParams{PublicID: "signed"})
	u := deliveryURL(t, cld, "signed", "c_fill,w_50,h_50", true)
	if !strings.Contains(u, "/s--") {
		t.Fatalf("SDK did not sign: %s", u)
	}
	if resp, _ := get(t, u); resp.StatusCode != 200 {
		t.Fatalf("good signature: %d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	bad := strings.Replace(u, "w_50", "w_51", 1)
	if resp, _ := get(t, bad); resp.StatusCode != 401 || resp.Header.Get("X-Cld-Error") == "" {
		t.Fatalf("tampered URL: %d", resp.StatusCode)
	}
}

func TestBadInputs(t *testing.T) {
	a, cld := start(t, func(c *app.Config) { c.MaxUploadBytes = 2 << 20 })
	for _, name := range []string{
		"bad-bomb-declared-50000x50000.png", "bomb-valid-20000x20000-1bit.png", "bad-corrupt-idat-snake-600x450.png",
		"bad-empty-0-bytes.jpg", "bad-pngsuite-xcsn0g01-idat-crc.png", "bad-pngsuite-xdtn0g01-no-idat.png",
		"bad-pngsuite-xhdn0g08-ihdr-crc.png", "bad-text-file-named.jpg", "bad-truncated-anim-60pct.gif",
		"bad-truncated-photo-dune-50pct.jpg", "bad-truncated-real-100x100.jpg",
	} {
		res, err := cld.Upload.Upload(context.Background(), fixtures.Path(t, name),
			uploader.UploadParams{PublicID: "bad", ResourceType: "image"})
		if err != nil || res.Error.Message == "" {
			t.Errorf("%s: accepted (%v)", name, err)
			continue
		}
		// Nothing was stored.
		if resp, _ := get(t, a.EdgeURL+"/demo/image/upload/bad"); resp.StatusCode != 404 {
			t.Errorf("%s: something was stored (%d)", name, resp.StatusCode)
		}
	}
	res, _ := cld.Upload.Upload(context.Background(), fixtures.Path(t, "photo-nuthatch-6028x3391.jpg"), uploader.UploadParams{})
	if !strings.Contains(res.Error.Message, "File size too large") {
		t.Errorf("oversized upload: %q", res.Error.Message)
	}
	res, _ = cld.Upload.Upload(context.Background(), fixtures.Path(t, "webp-lossy-rose-400x301.webp"),
		uploader.UploadParams{AllowedFormats: api.CldAPIArray{"jpg", "png"}})
	if !strings.Contains(res.Error.Message, "format not allowed") {
		t.Errorf("disallowed format: %q", res.Error.Message)
	}

	// Authentication failures over plain HTTP.
	post := func(cloud string, v url.Values) (int, string) {
		resp, err := http.PostForm(a.OriginURL+"/v1_1/"+cloud+"/image/upload", v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		fmt.Fprint(&b, resp.Header.Get("Content-Type"))
		return resp.StatusCode, b.String()
	}
	now := time.Now().Unix()
	signed := func(ts int64, secret string) url.Values {
		v := url.Values{"timestamp": {fmt.Sprint(ts)}, "api_key": {testAccount.APIKey},
			"file": {"data:image/png;base64,AAAA"}}
		v.Set("signature", signature.Sign(signature.StringToSign(v, 2), secret, false))
		return v
	}
	if code, ct := post("demo", signed(now, "wrong")); code != 401 || ct != "application/json" {
		t.Errorf("bad signature: %d %s", code, ct)
	}
	if code, _ := post("demo", signed(now-7200, testAccount.APISecret)); code != 400 {
		t.Errorf("stale timestamp: %d", code)
	}
	if code, _ := post("nosuchcloud", signed(now, testAccount.APISecret)); code != 401 {
		t.Errorf("unknown cloud: %d", code)
	}
	// Delivery errors carry X-Cld-Error.
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploader.UploadParams{PublicID: "ok"})
	for path, code := range map[string]int{
		"/demo/image/upload/w_abc/ok.jpg":             400,
		"/demo/image/upload/w_100/missing.jpg":        404,
		"/demo/image/upload/w_100000,h_100000/ok.jpg": 400,
	} {
		resp, _ := get(t, a.EdgeURL+path)
		if resp.StatusCode != code || resp.Header.Get("X-Cld-Error") == "" {
			t.Errorf("%s: %d %q", path, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
		}
	}
}

// TestIncomingTransformation stores the transformed image when upload
// carries transformation and format.
func TestIncomingTransformation(t *testing.T) {
	a, cld := start(t)
	res := upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"),
		uploader.UploadParams{PublicID: "small", Transformation: "c_scale,w_100", Format: "png"})
	if res.Width != 100 || res.Height != 75 || res.Format != "png" {
		t.Fatalf("incoming transformation: %dx%d %s", res.Width, res.Height, res.Format)
	}
	resp, body := get(t, a.EdgeURL+"/demo/image/upload/small.png")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || len(body) != res.Bytes {
		t.Fatalf("stored original: %d %s %d bytes (result says %d)", resp.StatusCode, resp.Header.Get("Content-Type"), len(body), res.Bytes)
	}
	bad, err := cld.Upload.Upload(bg, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"),
		uploader.UploadParams{PublicID: "bad", Transformation: "c_fill,w_abc"})
	if err != nil || bad.Error.Message == "" {
		t.Errorf("a bad incoming transformation was accepted: %v", err)
	}
}
