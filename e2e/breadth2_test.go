package e2e

import (
	"bytes"
	"encoding/json"
	"image"
	_ "image/jpeg"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/fixtures"
)

// TestExpressionsEverywhere delivers, through URLs the Go SDK builds,
// expressions and variables in numeric parameters other than sizes,
// conditions on the asset's context, c_auto, w_auto:breakpoints (by file
// size, and :json), and a progressive JPEG with a chroma subsampling
// image/jpeg refuses, uploaded and delivered.
func TestExpressionsEverywhere(t *testing.T) {
	_, cld := start(t)
	upload(t, cld, fixtures.Path(t, "photo-storm-1920x1280.jpg"), uploader.UploadParams{PublicID: "storm",
		Context: api.CldAPIMap{"kind": "shoes", "size": "120"}})
	width := func(tx string) (int, *httpResp) {
		t.Helper()
		resp, body := get(t, deliveryURL(t, cld, "storm", tx, false))
		r := &httpResp{status: resp.StatusCode, err: resp.Header.Get("X-Cld-Error")}
		if resp.StatusCode != 200 {
			return 0, r
		}
		m, _, err := image.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", tx, err)
		}
		return m.Bounds().Dx(), r
	}
	for tx, want := range map[string]int{
		// Cloudinary's example: a border of 10% of the width, at most 15 px.
		"c_fill,w_500,h_500/$bordersize_w_mul_0.1/if_$bordersize_gt_15,$bordersize_15/bo_$bordersize_solid_rgb:FFB235": 530,
		"c_fill,w_100,h_100/$bordersize_w_mul_0.1/if_$bordersize_gt_15,$bordersize_15/bo_$bordersize_solid_rgb:FFB235": 120,
		"if_ctx:!kind!_eq_!shoes!,c_scale,w_40":                             40,
		"if_ctx:!kind!_eq_!boots!,c_scale,w_40/c_scale,w_0.05":              96,
		"$s_ctx:!size!_to_f/c_scale,w_$s_add_10":                            130,
		"c_scale,w_iw_div_16/e_brightness:iw_div_96,o_w_div_2,a_w_mul_0.75": 80, // a 90° turn
		"$d_1/c_scale,w_80,r_w_div_8,q_$d_mul_50":                           80,
		"c_auto,g_auto,w_100,h_100":                                         100,
	} {
		if got, r := width(tx); got != want {
			t.Errorf("%s: width %d (%d %s), want %d", tx, got, r.status, r.err, want)
		}
	}
	for tx, msg := range map[string]string{
		"o_fc_mul_10":          "Unsupported expression operand fc",
		"o_md:!level!":         "structured metadata is not kept",
		"if_w_lt_10,$x_5/w_$x": "Undefined variable in transformation: $x (not assigned on this branch)",
	} {
		if _, r := width(tx); r.status != 400 || !strings.Contains(r.err, msg) {
			t.Errorf("%s: %d %q, want 400 %q", tx, r.status, r.err, msg)
		}
	}
	// w_auto:breakpoints: spaced by file size; :json lists them; a width
	// hint takes the breakpoint at or above it.
	resp, body := get(t, deliveryURL(t, cld, "storm", "w_auto:breakpoints_100_1000_5_30:json", false))
	var bp struct{ Breakpoints []int }
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &bp) != nil ||
		len(bp.Breakpoints) < 4 || bp.Breakpoints[0] != 100 || bp.Breakpoints[len(bp.Breakpoints)-1] != 1000 {
		t.Fatalf("breakpoints json: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	u := deliveryURL(t, cld, "storm", "c_scale,w_auto:breakpoints_100_1000_5_30", false)
	hint := bp.Breakpoints[2] - 1 // rounded onto 30 even widths (130, 160 …), then up to a breakpoint
	grid := 1000
	for i := 0; i < 30; i++ { // the edge's even widths
		if g := 100 + int(math.Ceil(900.0/29*float64(i))); g >= hint {
			grid = g
			break
		}
	}
	want := bp.Breakpoints[len(bp.Breakpoints)-1]
	for _, b := range bp.Breakpoints {
		if b >= grid {
			want = b
			break
		}
	}
	resp, body = get(t, u, "Sec-CH-Width", strconv.Itoa(hint))
	if m, _, err := image.Decode(bytes.NewReader(body)); resp.StatusCode != 200 || err != nil || m.Bounds().Dx() < want-1 || m.Bounds().Dx() > want {
		t.Errorf("breakpoints for a %d px hint (breakpoints %v): %d %v, want %d", hint, bp.Breakpoints, resp.StatusCode, err, want)
	}
	// A progressive JPEG with 3x1 luma sampling (libjpeg's cjpeg) uploads
	// and delivers.
	_, file, _, _ := runtime.Caller(0)
	prog := filepath.Join(filepath.Dir(file), "..", "transform", "codec", "testdata", "sampling", "progressive-3_1_1_1_1_1.jpg")
	upload(t, cld, prog, uploadParams("prog31"))
	resp, body = get(t, deliveryURL(t, cld, "prog31", "c_scale,w_100", false))
	if m, _, err := image.Decode(bytes.NewReader(body)); resp.StatusCode != 200 || err != nil || m.Bounds().Dx() != 100 {
		t.Errorf("progressive 3x1 JPEG: %d %s %v", resp.StatusCode, resp.Header.Get("X-Cld-Error"), err)
	}
}
