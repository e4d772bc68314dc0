package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/plugins"
)

// TestCreativeOutputsAreCapped: --max-pixels bounds what a sprite or a
// multi produces (and holds while rendering it), not only each image.
func TestCreativeOutputsAreCapped(t *testing.T) {
	// Each 600x450 image (270 000 px) fits; two of them stacked or
	// animated do not.
	_, cld := start(t, func(c *app.Config) { c.MaxPixels = 500_000 })
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	for _, id := range []string{"a", "b", "c"} {
		upload(t, cld, snake, uploader.UploadParams{PublicID: id, Tags: []string{"many"}})
	}
	upload(t, cld, snake, uploader.UploadParams{PublicID: "solo", Tags: []string{"one"}})
	sp, err := cld.Upload.GenerateSprite(bg, uploader.GenerateSpriteParams{Tag: "many"})
	if err != nil || !strings.Contains(sp.Error.Message, "pixels") {
		t.Errorf("sprite over --max-pixels: %v %+v", err, sp.Error)
	}
	for _, format := range []string{"gif", "pdf"} {
		m, err := cld.Upload.Multi(bg, uploader.MultiParams{Tag: "many", Format: format})
		if err != nil || !strings.Contains(m.Error.Message, "pixels") {
			t.Errorf("multi %s over --max-pixels: %v %+v", format, err, m.Error)
		}
	}
	// Scaled down, the same images fit.
	if sp, err := cld.Upload.GenerateSprite(bg, uploader.GenerateSpriteParams{Tag: "many", Transformation: "c_scale,w_100"}); err != nil || sp.Error.Message != "" {
		t.Errorf("a small sprite: %v %+v", err, sp.Error)
	}
	if sp, err := cld.Upload.GenerateSprite(bg, uploader.GenerateSpriteParams{Tag: "one"}); err != nil || sp.Error.Message != "" {
		t.Errorf("a one-image sprite: %v %+v", err, sp.Error)
	}
}

// TestPluginLimitsOnRename: a module too large to be a plugin cannot
// become one by being uploaded under another name and renamed.
func TestPluginLimitsOnRename(t *testing.T) {
	_, cld := start(t)
	big := bytes.Repeat([]byte{0}, plugins.MaxModuleBytes+1)
	copy(big, "\x00asm\x01\x00\x00\x00")
	r, err := cld.Upload.Upload(bg, bytes.NewReader(big), uploader.UploadParams{PublicID: "big.bin", ResourceType: "raw"})
	if err != nil || r.Error.Message != "" {
		t.Fatalf("raw upload: %v %+v", err, r.Error)
	}
	mv, err := cld.Upload.Rename(bg, uploader.RenameParams{FromPublicID: "big.bin", ToPublicID: "big.wasm", ResourceType: "raw"})
	if err != nil || !strings.Contains(fmt.Sprint(mv.Error), "byte limit") {
		t.Errorf("rename to .wasm: %v %+v", err, mv.Error)
	}
	bad, err := cld.Upload.Upload(bg, bytes.NewReader([]byte("not wasm")), uploader.UploadParams{PublicID: "x.bin", ResourceType: "raw"})
	if err != nil || bad.Error.Message != "" {
		t.Fatal(err, bad.Error)
	}
	if mv, _ := cld.Upload.Rename(bg, uploader.RenameParams{FromPublicID: "x.bin", ToPublicID: "x.wasm", ResourceType: "raw"}); !strings.Contains(fmt.Sprint(mv.Error), "Invalid plugin") {
		t.Errorf("rename of a non-module to .wasm: %+v", mv.Error)
	}
}
