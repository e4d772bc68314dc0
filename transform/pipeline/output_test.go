package pipeline

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// BMP, TIFF and ICO are written and read back, as outputs and as inputs.
func TestMoreFormats(t *testing.T) {
	for _, f := range []string{"bmp", "tiff", "ico"} {
		r := render(t, "webp-lossless-alpha-rose-400x301.webp", "c_fit,w_200,h_200", f)
		if string(r.Format) != f {
			t.Fatalf("%s: wrote %s", f, r.Format)
		}
		img := decoded(t, r)
		if img.Bounds().Size() != image.Pt(200, 151) {
			t.Errorf("%s: %v", f, img.Bounds())
		}
		if img.HasAlpha() != (f != "bmp") { // BMP is flattened: readers ignore its alpha
			t.Errorf("%s: transparency lost", f)
		}
		// and as an input
		ch, _ := grammar.ParseChain("w_100")
		out, err := Render(r.Data, Request{Chain: ch, Format: "png"})
		if err != nil || out.Width != 100 {
			t.Errorf("%s as input: %v", f, err)
		}
	}
	ch, _ := grammar.ParseChain("w_300")
	if _, err := Render(fixtures.Read(t, "photo-storm-1920x1280.jpg"), Request{Chain: ch, Format: "ico"}); err == nil ||
		err.Error() != "ICO output is at most 256x256 pixels: resize first, e.g. c_fit,w_256,h_256" {
		t.Errorf("big ICO: %v", err)
	}
	p, err := grammar.ParsePath("image/upload/w_10/sample.tif")
	if err != nil || p.PublicID != "sample" || p.Format() != "tiff" {
		t.Errorf(".tif: %+v %v", p, err)
	}
}

func TestOutputFlags(t *testing.T) {
	const photo = "photo-flower-1600x1203-progressive.jpg"
	// fl_png8 and fl_lossy with PNG: a palette PNG.
	for _, tx := range []string{"w_200,fl_png8", "w_200,fl_lossy"} {
		r := render(t, photo, tx, "png")
		m, err := png.Decode(bytes.NewReader(r.Data))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.(*image.Paletted); !ok {
			t.Errorf("%s: %T, want a palette PNG", tx, m)
		}
		if full := render(t, photo, "w_200", "png"); len(r.Data) >= len(full.Data) {
			t.Errorf("%s: %d bytes, not smaller than %d", tx, len(r.Data), len(full.Data))
		}
	}
	// fl_lossy with GIF: fewer colours at a lower quality, a smaller file.
	lossy := render(t, photo, "w_200,fl_lossy,q_30", "gif")
	plain := render(t, photo, "w_200,q_30", "gif")
	if len(lossy.Data) >= len(plain.Data) {
		t.Errorf("lossy GIF %d bytes, plain %d", len(lossy.Data), len(plain.Data))
	}
	// q_N:444 writes full-resolution chroma (sampling 1×1 for luma).
	for tx, want := range map[string]byte{"w_200,q_80:444": 0x11, "w_200,q_80:420": 0x22, "w_200,q_80": 0x22} {
		r := render(t, photo, tx, "jpg")
		if got := lumaSampling(r.Data); got != want {
			t.Errorf("%s: luma sampling %#x, want %#x", tx, got, want)
		}
		decoded(t, r)
	}
}

// lumaSampling returns the first component's sampling factors in the SOF.
func lumaSampling(b []byte) byte {
	for i := 2; i+4 < len(b); {
		m, n := b[i+1], int(b[i+2])<<8|int(b[i+3])
		if m == 0xC0 || m == 0xC2 {
			return b[i+11]
		}
		i += 2 + n
	}
	return 0
}

func TestKeepMetadata(t *testing.T) {
	src := fixtures.Read(t, "photo-snake-600x450-grayscale.jpg")
	iptc := append([]byte{0xFF, 0xED, 0, 0}, []byte("Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0a\x1c\x02\x74\x00\x05edgep")...)
	iptc[2], iptc[3] = byte((len(iptc)-2)>>8), byte(len(iptc)-2)
	withIPTC := append(append(append([]byte{}, src[:2]...), iptc...), src[2:]...)
	run := func(chain, format string) (*Result, error) {
		ch, _ := grammar.ParseChain(chain)
		return Render(withIPTC, Request{Chain: ch, Format: format})
	}
	r, err := run("w_100,fl_keep_iptc", "jpg")
	if err != nil || !bytes.Contains(r.Data, []byte("8BIM\x04\x04")) {
		t.Fatalf("fl_keep_iptc: IPTC not kept (%v)", err)
	}
	if _, err := codec.Decode(r.Data, codec.DecodeOptions{}); err != nil {
		t.Fatal(err)
	}
	if r, _ := run("w_100", "jpg"); bytes.Contains(r.Data, []byte("8BIM")) {
		t.Error("metadata kept without the flag")
	}
	if r, err := run("w_100,fl_keep_attribution,f_auto", "auto"); err != nil || r.Format != codec.JPEG || !bytes.Contains(r.Data, []byte("8BIM")) {
		t.Errorf("fl_keep_attribution with f_auto: %v %v", r, err)
	}
	if _, err := run("w_100,fl_keep_iptc", "webp"); err == nil {
		t.Error("fl_keep_iptc with WebP output must be refused")
	}
}

func TestGetInfo(t *testing.T) {
	r := render(t, "photo-storm-1920x1280.jpg", "c_fill,w_300,h_200,fl_getinfo", "png")
	if r.Format != codec.JSON || r.Format.ContentType() != "application/json" {
		t.Fatalf("format %s", r.Format)
	}
	var info struct {
		Input, Output struct {
			Width, Height int
			Format        string
		}
	}
	if err := json.Unmarshal(r.Data, &info); err != nil {
		t.Fatal(err)
	}
	if info.Input.Width != 1920 || info.Input.Height != 1280 || info.Input.Format != "jpg" ||
		info.Output.Width != 300 || info.Output.Height != 200 || info.Output.Format != "png" {
		t.Errorf("%s", r.Data)
	}
	if f, _ := codec.Sniff(r.Data); f != codec.JSON {
		t.Errorf("stored getinfo sniffs as %q", f)
	}
}
