package codec

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
)

// The full-size baseline decoder's samples (Y, Cb, Cr or gray, before
// colour conversion) are image/jpeg's within one level on every JPEG
// fixture and test file it takes (its inverse DCT rounds differently in
// about 1% of samples); so are gray pixels. Colour pixels differ by up to
// 3 levels where a chroma sample differs by one (the conversion scales Cb
// by 1.77), 60 dB or more against image/jpeg's. It declines what it does
// not take (progressive, CMYK, the subsamplings image/jpeg refuses are
// another decoder's), and image/jpeg decodes those.
func TestJPEGFullMatchesImageJPEG(t *testing.T) {
	var files []string
	if dir := fixtures.Dir(); dir != "" {
		m, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
		files = append(files, m...)
	}
	m, _ := filepath.Glob(filepath.Join("testdata", "*", "*.jpg"))
	files = append(files, m...)
	taken := 0
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f := readJPEGFrame(b)
		got, ok := decodeJPEGFull(b, DecodeOptions{})
		ref, err := jpeg.Decode(bytes.NewReader(b))
		if !ok {
			if err == nil && !f.progressive && f.comps == 1 {
				t.Errorf("%s: a baseline gray JPEG declined", path)
			}
			continue
		}
		if err != nil {
			continue // ours reads what image/jpeg refuses (unusual subsampling: decodeJPEG gives those to the other path)
		}
		taken++
		j := dcDecoder{n: 8, direct: true, maxPixels: DefaultMaxPixels}
		if !j.parse(b) {
			t.Fatalf("%s: parse", path)
		}
		var planes [][]uint8
		var strides []int
		switch r := ref.(type) {
		case *image.Gray:
			planes, strides = [][]uint8{r.Pix}, []int{r.Stride}
		case *image.YCbCr:
			planes, strides = [][]uint8{r.Y, r.Cb, r.Cr}, []int{r.YStride, r.CStride, r.CStride}
		default:
			t.Fatalf("%s: image/jpeg gave %T", path, ref)
		}
		for ci, c := range j.comps {
			w, h := ceilDiv(f.w*c.h, j.hmax), ceilDiv(f.h*c.v, j.vmax)
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					a, b := int(c.plane[y*c.bw*8+x]), int(planes[ci][y*strides[ci]+x])
					if a-b > 1 || b-a > 1 {
						t.Fatalf("%s: component %d sample (%d,%d): %d, image/jpeg %d", path, ci, x, y, a, b)
					}
				}
			}
		}
		want := toNRGBA(ref)
		if !got.Rect.Eq(want.Rect) {
			t.Fatalf("%s: %v, image/jpeg %v", path, got.Rect, want.Rect)
		}
		worst := 0
		for i := range got.Pix {
			worst = max(worst, int(got.Pix[i])-int(want.Pix[i]), int(want.Pix[i])-int(got.Pix[i]))
		}
		if p := psnr(got, want); worst > 3 || f.comps == 1 && worst > 1 || p < 60 {
			t.Errorf("%s: pixels differ from image/jpeg's by up to %d, %.1f dB", path, worst, p)
		}
	}
	if taken < 10 {
		t.Errorf("only %d files taken", taken)
	}
}

// Decode takes the full baseline decoder at 1/1 and image/jpeg when it
// is off: the same image within the figures above.
func TestDecodeFullBaseline(t *testing.T) {
	b := fixtures.Read(t, "photo-storm-1920x1280.jpg")
	ours, err := Decode(b, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	noFullJPEG = true
	defer func() { noFullJPEG = false }()
	std, err := Decode(b, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := psnr(ours.Frames[0], std.Frames[0])
	t.Logf("%.1f dB", p)
	if p < 60 || math.IsInf(p, 1) {
		t.Errorf("%.1f dB against image/jpeg's decode", p)
	}
}
