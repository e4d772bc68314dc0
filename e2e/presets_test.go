package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/admin"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/fixtures"
)

// TestUploadPresets creates presets with the Admin API and uploads through
// them: unsigned (as browsers do, no secret) and signed.
func TestUploadPresets(t *testing.T) {
	_, cld := start(t)
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	r, err := cld.Admin.CreateUploadPreset(bg, admin.CreateUploadPresetParams{Name: "browser", Unsigned: api.Bool(true),
		UploadParams: uploader.UploadParams{Folder: "incoming", Tags: []string{"unsigned"}, Eager: "c_scale,w_50"}})
	if err != nil || r.Error.Message != "" {
		t.Fatalf("create: %v %+v", err, r)
	}
	if _, err := cld.Admin.CreateUploadPreset(bg, admin.CreateUploadPresetParams{Name: "signedonly",
		UploadParams: uploader.UploadParams{Tags: []string{"server"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := cld.Admin.GetUploadPreset(bg, admin.GetUploadPresetParams{Name: "browser"})
	if err != nil || !got.Unsigned || !strings.Contains(fmt.Sprint(got.Settings), "incoming") {
		t.Fatalf("get: %v %+v", err, got)
	}
	list, err := cld.Admin.ListUploadPresets(bg, admin.ListUploadPresetsParams{})
	if err != nil || len(list.Presets) != 2 {
		t.Fatalf("list: %v %+v", err, list)
	}

	up, err := cld.Upload.UnsignedUpload(bg, snake, "browser", uploader.UploadParams{PublicID: "me",
		Overwrite: api.Bool(true), Type: "private"})
	if err != nil || up.Error.Message != "" {
		t.Fatalf("unsigned upload: %v %+v", err, up.Error)
	}
	if up.PublicID != "incoming/me" || up.Type != "upload" || !slices.Equal([]string(up.Tags), []string{"unsigned"}) || len(up.Eager) != 1 {
		t.Errorf("unsigned upload result: %s %s %v %d eager", up.PublicID, up.Type, up.Tags, len(up.Eager))
	}
	again, _ := cld.Upload.UnsignedUpload(bg, fixtures.Path(t, "interlaced-rgb-horse-200x200.png"), "browser",
		uploader.UploadParams{PublicID: "me", Overwrite: api.Bool(true)})
	if !strings.Contains(again.Error.Message, "already exists") || again.Width != 0 {
		t.Errorf("an unsigned upload over an existing asset: %+v", again)
	}
	if r, _ := cld.Upload.UnsignedUpload(bg, snake, "signedonly", uploader.UploadParams{}); !strings.Contains(r.Error.Message, "whitelisted for unsigned") {
		t.Errorf("unsigned through a signed preset: %+v", r.Error)
	}
	if r, _ := cld.Upload.UnsignedUpload(bg, snake, "nope", uploader.UploadParams{}); !strings.Contains(r.Error.Message, "not found") {
		t.Errorf("unknown preset: %+v", r.Error)
	}
	signed := upload(t, cld, snake, uploader.UploadParams{PublicID: "srv", UploadPreset: "signedonly"})
	if !slices.Equal([]string(signed.Tags), []string{"server"}) {
		t.Errorf("signed upload with a preset: tags %v", signed.Tags)
	}
	if r, err := cld.Admin.DeleteUploadPreset(bg, admin.DeleteUploadPresetParams{Name: "browser"}); err != nil || r.Message != "deleted" {
		t.Errorf("delete: %v %+v", err, r)
	}
}

// Browsers may call the upload API from any origin (CORS preflight), and
// read delivered images.
func TestCORS(t *testing.T) {
	a, cld := start(t)
	req, _ := http.NewRequest(http.MethodOptions, a.OriginURL+"/v1_1/demo/image/upload", nil)
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Range") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	upload(t, cld, fixtures.Path(t, "exif-orient1-synthetic-50x70.jpg"), uploadParams("c"))
	if resp, _ := get(t, a.EdgeURL+"/demo/image/upload/c.jpg"); resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("deliveries carry no CORS header")
	}
}
