package e2e

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/fixtures"
)

// TestPDFPagesAndExplode uploads a 21-page PDF with the SDK, delivers
// pages as images, and explodes it in the background.
func TestPDFPagesAndExplode(t *testing.T) {
	a, cld := start(t)
	rcv := newReceiver(t, cld)
	res := upload(t, cld, fixtures.Path(t, "pdf-mma-tutorial-21pages-text.pdf"), uploadParams("docs/mma"))
	if res.Format != "pdf" || res.Pages != 21 || res.Width != 1275 || res.Height != 1650 {
		t.Fatalf("PDF upload: %s %d pages %dx%d", res.Format, res.Pages, res.Width, res.Height)
	}
	resp, body := get(t, a.EdgeURL+"/demo/image/upload/docs/mma.pdf")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || len(body) != res.Bytes {
		t.Fatalf("original PDF: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, body = get(t, a.EdgeURL+"/demo/image/upload/pg_3/c_scale,w_200/docs/mma.png")
	if resp.StatusCode != 200 {
		t.Fatalf("page 3: %d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(body)); err != nil || cfg.Width != 200 || cfg.Height != 259 {
		t.Errorf("page 3 as PNG: %+v %v", cfg, err)
	}
	if resp, _ := get(t, a.EdgeURL+"/demo/image/upload/pg_22/docs/mma.png"); resp.StatusCode != 400 ||
		!strings.Contains(resp.Header.Get("X-Cld-Error"), "21 page") {
		t.Errorf("page 22 of 21: %d %q", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	if r, _ := cld.Upload.Upload(bg, fixtures.Path(t, "bad-truncated-pdf-40pct.pdf"), uploadParams("broken")); !strings.Contains(r.Error.Message, "Invalid image") {
		t.Errorf("truncated PDF upload: %+v", r.Error)
	}

	ex, err := cld.Upload.Explode(bg, uploader.ExplodeParams{PublicID: "docs/mma", Format: "jpg", NotificationURL: rcv.URL()})
	if err != nil || ex.Status != "processing" || ex.BatchID == "" {
		t.Fatalf("explode: %v %+v", err, ex)
	}
	h := rcv.wait("explode")
	pages, _ := h.Body["resources"].([]any)
	if h.Body["notification_type"] != "explode" || h.Body["batch_id"] != ex.BatchID || len(pages) != 21 {
		t.Fatalf("explode notification: %.300s", h.Raw)
	}
	last := pages[20].(map[string]any)
	if !strings.Contains(last["url"].(string), "/pg_21/") || last["format"] != "jpg" {
		t.Errorf("page 21 entry: %v", last)
	}
	renders := rendersTotal(t, a)
	if resp, _ := get(t, last["url"].(string)); resp.StatusCode != 200 || rendersTotal(t, a) != renders {
		t.Errorf("an exploded page was rendered again on delivery")
	}
	if r, _ := cld.Upload.Explode(bg, uploader.ExplodeParams{PublicID: "ghost"}); !strings.Contains(r.Error.Message, "not found") {
		t.Errorf("explode of an unknown id: %+v", r.Error)
	}
}
