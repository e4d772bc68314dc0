package e2e

import (
	"bytes"
	"image"
	_ "image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
)

// TestClientHints delivers dpr_auto and w_auto URLs built by the official
// Go SDK with the client hints browsers send: the resolved size, the
// headers that keep variants apart in caches, one cache entry per resolved
// value, and signed URLs still valid after resolution.
func TestClientHints(t *testing.T) {
	_, cld := start(t)
	upload(t, cld, fixtures.Path(t, "photo-storm-1920x1280.jpg"), uploadParams("storm"))
	width := func(u string, hdr ...string) (int, *httpResp) {
		t.Helper()
		resp, body := get(t, u, hdr...)
		r := &httpResp{status: resp.StatusCode, vary: resp.Header.Get("Vary"), acceptCH: resp.Header.Get("Accept-CH"),
			cache: resp.Header.Get("X-Cache"), cc: resp.Header.Get("Cache-Control"), err: resp.Header.Get("X-Cld-Error")}
		if resp.StatusCode != 200 {
			return 0, r
		}
		m, _, err := image.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		return m.Bounds().Dx(), r
	}
	dpr := deliveryURL(t, cld, "storm", "c_scale,dpr_auto,w_200", false)
	auto := deliveryURL(t, cld, "storm", "c_scale,w_auto:100:400", false)
	both := deliveryURL(t, cld, "storm", "c_scale,dpr_auto,w_auto", false)
	signed := deliveryURL(t, cld, "storm", "c_scale,dpr_auto,w_100", true)
	cases := []struct {
		url  string
		hdr  []string
		want int
	}{
		{dpr, nil, 200},
		{dpr, []string{"Sec-CH-DPR", "2"}, 400},
		{dpr, []string{"DPR", "2.625"}, 600},
		{dpr, []string{"Sec-CH-DPR", "2"}, 400},
		{auto, nil, 400},
		{auto, []string{"Sec-CH-Width", "730"}, 800},
		{auto, []string{"Width", "250"}, 300},
		{auto, []string{"Sec-CH-Viewport-Width", "512"}, 600},
		{both, []string{"Sec-CH-DPR", "2", "Sec-CH-Width", "800"}, 800},
		{both, []string{"Sec-CH-DPR", "2", "Sec-CH-Viewport-Width", "375"}, 800},
		{both, nil, 1920},
		{signed, []string{"Sec-CH-DPR", "3"}, 300},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		w, r := width(c.url, c.hdr...)
		if w != c.want {
			t.Errorf("%s %v: width %d (%d %s), want %d", c.url, c.hdr, w, r.status, r.err, c.want)
		}
		if !strings.Contains(r.acceptCH, "Sec-CH-DPR") || !strings.Contains(r.acceptCH, "Sec-CH-Width") {
			t.Errorf("%s: Accept-CH %q", c.url, r.acceptCH)
		}
		if strings.Contains(c.url, "dpr_auto") && !strings.Contains(r.vary, "Sec-CH-DPR") ||
			strings.Contains(c.url, "w_auto") && !strings.Contains(r.vary, "Sec-CH-Width") {
			t.Errorf("%s: Vary %q", c.url, r.vary)
		}
		// One entry per resolved value: the repeated DPR 2 request hits.
		key := c.url + strings.Join(c.hdr, "=")
		if want := map[bool]string{true: "HIT", false: "MISS"}[seen[key]]; r.cache != want {
			t.Errorf("%s %v: X-Cache %s, want %s", c.url, c.hdr, r.cache, want)
		}
		seen[key] = true
	}
	// dpr_auto with DPR 1.5 resolves to 2, the entry DPR 2 made.
	if _, r := width(dpr, "Sec-CH-DPR", "1.5"); r.cache != "HIT" {
		t.Errorf("DPR 1.5 is not served the dpr_2.0 entry: %s", r.cache)
	}
	// f_auto and hints vary together.
	if _, r := width(deliveryURL(t, cld, "storm", "c_scale,dpr_auto,w_50,f_auto", false), "Accept", "image/webp"); !strings.Contains(r.vary, "Accept") || !strings.Contains(r.vary, "DPR") {
		t.Errorf("f_auto + dpr_auto Vary %q", r.vary)
	}
	if _, r := width(deliveryURL(t, cld, "storm", "w_auto:0", false)); r.status != 400 || !strings.Contains(r.err, "Invalid width") {
		t.Errorf("w_auto:0: %d %q", r.status, r.err)
	}
	// fl_immutable_cache makes even unversioned URLs immutable.
	if _, r := width(a0(deliveryURL(t, cld, "storm", "w_50,fl_immutable_cache", false))); !strings.Contains(r.cc, "immutable") {
		t.Errorf("fl_immutable_cache: Cache-Control %q", r.cc)
	}
}

// a0 drops the version the SDK adds, so that only the flag can make the
// response immutable.
func a0(u string) string {
	i := strings.Index(u, "/v1/")
	if i < 0 {
		return u
	}
	return u[:i] + u[i+3:]
}

type httpResp struct {
	status                         int
	vary, acceptCH, cache, cc, err string
}

// TestFlagSpellings delivers two flags in one component in both spellings
// the SDKs emit, and issue 13's refusals with their messages.
func TestFlagSpellings(t *testing.T) {
	_, cld := start(t)
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("snake"))
	upload(t, cld, fixtures.Path(t, "interlaced-palette-trns-toucan-162x150.png"), uploadParams("toucan"))
	fetch := func(tx string) (*httpResp, []byte) {
		t.Helper()
		u := deliveryURL(t, cld, "snake", tx, false)
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i] + ".png" + u[i:]
		}
		resp, body := get(t, u)
		return &httpResp{status: resp.StatusCode, err: resp.Header.Get("X-Cld-Error")}, body
	}
	var bodies [][]byte
	for _, tx := range []string{
		"c_scale,w_100/l_toucan/c_scale,w_300/fl_layer_apply,fl_no_overflow,g_north_west",
		"c_scale,w_100/l_toucan/c_scale,w_300/fl_layer_apply.no_overflow,g_north_west",
		"c_scale,w_100/l_toucan/c_scale,w_300/fl_no_overflow.layer_apply,g_north_west",
	} {
		r, body := fetch(tx)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tx, r.status, r.err)
		}
		m, err := png.Decode(bytes.NewReader(body))
		if err != nil || m.Bounds().Dx() != 100 {
			t.Fatalf("%s: %v %v", tx, err, m)
		}
		bodies = append(bodies, body)
	}
	if !bytes.Equal(bodies[0], bodies[1]) || !bytes.Equal(bodies[1], bodies[2]) {
		t.Error("the spellings of fl_layer_apply + fl_no_overflow render differently")
	}
	// Without fl_no_overflow the 300 px layer extends the 100 px base.
	r, body := fetch("c_scale,w_100/l_toucan/c_scale,w_300/fl_layer_apply,g_north_west")
	if m, err := png.Decode(bytes.NewReader(body)); r.status != 200 || err != nil || m.Bounds().Dx() != 300 {
		t.Errorf("overflowing layer: %d %s", r.status, r.err)
	}
	// Formats in the extension, and fl_getinfo's JSON.
	for ext, ct := range map[string]string{".bmp": "image/bmp", ".tiff": "image/tiff", ".tif": "image/tiff", ".ico": "image/x-icon"} {
		u := strings.Replace(deliveryURL(t, cld, "snake", "c_fit,w_64,h_64", false), "?", ext+"?", 1)
		if resp, body := get(t, u); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ct || len(body) == 0 {
			t.Errorf("%s: %d %q %s", ext, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Cld-Error"))
		}
	}
	resp, body := get(t, deliveryURL(t, cld, "snake", "w_100,fl_getinfo", false))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" ||
		!strings.Contains(string(body), `"output":{"width":100,"height":75`) {
		t.Errorf("fl_getinfo: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	for tx, msg := range map[string]string{
		"c_thumb,g_face,w_80,h_80": "Unsupported gravity: g_face needs face detection",
		"e_pixelate_faces":         "Unsupported effect: e_pixelate_faces needs face detection",
		"e_art:picasso":            "Invalid effect level in transformation: art:picasso",
		"w_iw_plus_2":              "Invalid expression in transformation: iw_plus_2",
	} {
		if r, _ := fetch(tx); r.status != 400 || !strings.Contains(r.err, msg) {
			t.Errorf("%s: %d %q, want 400 %q", tx, r.status, r.err, msg)
		}
	}
}

// TestNodeSDKBreadth builds client-hint, multi-flag and expression URLs with the
// official Node SDK (e2e/node/breadth.mjs) and delivers them.
func TestNodeSDKBreadth(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Node.js")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("Node.js is not installed: the Node SDK check needs node and npm")
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "cloudinary")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	fixtures.Path(t, "photo-storm-1920x1280.jpg")
	a, _ := start(t)
	cmd := exec.Command("node", "breadth.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CLOUDINARY_URL="+testAccount.URL(a.OriginURL),
		"EDGE_HOST="+strings.TrimPrefix(a.EdgeURL, "http://"), "FIXTURES="+fixtures.Dir())
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("Node SDK: %v", err)
	}
}
