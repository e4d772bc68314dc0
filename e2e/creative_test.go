package e2e

import (
	"bytes"
	"encoding/json"
	"image/gif"
	"image/png"
	"net/url"
	"strings"
	"testing"

	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/transform/codec"
)

func TestSpriteAndMulti(t *testing.T) {
	a, cld := start(t)
	rcv := newReceiver(t, cld)
	for id, f := range map[string]string{"logos/a": "photo-snake-600x450-grayscale.jpg",
		"logos/b": "interlaced-rgb-horse-200x200.png", "logos/c": "exif-orient6-synthetic-70x50.jpg"} {
		upload(t, cld, fixtures.Path(t, f), uploader.UploadParams{PublicID: id, Tags: []string{"logos"}})
	}
	upload(t, cld, fixtures.Path(t, "avif-still-320x180.avif"), uploader.UploadParams{PublicID: "other"})

	sp, err := cld.Upload.GenerateSprite(bg, uploader.GenerateSpriteParams{Tag: "logos", Transformation: "c_scale,w_50"})
	if err != nil || sp.Error.Message != "" {
		t.Fatalf("sprite: %v %+v", err, sp.Error)
	}
	// snake 600x450 → 50x38 (37.5 rounds up), horse 50x50, orient-6 image
	// shown upright 50x70 → 50x70; stacked in public_id order.
	wantY := map[string][2]int{"logos/a": {0, 38}, "logos/b": {38, 50}, "logos/c": {88, 70}}
	if len(sp.ImageInfos) != 3 {
		t.Fatalf("image_infos: %+v", sp.ImageInfos)
	}
	for id, want := range wantY {
		in := sp.ImageInfos[id]
		if in.Width != 50 || in.Y != want[0] || in.Height != want[1] || in.X != 0 {
			t.Errorf("%s: %+v, want y=%d h=%d", id, in, want[0], want[1])
		}
	}
	if !strings.Contains(sp.ImageURL, "/demo/image/sprite/c_scale,w_50/v") || !strings.HasSuffix(sp.ImageURL, "/logos.png") {
		t.Errorf("image_url %s", sp.ImageURL)
	}
	resp, body := get(t, sp.ImageURL)
	if resp.StatusCode != 200 {
		t.Fatalf("sprite image: %d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(body)); err != nil || cfg.Width != 50 || cfg.Height != 158 {
		t.Errorf("sprite image %+v %v, want 50x158", cfg, err)
	}
	resp, body = get(t, sp.CSSURL)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") ||
		!strings.Contains(string(body), ".logos-b {") || !strings.Contains(string(body), "background-position: -0px -38px;") {
		t.Errorf("sprite CSS (%d):\n%s", resp.StatusCode, body)
	}
	resp, body = get(t, sp.JSONURL)
	var js struct {
		ImageInfos map[string]struct{ Y int } `json:"image_infos"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &js) != nil || js.ImageInfos["logos/c"].Y != 88 {
		t.Errorf("sprite JSON (%d): %s", resp.StatusCode, body)
	}

	mu, err := cld.Upload.Multi(bg, uploader.MultiParams{Tag: "logos", Format: "gif", Transformation: "c_fill,w_40,h_30/dl_250"})
	if err != nil || mu.Error.Message != "" || mu.PublicID != "logos" || !strings.HasSuffix(mu.URL, "/logos.gif") {
		t.Fatalf("multi: %v %+v", err, mu)
	}
	resp, body = get(t, mu.URL)
	g, err := gif.DecodeAll(bytes.NewReader(body))
	if resp.StatusCode != 200 || err != nil || len(g.Image) != 3 || g.Config.Width != 40 || g.Config.Height != 30 {
		t.Fatalf("multi GIF: %d %v", resp.StatusCode, err)
	}
	if g.Delay[0] != 25 { // dl_250: 250 ms, in GIF centiseconds
		t.Errorf("multi frame delay %d cs, want 25", g.Delay[0])
	}
	// dl_ also re-times an animation on delivery.
	resp, body = get(t, strings.Replace(mu.URL, "/dl_250/", "/dl_250/dl_500/", 1))
	if g2, err := gif.DecodeAll(bytes.NewReader(body)); resp.StatusCode != 200 || err != nil || g2.Delay[0] != 50 {
		t.Errorf("dl_500 on delivery: %d %v", resp.StatusCode, err)
	}

	// To PDF: one page per image, each at its own size (1 px = 1 pt).
	pdf, err := cld.Upload.Multi(bg, uploader.MultiParams{Tag: "logos", Format: "pdf", Transformation: "c_scale,w_100"})
	if err != nil || pdf.Error.Message != "" || !strings.HasSuffix(pdf.URL, "/logos.pdf") {
		t.Fatalf("multi to PDF: %v %+v", err, pdf)
	}
	resp, body = get(t, pdf.URL)
	info, err := codec.Probe(body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || err != nil || info.Pages != 3 {
		t.Fatalf("multi PDF: %d %s %+v %v", resp.StatusCode, resp.Header.Get("Content-Type"), info, err)
	}
	if info.Width != 100*150/72 { // page 1 is 100 pt wide, read back at 150 dpi
		t.Errorf("PDF page 1 width %d", info.Width)
	}

	// Async, with f_ in the transformation (as the Node SDK sends it) and a
	// notification.
	m := signedPost(t, a, "multi", url.Values{"tag": {"logos"}, "transformation": {"f_webp,c_scale,w_20"},
		"async": {"true"}, "notification_url": {rcv.URL()}})
	if m["status"] != "processing" || m["batch_id"] == nil {
		t.Fatalf("async multi: %v", m)
	}
	h := rcv.wait("multi")
	if h.Body["notification_type"] != "multi" || h.Body["batch_id"] != m["batch_id"] ||
		!strings.HasSuffix(h.Body["url"].(string), "/logos.webp") {
		t.Fatalf("multi notification: %s", h.Raw)
	}
	if resp, body := get(t, h.Body["url"].(string)); resp.StatusCode != 200 || !bytes.HasPrefix(body[8:], []byte("WEBP")) {
		t.Errorf("async multi WebP: %d", resp.StatusCode)
	}

	// Bad input.
	if r, _ := cld.Upload.GenerateSprite(bg, uploader.GenerateSpriteParams{Tag: "nothing"}); !strings.Contains(r.Error.Message, "No images") {
		t.Errorf("sprite of an unknown tag: %+v", r.Error)
	}
	if r, _ := cld.Upload.Multi(bg, uploader.MultiParams{Tag: "logos", Format: "mp4"}); !strings.Contains(r.Error.Message, "not supported") {
		t.Errorf("multi to mp4: %+v", r.Error)
	}
}
