package e2e

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/cloudinary/cloudinary-go/v2"
	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/internal/plugbuild"
	"github.com/edgepix/edgepix/internal/wasmasm"
	"github.com/edgepix/edgepix/origin"
	"github.com/edgepix/edgepix/plugins/examples/fx"
	"github.com/edgepix/edgepix/sdk/plugin"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/edgepix/edgepix/transform/pipeline"
)

// uploadPlugin stores wasm as an authenticated raw asset with the SDK.
func uploadPlugin(t *testing.T, cld *cloudinary.Cloudinary, id string, wasm []byte, extra ...func(*uploader.UploadParams)) *uploader.UploadResult {
	t.Helper()
	p := uploader.UploadParams{PublicID: id, ResourceType: "raw", Type: "authenticated"}
	for _, f := range extra {
		f(&p)
	}
	res, err := cld.Upload.Upload(bg, bytes.NewReader(wasm), p)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// native renders what a delivery with a plugin should produce: the steps
// before with the pipeline, the plugin's function natively, the steps
// after with the pipeline.
func native(t *testing.T, src []byte, before, after string, f plugin.Func, meta plugin.Meta) *image.NRGBA {
	t.Helper()
	ch, _ := grammar.ParseChain(before)
	r, err := pipeline.Render(src, pipeline.Request{Chain: ch, Format: "png"})
	if err != nil {
		t.Fatal(err)
	}
	img, err := codec.Decode(r.Data, codec.DecodeOptions{IgnoreOrientation: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := f(img.Frames[0], meta)
	if err != nil {
		t.Fatal(err)
	}
	img.Frames[0] = out
	ach, _ := grammar.ParseChain(after)
	b := out.Rect
	img, err = pipeline.Apply(img, ach, b.Dx(), b.Dy(), pipeline.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return img.Frames[0]
}

func decodePNG(t *testing.T, b []byte) *image.NRGBA {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v (%q)", err, b[:min(len(b), 80)])
	}
	n, ok := img.(*image.NRGBA)
	if !ok {
		n = image.NewNRGBA(img.Bounds())
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
				n.Set(x, y, img.At(x, y))
			}
		}
	}
	return n
}

func TestExamplePluginsMatchNativeGo(t *testing.T) {
	acct := testAccount
	acct.PluginTimeoutMS = 20000 // correctness here, not limits: room for cold loads on a busy machine
	a, cld := start(t, func(c *app.Config) { c.Accounts = []origin.Account{acct} })
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	upload(t, cld, snake, uploader.UploadParams{PublicID: "snake", Tags: []string{"reptile"}})
	src, _ := os.ReadFile(snake)
	cases := []struct {
		name, before, vars, after string
		f                         plugin.Func
		meta                      plugin.Meta
	}{
		{"invert", "c_fill,w_200,h_150", "", "c_scale,w_100", fx.Invert, plugin.Meta{}},
		{"simdinvert", "c_scale,w_300", "", "", fx.Invert, plugin.Meta{}}, // WAT, assembled from source
		{"duotone", "c_scale,w_160", "$light_!00ff88!,", "a_90", fx.Duotone, plugin.Meta{Variables: map[string]any{"light": "00ff88"}}},
		{"blur", "", "$radius_6,", "c_crop,w_300,h_200,g_center", fx.Blur, plugin.Meta{Variables: map[string]any{"radius": 6.0}}},
		{"placeholder", "c_fill,w_120,h_90", "", "", fx.Placeholder, plugin.Meta{}},
		{"watermark", "c_scale,w_240", "$opacity_50,", "r_20", fx.Watermark, plugin.Meta{Variables: map[string]any{"opacity": 50.0}}},
	}
	for _, c := range cases {
		wasm, err := plugbuild.Build(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if res := uploadPlugin(t, cld, c.name+".wasm", wasm); res.Error.Message != "" || res.ResourceType != "raw" {
			t.Fatalf("upload %s: %+v", c.name, res.Error)
		}
		var parts []string
		if c.before != "" {
			parts = append(parts, c.before)
		}
		parts = append(parts, c.vars+"fn_wasm:"+c.name+".wasm")
		if c.after != "" {
			parts = append(parts, c.after)
		}
		u := a.EdgeURL + "/demo/image/upload/" + strings.Join(parts, "/") + "/snake.png"
		resp, body := get(t, u)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
		}
		got := decodePNG(t, body)
		want := native(t, src, c.before, c.after, c.f, c.meta)
		if got.Rect.Size() != want.Rect.Size() {
			t.Fatalf("%s: %v, native %v", c.name, got.Rect, want.Rect)
		}
		if psnr := pipeline.PSNR(got, want); psnr < 60 {
			t.Errorf("%s: PSNR %.1f dB against native Go", c.name, psnr)
		}
		if resp, _ := get(t, u); resp.Header.Get("X-Cache") != "HIT" {
			t.Errorf("%s: the plugin result is not cached", c.name)
		}
	}
	// Two plugins in one chain, and a plugin in a chain that also has an
	// unknown plugin.
	resp, body := get(t, a.EdgeURL+"/demo/image/upload/c_scale,w_100/fn_wasm:invert.wasm/fn_wasm:invert.wasm/snake.png")
	if resp.StatusCode != 200 {
		t.Fatalf("double invert: %d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	if psnr := pipeline.PSNR(decodePNG(t, body), native(t, src, "c_scale,w_100", "", func(m *image.NRGBA, _ plugin.Meta) (*image.NRGBA, error) { return m, nil }, plugin.Meta{})); psnr < 60 {
		t.Errorf("inverting twice should give the image back: %.1f dB", psnr)
	}
	if resp, _ := get(t, a.EdgeURL+"/demo/image/upload/fn_wasm:nope.wasm/snake.png"); resp.StatusCode != 404 || !strings.Contains(resp.Header.Get("X-Cld-Error"), "Plugin not found") {
		t.Errorf("unknown plugin: %d %q", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
}

// TestHandMadeAndHostilePlugins: a plugin written in the wasm binary
// format (Cloudinary's ABI, no runtime) works end to end; forbidden
// imports are refused at upload; more plugins that loop (or recurse with
// no loop) than there are cores fail their requests with 504 while other
// deliveries keep succeeding, and so do plugins that trap or crash the
// process running them; overwriting a plugin with invalidate purges what
// it produced.
func TestHandMadeAndHostilePlugins(t *testing.T) {
	acct := testAccount
	acct.PluginTimeoutMS = 1500 // short, yet room for a first call that loads its module on a busy machine
	a, cld := start(t, func(c *app.Config) { c.Accounts = []origin.Account{acct} })
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	upload(t, cld, snake, uploadParams("snake"))
	src, _ := os.ReadFile(snake)

	uploadPlugin(t, cld, "hand/invert.wasm", wasmasm.Invert())
	u := a.EdgeURL + "/demo/image/upload/c_scale,w_120/fn_wasm:hand:invert.wasm/snake.png"
	resp, body := get(t, u)
	if resp.StatusCode != 200 {
		t.Fatalf("hand-made plugin: %d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	if psnr := pipeline.PSNR(decodePNG(t, body), native(t, src, "c_scale,w_120", "", fx.Invert, plugin.Meta{})); psnr < 60 {
		t.Errorf("hand-made invert: %.1f dB", psnr)
	}

	res, err := cld.Upload.Upload(bg, bytes.NewReader(wasmasm.ForbiddenImport),
		uploader.UploadParams{PublicID: "evil.wasm", ResourceType: "raw", Type: "authenticated"})
	if err != nil || !strings.Contains(res.Error.Message, "forbidden import wasi_snapshot_preview1.path_open") {
		t.Errorf("forbidden import at upload: %v %+v", err, res.Error)
	}

	uploadPlugin(t, cld, "spin.wasm", wasmasm.Spin)
	uploadPlugin(t, cld, "tree.wasm", wasmasm.CallTree)
	var wg sync.WaitGroup
	for i := range 2*runtime.GOMAXPROCS(0) + 1 { // more than the plugin workers and the cores
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := []string{"spin.wasm", "tree.wasm"}[i%2]
			resp, _ := get(t, fmt.Sprintf("%s/demo/image/upload/c_scale,w_%d/fn_wasm:%s/snake.png", a.EdgeURL, 20+i, name))
			if resp.StatusCode != 504 || !strings.Contains(resp.Header.Get("X-Cld-Error"), "timed out") {
				t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
			}
		}()
	}
	for i := range 8 {
		if resp, _ := get(t, fmt.Sprintf("%s/demo/image/upload/c_scale,w_%d/snake.jpg", a.EdgeURL, 50+i)); resp.StatusCode != 200 {
			t.Errorf("a delivery failed while plugins looped: %d", resp.StatusCode)
		}
	}
	wg.Wait()
	for name, wasm := range map[string][]byte{"trap.wasm": wasmasm.Trap, "bad.wasm": wasmasm.BadPointer, "huge.wasm": wasmasm.HugeOutput,
		"tablebomb.wasm": wasmasm.TableBomb, "crash.wasm": wasmasm.ExitCrash} {
		uploadPlugin(t, cld, name, wasm)
		resp, _ := get(t, a.EdgeURL+"/demo/image/upload/fn_wasm:"+name+"/snake.png")
		if resp.StatusCode < 400 || resp.Header.Get("X-Cld-Error") == "" {
			t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
		}
	}

	// A new version with invalidate: the cached output is purged and the
	// next request runs the new plugin (blur instead of invert).
	blur, err := plugbuild.Build("blur")
	if err != nil {
		t.Fatal(err)
	}
	uploadPlugin(t, cld, "hand/invert.wasm", blur, func(p *uploader.UploadParams) {
		p.Overwrite, p.Invalidate = api.Bool(true), api.Bool(true)
	})
	want := native(t, src, "c_scale,w_120", "", fx.Blur, plugin.Meta{})
	eventually(t, "the overwritten plugin's output is purged and re-rendered", func() bool {
		_, body := get(t, u)
		return pipeline.PSNR(decodePNG(t, body), want) > 60
	})
}
