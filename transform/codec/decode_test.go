package codec

import (
	"bytes"
	"errors"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
)

// displaySize is each good fixture's size after EXIF orientation, from
// MANIFEST.md (stored size, rotated for orientations 5–8).
var displaySize = map[string][2]int{
	"pdf-jmeter-proxy-guide-8pages-screenshots.pdf": {1275, 1650}, // page 1, US Letter at 150 dpi
	"pdf-mma-tutorial-21pages-text.pdf":             {1275, 1650},
	"photo-nuthatch-6028x3391.jpg":                  {6028, 3391},
	"photo-dandelions-5312x2988-progressive.jpg":    {5312, 2988},
	"photo-wine-portrait-2560x3837-progressive.jpg": {2560, 3837},
	"photo-brushes-1365x1074-progressive-444.jpg":   {1365, 1074},
	"photo-dune-grass-1680x1050.jpg":                {1680, 1050},
	"photo-storm-1920x1280.jpg":                     {1920, 1280},
	"photo-flower-1600x1203-progressive.jpg":        {1600, 1203},
	"photo-architecture-2560x1600-grayscale.jpg":    {2560, 1600},
	"photo-snake-600x450-grayscale.jpg":             {600, 450},
	"exif-iphone4s-orient6-205x102.jpg":             {102, 205},
	"exif-orient1-synthetic-50x70.jpg":              {50, 70},
	"exif-orient2-synthetic-50x70.jpg":              {50, 70},
	"exif-orient3-synthetic-50x70.jpg":              {50, 70},
	"exif-orient4-synthetic-50x70.jpg":              {50, 70},
	"exif-orient5-synthetic-70x50.jpg":              {50, 70},
	"exif-orient6-synthetic-70x50.jpg":              {50, 70},
	"exif-orient7-synthetic-70x50.jpg":              {50, 70},
	"exif-orient8-synthetic-70x50.jpg":              {50, 70},
	"photo-storm-exif-orient6-1280x1920.jpg":        {1920, 1280},
	"cmyk-ycck-logo-200x53.jpg":                     {200, 53},
	"photo-ladybird-cmyk-2560x1600.jpg":             {2560, 1600},
	"rgba-transparent-wallpaper-2140x1200.png":      {2140, 1200},
	"palette-photo-snake-600x450.png":               {600, 450},
	"interlaced-rgb-horse-200x200.png":              {200, 200},
	"interlaced-palette-trns-toucan-162x150.png":    {162, 150},
	"rgb16-chessboard-200x200.png":                  {200, 200},
	"photo-flower-rgb16-640x481.png":                {640, 481},
	"pngsuite-basi6a16.png":                         {32, 32},
	"pngsuite-basn2c16.png":                         {32, 32},
	"pngsuite-basn0g16.png":                         {32, 32},
	"pngsuite-basn3p04.png":                         {32, 32},
	"pngsuite-tbbn3p08.png":                         {32, 32},
	"pngsuite-basi0g01.png":                         {32, 32},
	"pngsuite-s39i3p04.png":                         {39, 39},
	"pngsuite-oi9n2c16.png":                         {32, 32},
	"apng-animated-100x100.png":                     {100, 100},
	"gif-static-photo-snake-600x450.gif":            {600, 450},
	"gif-anim-terminal-480x312-9frames.gif":         {480, 312},
	"gif-anim-tiny-14x25-24frames-transparent.gif":  {14, 25},
	"gif-anim-throbber-32x32-8frames.gif":           {32, 32},
	"webp-lossy-rose-400x301.webp":                  {400, 301},
	"webp-lossless-alpha-rose-400x301.webp":         {400, 301},
	"webp-lossy-alpha-rose-400x301.webp":            {400, 301},
	"webp-lossy-photo-garden-2560x1600.webp":        {2560, 1600},
	"webp-animated-terminal-480x312.webp":           {480, 312},
	"avif-still-320x180.avif":                       {320, 180},
	"avif-sequence-animated.avif":                   {499, 479},
	"misnamed-png-content-600x450.jpg":              {600, 450},
}

// frames expected for animated fixtures.
var frameCount = map[string]int{
	"gif-anim-terminal-480x312-9frames.gif":        9,
	"gif-anim-tiny-14x25-24frames-transparent.gif": 24,
	"gif-anim-throbber-32x32-8frames.gif":          8,
	"webp-animated-terminal-480x312.webp":          8,
	"avif-sequence-animated.avif":                  11,
}

// PDFs are documents, not images: the codec refuses them with a clear
// error (page rendering belongs to the explode/PDF work).
var mustFail = map[string]string{
	"bad-bomb-declared-50000x50000.png":  "too large",
	"bomb-valid-20000x20000-1bit.png":    "too large",
	"bad-corrupt-idat-snake-600x450.png": "invalid png image",
	"bad-empty-0-bytes.jpg":              "empty file",
	"bad-pngsuite-xcsn0g01-idat-crc.png": "invalid png image",
	"bad-pngsuite-xdtn0g01-no-idat.png":  "invalid png image",
	"bad-pngsuite-xhdn0g08-ihdr-crc.png": "invalid png image",
	"bad-text-file-named.jpg":            "unsupported or unrecognised",
	"bad-truncated-anim-60pct.gif":       "invalid gif image",
	"bad-truncated-photo-dune-50pct.jpg": "invalid jpg image",
	"bad-truncated-real-100x100.jpg":     "invalid jpg image",
	"bad-truncated-pdf-40pct.pdf":        "invalid pdf image",
}

func TestEveryFixture(t *testing.T) {
	dir := fixtures.Dir()
	if dir == "" {
		t.Skip("../shared/fixtures is absent")
	}
	entries, _ := os.ReadDir(dir)
	seen := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.Contains(name, ".") || name == "MANIFEST.md" {
			continue
		}
		seen++
		b, _ := os.ReadFile(filepath.Join(dir, name))
		want, good := displaySize[name]
		msg, bad := mustFail[name]
		if !good && !bad {
			t.Errorf("%s: fixture not classified by this test", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			img, err := Decode(b, DecodeOptions{})
			if bad {
				if err == nil {
					t.Fatalf("decoded; want error containing %q", msg)
				}
				if !strings.Contains(err.Error(), msg) {
					t.Fatalf("error %q, want it to contain %q", err, msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := img.Bounds().Size(); got.X != want[0] || got.Y != want[1] {
				t.Fatalf("size %v, want %dx%d", got, want[0], want[1])
			}
			if n, ok := frameCount[name]; ok && len(img.Frames) != n {
				t.Fatalf("%d frames, want %d", len(img.Frames), n)
			}
		})
	}
	if seen < 60 {
		t.Errorf("only %d fixtures seen", seen)
	}
}

// Bad and bomb inputs must fail before any large allocation.
func TestBadInputsFailWithoutAllocating(t *testing.T) {
	for name := range mustFail {
		if strings.HasSuffix(name, ".pdf") {
			continue // PDFium's wasm instance takes its memory before reading anything
		}
		b := fixtures.Read(t, name)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := Decode(b, DecodeOptions{})
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s decoded", name)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		limit := uint64(8 << 20)
		if alloc > limit {
			t.Errorf("%s: allocated %d bytes before failing (limit %d)", name, alloc, limit)
		}
	}
}

func TestLimitErrorType(t *testing.T) {
	b := fixtures.Read(t, "photo-storm-1920x1280.jpg")
	_, err := Decode(b, DecodeOptions{MaxPixels: 1_000_000})
	var le *LimitError
	if !errors.As(err, &le) || le.Pixels != 1920*1280 {
		t.Fatalf("want *LimitError, got %v", err)
	}
}

func TestPageSelection(t *testing.T) {
	b := fixtures.Read(t, "gif-anim-terminal-480x312-9frames.gif")
	img, err := Decode(b, DecodeOptions{Page: 3})
	if err != nil || len(img.Frames) != 1 {
		t.Fatalf("pg_3: %v", err)
	}
	all, _ := Decode(b, DecodeOptions{})
	if !bytes.Equal(img.Frames[0].Pix, all.Frames[2].Pix) {
		t.Error("pg_3 is not the third frame")
	}
	var pe *PageError
	if _, err := Decode(b, DecodeOptions{Page: 10}); !errors.As(err, &pe) {
		t.Fatalf("pg_10: %v", err)
	}
}

// The 1/8 DC decoder must match a full decode box-averaged over 8×8 blocks.
func TestScaledJPEGMatchesFullDecode(t *testing.T) {
	for _, name := range []string{
		"photo-storm-1920x1280.jpg", "photo-flower-1600x1203-progressive.jpg",
		"photo-architecture-2560x1600-grayscale.jpg", "photo-brushes-1365x1074-progressive-444.jpg",
		"photo-wine-portrait-2560x3837-progressive.jpg",
	} {
		b := fixtures.Read(t, name)
		small, ok := decodeJPEGScaled(b, 8, DecodeOptions{})
		if !ok {
			t.Fatalf("%s: scaled decode refused", name)
		}
		full, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		fb := full.Bounds()
		if small.Rect.Dx() != ceilDiv(fb.Dx(), 8) || small.Rect.Dy() != ceilDiv(fb.Dy(), 8) {
			t.Fatalf("%s: size %v", name, small.Rect)
		}
		var sum, n float64
		for by := 0; by < fb.Dy()/8; by++ {
			for bx := 0; bx < fb.Dx()/8; bx++ {
				var acc float64
				for y := 0; y < 8; y++ {
					for x := 0; x < 8; x++ {
						r, _, _, _ := full.At(bx*8+x, by*8+y).RGBA()
						acc += float64(r >> 8)
					}
				}
				d := acc/64 - float64(small.Pix[by*small.Stride+bx*4])
				sum += d * d
				n++
			}
		}
		if mse := sum / n; mse > 12 {
			t.Errorf("%s: mean squared error %.1f against the full decode", name, mse)
		}
	}
}

// The 1/4 and 1/2 reduced-IDCT decodes of baseline JPEGs must match a
// full decode box-averaged over 4×4 and 2×2 pixels; progressive files are
// left to the full decoder.
func TestReducedIDCTMatchesFullDecode(t *testing.T) {
	for _, name := range []string{"photo-storm-1920x1280.jpg", "photo-architecture-2560x1600-grayscale.jpg",
		"photo-dune-grass-1680x1050.jpg", "photo-snake-600x450-grayscale.jpg"} {
		b := fixtures.Read(t, name)
		full, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		fb := full.Bounds()
		for _, d := range []int{4, 2} {
			small, ok := decodeJPEGScaled(b, d, DecodeOptions{})
			if !ok {
				t.Fatalf("%s 1/%d: refused", name, d)
			}
			if small.Rect.Dx() != ceilDiv(fb.Dx(), d) || small.Rect.Dy() != ceilDiv(fb.Dy(), d) {
				t.Fatalf("%s 1/%d: size %v", name, d, small.Rect)
			}
			var sum, n float64
			for y := 0; y < fb.Dy()/d; y++ {
				for x := 0; x < fb.Dx()/d; x++ {
					for ch := 0; ch < 3; ch++ {
						var acc float64
						for yy := 0; yy < d; yy++ {
							for xx := 0; xx < d; xx++ {
								c := color.NRGBAModel.Convert(full.At(x*d+xx, y*d+yy)).(color.NRGBA)
								acc += float64([]uint8{c.R, c.G, c.B}[ch])
							}
						}
						diff := acc/float64(d*d) - float64(small.Pix[y*small.Stride+x*4+ch])
						sum += diff * diff
						n++
					}
				}
			}
			psnr := 10 * math.Log10(255*255/(sum/n))
			t.Logf("%s 1/%d: %.1f dB", name, d, psnr)
			if psnr < 30 {
				t.Errorf("%s 1/%d: PSNR %.1f dB against the box-averaged full decode", name, d, psnr)
			}
		}
	}
	if _, ok := decodeJPEGScaled(fixtures.Read(t, "photo-flower-1600x1203-progressive.jpg"), 4, DecodeOptions{}); ok {
		t.Error("a progressive JPEG must take the full decoder below 1/8")
	}
}

func TestScaledDecodeRefusesTruncated(t *testing.T) {
	b := fixtures.Read(t, "bad-truncated-photo-dune-50pct.jpg")
	for _, d := range []int{8, 4, 2} {
		if _, ok := decodeJPEGScaled(b, d, DecodeOptions{}); ok {
			t.Fatalf("1/%d: a truncated file must not decode through the fast path", d)
		}
	}
	if _, err := Decode(b, DecodeOptions{MinWidth: 10, MinHeight: 10}); err == nil {
		t.Fatal("truncated JPEG decoded")
	}
}
