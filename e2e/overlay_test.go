package e2e

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/internal/plugbuild"
)

// TestOverlays delivers image overlays (l_) in both of Cloudinary's forms,
// and after a plugin (run at the edge).
func TestOverlays(t *testing.T) {
	a, cld := start(t)
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("snake"))
	upload(t, cld, fixtures.Path(t, "interlaced-palette-trns-toucan-162x150.png"), uploadParams("brand/toucan"))
	base := a.EdgeURL + "/demo/image/upload/"
	decode := func(u string) image.Image {
		t.Helper()
		resp, body := get(t, u)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", u, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
		}
		m, err := png.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	plain := decode(base + "c_scale,w_300/snake.png")
	for _, tx := range []string{
		"c_scale,w_300/l_brand:toucan,w_60,g_south_east,x_10,y_10",
		"c_scale,w_300/l_brand:toucan/c_scale,w_60/fl_layer_apply,g_south_east,x_10,y_10",
	} {
		m := decode(base + tx + "/snake.png")
		if m.Bounds() != plain.Bounds() {
			t.Fatalf("%s: %v", tx, m.Bounds())
		}
		// The toucan (60 px wide, bottom right, 10 px in) changes pixels
		// there and nowhere near the top left.
		if same(m, plain, image.Rect(300-10-60, 225-10-50, 300-10, 225-10)) {
			t.Errorf("%s: no overlay in the bottom right", tx)
		}
		if !same(m, plain, image.Rect(0, 0, 100, 100)) {
			t.Errorf("%s: the top left changed", tx)
		}
	}
	if resp, _ := get(t, base+"l_nope/snake.png"); resp.StatusCode != 400 || !strings.Contains(resp.Header.Get("X-Cld-Error"), "Overlay not found - nope") {
		t.Errorf("missing overlay: %d %q", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	if resp, _ := get(t, base+"l_fetch:aHR0cDovL3g=/snake.png"); resp.StatusCode != 400 ||
		!strings.Contains(resp.Header.Get("X-Cld-Error"), "Unsupported overlay type: fetch") {
		t.Errorf("fetch overlay: %d %q", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}

	// After a plugin, the overlay is composed at the edge.
	wasm, err := plugbuild.Build("invert")
	if err != nil {
		t.Fatal(err)
	}
	uploadPlugin(t, cld, "invert.wasm", wasm)
	m := decode(base + "c_scale,w_300/fn_wasm:invert.wasm/l_brand:toucan,w_60,g_north_west/snake.png")
	inv := decode(base + "c_scale,w_300/fn_wasm:invert.wasm/snake.png")
	if same(m, inv, image.Rect(0, 0, 60, 50)) || !same(m, inv, image.Rect(200, 150, 300, 225)) {
		t.Error("overlay after a plugin: wrong place")
	}
}

// same reports whether a and b agree (within 8 levels) over r.
func same(a, b image.Image, r image.Rectangle) bool {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if absDiff(r1, r2) > 8<<8 || absDiff(g1, g2) > 8<<8 || absDiff(b1, b2) > 8<<8 {
				return false
			}
		}
	}
	return true
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// Replacing an overlay's image with invalidate purges what used it.
func TestOverlayPurge(t *testing.T) {
	a, cld := start(t)
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("snake"))
	upload(t, cld, fixtures.Path(t, "interlaced-palette-trns-toucan-162x150.png"), uploadParams("logo"))
	u := a.EdgeURL + "/demo/image/upload/l_logo,w_100,g_north_west/c_scale,w_200/snake.png"
	resp, before := get(t, u)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	under := a.EdgeURL + "/demo/image/upload/r_max/u_logo,c_fill,w_600,h_450/snake.png"
	resp, underBefore := get(t, under)
	if resp.StatusCode != 200 {
		t.Fatalf("underlay: %d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	upload(t, cld, fixtures.Path(t, "interlaced-rgb-horse-200x200.png"), uploader.UploadParams{PublicID: "logo",
		Overwrite: api.Bool(true), Invalidate: api.Bool(true)})
	eventually(t, "a delivery using a replaced overlay is purged", func() bool {
		_, after := get(t, u)
		return !bytes.Equal(after, before)
	})
	eventually(t, "a delivery using a replaced underlay is purged", func() bool {
		_, after := get(t, under)
		return !bytes.Equal(after, underBefore)
	})
}

// TestTextOverlay writes text over an image through a delivery URL, with
// a space and a double-escaped comma as Cloudinary's URLs carry them.
func TestTextOverlay(t *testing.T) {
	a, cld := start(t)
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("snake"))
	base := a.EdgeURL + "/demo/image/upload/c_scale,w_300/"
	_, plainBody := get(t, base+"snake.png")
	plain, _ := png.Decode(bytes.NewReader(plainBody))
	resp, body := get(t, base+"l_text:Arial_28_bold:Hello%20edgepix%252C%20hi,co_rgb:ff0000,g_south,y_8/snake.png")
	if resp.StatusCode != 200 {
		t.Fatalf("text overlay: %d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	m, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if same(m, plain, image.Rect(60, 190, 240, 217)) || !same(m, plain, image.Rect(0, 0, 300, 150)) {
		t.Error("the text is not at the bottom centre only")
	}
	reds := 0
	for y := 180; y < 225; y++ {
		for x := 0; x < 300; x++ {
			if r, g, b, _ := m.At(x, y).RGBA(); r>>8 > 200 && g>>8 < 90 && b>>8 < 90 {
				reds++
			}
		}
	}
	if reds < 300 {
		t.Errorf("%d red text pixels", reds)
	}
}

// A public_id with a space travels edge → origin escaped.
func TestPublicIDWithSpace(t *testing.T) {
	a, cld := start(t)
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("my photo"))
	if resp, _ := get(t, a.EdgeURL+"/demo/image/upload/c_scale,w_50/my%20photo.jpg"); resp.StatusCode != 200 {
		t.Errorf("%d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
}

// TestDefaultImage: d_ serves a placeholder, transformed, for a missing
// asset, until the asset is uploaded.
func TestDefaultImage(t *testing.T) {
	a, cld := start(t)
	upload(t, cld, fixtures.Path(t, "interlaced-rgb-horse-200x200.png"), uploadParams("avatars/default"))
	u := a.EdgeURL + "/demo/image/upload/d_avatars:default.png,c_fill,w_50,h_40/users/ann.png"
	resp, body := get(t, u)
	if resp.StatusCode != 200 {
		t.Fatalf("placeholder: %d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(body)); err != nil || cfg.Width != 50 || cfg.Height != 40 {
		t.Errorf("placeholder size %+v %v", cfg, err)
	}
	if again, _ := get(t, u); again.Header.Get("X-Cache") != "MISS" || again.Header.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("a placeholder must not be cached: %s, %s", again.Header.Get("X-Cache"), again.Header.Get("Cache-Control"))
	}
	if resp, _ := get(t, a.EdgeURL+"/demo/image/upload/d_nothing.png/users/ann.png"); resp.StatusCode != 400 {
		t.Errorf("missing placeholder: %d", resp.StatusCode)
	}
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("users/ann"))
	if _, after := get(t, u); bytes.Equal(after, body) {
		t.Error("the placeholder is still served after the upload")
	}
}

// TestConditions: if_ branches on size and on the asset's tags.
func TestConditions(t *testing.T) {
	a, cld := start(t)
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploader.UploadParams{PublicID: "vip", Tags: []string{"vip"}})
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("plain"))
	width := func(tx, id string) int {
		t.Helper()
		resp, body := get(t, a.EdgeURL+"/demo/image/upload/"+tx+"/"+id+".png")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tx, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Width
	}
	tx := "if_!vip!_in_tags/c_scale,w_300/if_else/c_scale,w_100/if_end"
	if w := width(tx, "vip"); w != 300 {
		t.Errorf("tagged: %d", w)
	}
	if w := width(tx, "plain"); w != 100 {
		t.Errorf("untagged: %d", w)
	}
	if w := width("if_w_gt_500,c_scale,w_50", "plain"); w != 50 {
		t.Errorf("size condition: %d", w)
	}
	if resp, _ := get(t, a.EdgeURL+"/demo/image/upload/if_fc_gt_0,c_scale,w_5/plain.png"); resp.StatusCode != 400 {
		t.Errorf("unsupported operand: %d", resp.StatusCode)
	}
}
