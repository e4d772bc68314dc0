package codec

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/transform/codec/codectest"
)

// Validate accepts what Decode decodes and refuses what it refuses.
func TestValidateAgreesWithDecode(t *testing.T) {
	dir := fixtures.Dir()
	if dir == "" {
		t.Skip("../shared/fixtures is absent")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name := e.Name()
		if !strings.Contains(name, ".") || name == "MANIFEST.md" {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, name))
		info, err := Validate(b, DecodeOptions{})
		if msg, bad := mustFail[name]; bad {
			if err == nil || !strings.Contains(err.Error(), msg) {
				t.Errorf("%s: %v, want an error containing %q", name, err, msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if want := displaySize[name]; info.Width != want[0] || info.Height != want[1] {
			t.Errorf("%s: %dx%d, want %v", name, info.Width, info.Height, want)
		}
		if n, ok := frameCount[name]; ok && info.Frames != n {
			t.Errorf("%s: %d frames, want %d", name, info.Frames, n)
		}
	}
}

// pngOf assembles a PNG from its IHDR fields and the raw (filtered) pixel
// stream, written to zlib as it is produced.
func pngOf(w, h int, depth, ct, interlace byte, raw func(zw *zlib.Writer)) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, c.Sum32())
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(w)), uint32(h))
	chunk("IHDR", append(ihdr, depth, ct, 0, 0, interlace))
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	raw(zw)
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

func rows(h, n int, filter byte) func(zw *zlib.Writer) {
	return func(zw *zlib.Writer) {
		row := make([]byte, n)
		for y := 0; y < h; y++ {
			row[0] = filter
			zw.Write(row)
		}
	}
}

// Malformed pixel streams are refused as image/png refuses them.
func TestValidatePNGStream(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"good", pngOf(100, 50, 8, 2, 0, rows(50, 301, 1))},
		{"bad filter", pngOf(100, 50, 8, 2, 0, rows(50, 301, 5))},
		{"short", pngOf(100, 50, 8, 2, 0, rows(49, 301, 0))},
		{"long", pngOf(100, 50, 8, 2, 0, rows(51, 301, 0))},
		{"1-bit good", pngOf(100, 50, 1, 0, 0, rows(50, 14, 0))},
		{"1-bit short row", pngOf(100, 50, 1, 0, 0, rows(50, 13, 0))},
		{"palette without PLTE", pngOf(10, 10, 8, 3, 0, rows(10, 11, 0))},
	} {
		_, want := png.Decode(bytes.NewReader(tc.b))
		_, got := Validate(tc.b, DecodeOptions{})
		if (got == nil) != (want == nil) {
			t.Errorf("%s: Validate %v, png.Decode %v", tc.name, got, want)
		}
	}
	b := pngOf(100, 50, 8, 2, 0, rows(50, 301, 0))
	b[len(b)-20] ^= 1 // inside the IDAT data: its CRC no longer matches
	if _, err := Validate(b, DecodeOptions{}); err == nil {
		t.Error("a damaged IDAT chunk validated")
	}
}

// The reported upload bomb: a 12 KB 1-bit PNG of 10000×10000 cost ≈480 MB
// to validate by decoding (5.8 GB for twelve at once). Validate holds one
// row; the declared size is still checked against the budget.
func TestValidatePNGBomb(t *testing.T) {
	b := pngOf(10000, 10000, 1, 0, 0, rows(10000, 1251, 0))
	var err error
	a := codectest.AllocDuring(func() { _, err = Validate(b, DecodeOptions{}) })
	t.Logf("%d-byte 10000x10000 1-bit PNG validated with %d KiB (%v)", len(b), a>>10, err)
	if err != nil || a > 8<<20 {
		t.Fatalf("err %v after %d MiB", err, a>>20)
	}
	var le *LimitError
	if _, err := Validate(b, DecodeOptions{MaxPixels: 50_000_000}); !errors.As(err, &le) {
		t.Fatalf("over the budget: %v", err)
	}
}

// Animations are validated one frame at a time, against the budget of all
// their frames.
func TestValidateAnimations(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"gif", gifBomb(t, 2000, 2000, 20)},
		{"webp", webpAnimBomb(t, 2000, 2000, 20)},
	} {
		var info Info
		var err error
		a := codectest.AllocDuring(func() { info, err = Validate(tc.b, DecodeOptions{}) })
		if err != nil || info.Frames != 20 || a > 8<<20 {
			t.Errorf("%s, 20 frames of 2000x2000: %v, %d frames, %d MiB", tc.name, err, info.Frames, a>>20)
		}
		var le *LimitError
		if _, err := Validate(tc.b, DecodeOptions{MaxPixels: 19 * 2000 * 2000}); !errors.As(err, &le) {
			t.Errorf("%s over the budget: %v", tc.name, err)
		}
	}
}
