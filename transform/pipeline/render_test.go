package pipeline

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata/golden")

func render(t *testing.T, fixture, chain, format string) *Result {
	t.Helper()
	ch, err := grammar.ParseChain(chain)
	if err != nil {
		t.Fatalf("%s: %v", chain, err)
	}
	res, err := Render(fixtures.Read(t, fixture), Request{Chain: ch, Format: format})
	if err != nil {
		t.Fatalf("%s %s: %v", fixture, chain, err)
	}
	return res
}

func decoded(t *testing.T, r *Result) *codec.Image {
	t.Helper()
	img, err := codec.Decode(r.Data, codec.DecodeOptions{})
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	if img.Format != r.Format {
		t.Fatalf("output is %s, reported %s", img.Format, r.Format)
	}
	return img
}

// Crop modes on the 1920×1280 photo (and its 600×450 small sibling for the
// modes that differ when the image is smaller than the box).
func TestCropModeDimensions(t *testing.T) {
	const big = "photo-storm-1920x1280.jpg"
	const small = "photo-snake-600x450-grayscale.jpg"
	cases := []struct {
		fixture, chain string
		w, h           int
	}{
		{big, "c_scale,w_300", 300, 200},
		{big, "c_scale,w_300,h_300", 300, 300},
		{big, "w_0.5", 960, 640},
		{big, "h_100", 150, 100},
		{big, "c_fit,w_300,h_300", 300, 200},
		{big, "c_limit,w_300,h_300", 300, 200},
		{small, "c_limit,w_3000,h_3000", 600, 450},
		{small, "c_mfit,w_1200,h_1200", 1200, 900},
		{big, "c_mfit,w_300,h_300", 1920, 1280},
		{big, "c_fill,w_150,h_100", 150, 100},
		{big, "c_fill,w_300,h_300", 300, 300},
		{big, "c_fill,w_200,h_400,g_auto", 200, 400},
		{small, "c_lfill,w_1200,h_600", 600, 300},
		{big, "c_lfill,w_400,h_400", 400, 400},
		{big, "c_pad,w_300,h_300,b_black", 300, 300},
		{small, "c_lpad,w_1000,h_1000", 1000, 1000},
		{small, "c_mpad,w_1000,h_1000", 1000, 1000},
		{big, "c_mpad,w_300,h_300", 1920, 1280},
		{big, "c_crop,w_400,h_300,x_100,y_50", 400, 300},
		{big, "c_crop,w_4000,h_300", 1920, 300},
		{big, "c_crop,ar_1:1", 1280, 1280},
		{big, "c_thumb,w_120,h_120", 120, 120},
		{big, "c_fill,ar_16:9,w_320", 320, 180},
		{big, "c_scale,w_100,dpr_2.0", 200, 133},
		{big, "c_fill,w_100,h_100/bo_5px_solid_red", 110, 110},
		{big, "c_scale,w_200/a_90", 133, 200},
		{"photo-storm-exif-orient6-1280x1920.jpg", "c_scale,w_300", 300, 200},
		{"photo-storm-exif-orient6-1280x1920.jpg", "c_scale,w_300,a_ignore", 300, 450},
		{big, "c_fill,w_300,h_200,a_auto_right", 300, 200},
		{big, "c_fill,w_200,h_300,a_auto_right", 200, 300},
	}
	for _, c := range cases {
		r := render(t, c.fixture, c.chain, "png")
		img := decoded(t, r)
		if got := img.Bounds().Size(); got.X != c.w || got.Y != c.h || r.Width != c.w || r.Height != c.h {
			t.Errorf("%s %s: %v (reported %dx%d), want %dx%d", c.fixture, c.chain, got, r.Width, r.Height, c.w, c.h)
		}
	}
}

func TestFormatsAndAnimation(t *testing.T) {
	for _, f := range []string{"jpg", "png", "gif", "webp", "avif"} {
		r := render(t, "photo-flower-1600x1203-progressive.jpg", "c_fill,w_64,h_48", f)
		img := decoded(t, r)
		if img.Bounds().Dx() != 64 || img.Bounds().Dy() != 48 {
			t.Errorf("%s: %v", f, img.Bounds())
		}
	}
	// Animations keep their frames in GIF and WebP, and lose them in JPEG.
	for _, f := range []string{"gif", "webp"} {
		r := render(t, "gif-anim-terminal-480x312-9frames.gif", "c_scale,w_120", f)
		if img := decoded(t, r); len(img.Frames) != 9 || img.Bounds().Dx() != 120 {
			t.Errorf("%s: %d frames %v", f, len(img.Frames), img.Bounds())
		}
	}
	r := render(t, "webp-animated-terminal-480x312.webp", "c_scale,w_100", "gif")
	if img := decoded(t, r); len(img.Frames) != 8 {
		t.Errorf("webp→gif frames %d", len(img.Frames))
	}
	r = render(t, "gif-anim-terminal-480x312-9frames.gif", "w_100", "jpg")
	if r.Frames != 1 {
		t.Errorf("jpg frames %d", r.Frames)
	}
	r = render(t, "gif-anim-terminal-480x312-9frames.gif", "pg_4", "gif")
	if r.Frames != 1 {
		t.Errorf("pg_4 frames %d", r.Frames)
	}
	// Keeping the source format when none is asked.
	if r := render(t, "webp-lossless-alpha-rose-400x301.webp", "w_100", ""); r.Format != codec.WebP {
		t.Errorf("source format not kept: %s", r.Format)
	}
	// Progressive JPEG output is a valid SOF2 file.
	r = render(t, "photo-storm-1920x1280.jpg", "w_333,fl_progressive", "jpg")
	if !bytes.Contains(r.Data[:1000], []byte{0xFF, 0xC2}) {
		t.Error("fl_progressive did not write a progressive JPEG")
	}
	decoded(t, r)
}

func TestAutoFormat(t *testing.T) {
	cases := []struct {
		fixture, accept string
		want            codec.Format
	}{
		{"photo-snake-600x450-grayscale.jpg", "image/avif,image/webp,*/*", codec.AVIF},
		{"photo-snake-600x450-grayscale.jpg", "image/webp,*/*", codec.WebP},
		{"photo-snake-600x450-grayscale.jpg", "*/*", codec.JPEG},
		{"interlaced-palette-trns-toucan-162x150.png", "image/avif,image/webp", codec.WebP},
		{"interlaced-palette-trns-toucan-162x150.png", "image/avif", codec.PNG},
		{"gif-anim-throbber-32x32-8frames.gif", "image/webp", codec.WebP},
		{"gif-anim-throbber-32x32-8frames.gif", "text/html", codec.GIF},
	}
	for _, c := range cases {
		ch, _ := grammar.ParseChain("w_100,f_auto")
		r, err := Render(fixtures.Read(t, c.fixture), Request{Chain: ch, Format: "auto", AcceptClass: grammar.AcceptClass(c.accept)})
		if err != nil {
			t.Fatal(err)
		}
		if r.Format != c.want {
			t.Errorf("%s with %q: %s, want %s", c.fixture, c.accept, r.Format, c.want)
		}
	}
	if grammar.AcceptClass("image/webp;q=0, image/avif") != "avif" {
		t.Error("q=0 must refuse a type")
	}
}

func TestAutoQuality(t *testing.T) {
	flat := image.NewNRGBA(image.Rect(0, 0, 800, 600))
	for i := range flat.Pix {
		flat.Pix[i] = 200
	}
	noisy := image.NewNRGBA(image.Rect(0, 0, 800, 600))
	for i := range noisy.Pix {
		noisy.Pix[i] = uint8((i*7919 + i/4*104729) % 251)
	}
	qf, qn := AutoQuality("good", codec.JPEG, flat), AutoQuality("good", codec.JPEG, noisy)
	if qf != 88 || qn != 73 {
		t.Errorf("good: flat %d, noisy %d; want 88 and 73", qf, qn)
	}
	if AutoQuality("best", codec.JPEG, noisy) <= AutoQuality("eco", codec.JPEG, noisy) ||
		AutoQuality("eco", codec.JPEG, noisy) <= AutoQuality("low", codec.JPEG, noisy) {
		t.Error("levels must order best > eco > low")
	}
	if AutoQuality("good", codec.AVIF, noisy) >= qn {
		t.Error("AVIF needs a lower setting than JPEG")
	}
	small := image.NewNRGBA(image.Rect(0, 0, 100, 100))
	if AutoQuality("good", codec.JPEG, small) != 93 {
		t.Errorf("small flat: %d", AutoQuality("good", codec.JPEG, small))
	}
}

func TestLimitsAndErrors(t *testing.T) {
	src := fixtures.Read(t, "photo-snake-600x450-grayscale.jpg")
	ch, _ := grammar.ParseChain("c_scale,w_100000,h_100000")
	_, err := Render(src, Request{Chain: ch, Format: "jpg"})
	var le *codec.LimitError
	if !errors.As(err, &le) || le.What != "output" {
		t.Fatalf("huge output: %v", err)
	}
	ch, _ = grammar.ParseChain("w_1000/w_10.0")
	if _, err := Render(src, Request{Chain: ch, Format: "jpg", Limits: Limits{MaxOutputPixels: 1_000_000}}); !errors.As(err, &le) {
		t.Fatalf("a later step over the limit: %v", err)
	}
	ch, _ = grammar.ParseChain("pg_all")
	if _, err := Render(src, Request{Chain: ch}); !errors.Is(err, ErrPageAll) {
		t.Fatalf("pg_all: %v", err)
	}
	ch, _ = grammar.ParseChain("pg_3")
	var pe *codec.PageError
	if _, err := Render(src, Request{Chain: ch}); !errors.As(err, &pe) {
		t.Fatalf("pg_3 of a still: %v", err)
	}
	if _, err := Render(fixtures.Read(t, "bad-truncated-photo-dune-50pct.jpg"), Request{Chain: ch}); err == nil {
		t.Fatal("truncated input rendered")
	}
}

// Golden images: each effect, gravity and crop mode on real photos,
// compared by PSNR with stored references (go test -run Golden -update).
func TestGolden(t *testing.T) {
	cases := map[string][2]string{
		"fill-center":  {"photo-storm-1920x1280.jpg", "c_fill,w_160,h_160"},
		"fill-north":   {"photo-wine-portrait-2560x3837-progressive.jpg", "c_fill,w_160,h_100,g_north"},
		"fill-south-e": {"photo-wine-portrait-2560x3837-progressive.jpg", "c_fill,w_160,h_100,g_south_east"},
		"fill-auto":    {"photo-nuthatch-6028x3391.jpg", "c_fill,w_120,h_160,g_auto"},
		"fit":          {"photo-dune-grass-1680x1050.jpg", "c_fit,w_160,h_160"},
		"pad":          {"photo-dune-grass-1680x1050.jpg", "c_pad,w_160,h_160,b_rgb:336699"},
		"crop":         {"photo-storm-1920x1280.jpg", "c_crop,w_160,h_120,g_east"},
		"thumb":        {"photo-brushes-1365x1074-progressive-444.jpg", "c_thumb,w_128,h_128"},
		"sepia":        {"photo-flower-1600x1203-progressive.jpg", "w_160/e_sepia"},
		"grayscale":    {"photo-flower-1600x1203-progressive.jpg", "w_160/e_grayscale"},
		"blackwhite":   {"photo-flower-1600x1203-progressive.jpg", "w_160/e_blackwhite"},
		"blur":         {"photo-flower-1600x1203-progressive.jpg", "w_160/e_blur:200"},
		"sharpen":      {"photo-flower-1600x1203-progressive.jpg", "w_160/e_sharpen:300"},
		"brightness":   {"photo-flower-1600x1203-progressive.jpg", "w_160/e_brightness:40"},
		"contrast":     {"photo-flower-1600x1203-progressive.jpg", "w_160/e_contrast:50"},
		"saturation":   {"photo-flower-1600x1203-progressive.jpg", "w_160/e_saturation:-70"},
		"negate":       {"photo-flower-1600x1203-progressive.jpg", "w_160/e_negate"},
		"pixelate":     {"photo-flower-1600x1203-progressive.jpg", "w_160/e_pixelate:8"},
		"vignette":     {"photo-flower-1600x1203-progressive.jpg", "w_160/e_vignette:80"},
		"radius":       {"photo-storm-1920x1280.jpg", "c_fill,w_160,h_120,r_30"},
		"radius-max":   {"photo-storm-1920x1280.jpg", "c_fill,w_160,h_120,r_max"},
		"rotate-45":    {"photo-storm-1920x1280.jpg", "w_120/a_45"},
		"opacity":      {"photo-storm-1920x1280.jpg", "w_120,o_40"},
		"cmyk":         {"photo-ladybird-cmyk-2560x1600.jpg", "w_160"},
		"ycck":         {"cmyk-ycck-logo-200x53.jpg", "w_160"},
		"exif-orient":  {"exif-orient7-synthetic-70x50.jpg", "w_50"},
		"transparent":  {"rgba-transparent-wallpaper-2140x1200.png", "w_160"},
	}
	dir := filepath.Join("testdata", "golden")
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := render(t, c[0], c[1], "png")
			got := decoded(t, r).Frames[0]
			path := filepath.Join(dir, name+".png")
			if *update {
				os.MkdirAll(dir, 0o755)
				if err := os.WriteFile(path, r.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatalf("missing golden (run with -update): %v", err)
			}
			defer f.Close()
			ref, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			want := codecClone(ref)
			if want.Rect.Size() != got.Rect.Size() {
				t.Fatalf("size %v, golden %v", got.Rect.Size(), want.Rect.Size())
			}
			if p := PSNR(got, want); p < 40 {
				t.Errorf("PSNR %.1f dB against the golden image (want >= 40)", p)
			}
		})
	}
}

func codecClone(m image.Image) *image.NRGBA {
	var buf bytes.Buffer
	png.Encode(&buf, m)
	img, _ := codec.Decode(buf.Bytes(), codec.DecodeOptions{})
	return img.Frames[0]
}

func TestPSNR(t *testing.T) {
	a := image.NewNRGBA(image.Rect(0, 0, 10, 10))
	if !math.IsInf(PSNR(a, a), 1) {
		t.Error("identical images must give +Inf")
	}
	b := image.NewNRGBA(image.Rect(0, 0, 10, 10))
	for i := range b.Pix {
		b.Pix[i] = 255
	}
	if p := PSNR(a, b); p > 1 {
		t.Errorf("opposite images: %.1f dB", p)
	}
}
