package e2e

import (
	"strings"
	"testing"

	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
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
