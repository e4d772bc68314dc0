package codec

import (
	"bytes"
	"compress/lzw"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	gwebp "github.com/gen2brain/webp"
)

// Hostile files, built byte by byte: small on disk, huge when a decoder
// trusts the wrong header or keeps every frame.

// jpegSecondSOF returns a valid 64×64 baseline JPEG with a second SOF0
// segment declaring w×h after its scan, where jpeg.DecodeConfig (which
// stops at the first scan) does not look.
func jpegSecondSOF(t testing.TB, w, h int) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	for i := 2; i+4 <= len(b); {
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if b[i+1] != 0xC0 {
			i += 2 + n
			continue
		}
		sof := append([]byte(nil), b[i:i+2+n]...)
		binary.BigEndian.PutUint16(sof[5:], uint16(h))
		binary.BigEndian.PutUint16(sof[7:], uint16(w))
		eoi := len(b) - 2 // the encoder ends with FFD9
		return append(append(append([]byte(nil), b[:eoi]...), sof...), 0xFF, 0xD9)
	}
	t.Fatal("no SOF0 in the encoded JPEG")
	return nil
}

// progressiveJPEGHeader returns the headers of a progressive 4:4:4 JPEG
// declaring w×h, up to its first scan header: enough for image/jpeg to
// allocate its coefficient buffers.
func progressiveJPEGHeader(w, h int) []byte {
	b := []byte{0xFF, 0xD8}
	sof := []byte{0xFF, 0xC2, 0, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0}
	dqt := append([]byte{0xFF, 0xDB, 0, 67, 0}, bytes.Repeat([]byte{1}, 64)...)
	dht := append([]byte{0xFF, 0xC4, 0, 20, 0x00, 0, 1}, append(make([]byte, 14), 0)...) // one 2-bit code: 0
	sos := []byte{0xFF, 0xDA, 0, 12, 3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 0, 0}
	b = append(append(append(append(b, dqt...), sof...), dht...), sos...)
	return append(b, 0x00, 0x00, 0xFF, 0xD9)
}

// gifBomb returns a GIF with a w×h logical screen and n frames of one
// pixel each: a few bytes per frame, but every composited frame is
// screen-sized.
func gifBomb(t testing.TB, w, h, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("GIF89a")
	binary.Write(&b, binary.LittleEndian, [2]uint16{uint16(w), uint16(h)})
	b.Write([]byte{0x80, 0, 0})         // global colour table of 2 entries
	b.Write([]byte{0, 0, 0, 255, 0, 0}) // black, red
	b.Write([]byte{0x21, 0xFF, 11})
	b.WriteString("NETSCAPE2.0")
	b.Write([]byte{3, 1, 0, 0, 0}) // loop forever
	var lz bytes.Buffer
	zw := lzw.NewWriter(&lz, lzw.LSB, 2)
	zw.Write([]byte{1})
	zw.Close()
	for i := 0; i < n; i++ {
		b.Write([]byte{0x21, 0xF9, 4, 0, 10, 0, 0, 0}) // 100 ms, no disposal
		b.WriteByte(0x2C)
		binary.Write(&b, binary.LittleEndian, [4]uint16{uint16(i % w), 0, 1, 1})
		b.Write([]byte{0, 2, byte(lz.Len())})
		b.Write(lz.Bytes())
		b.WriteByte(0)
	}
	b.WriteByte(0x3B)
	return b.Bytes()
}

// webpAnimBomb returns an animated WebP with a w×h canvas and n frames of
// one lossless pixel each.
func webpAnimBomb(t testing.TB, w, h, n int) []byte {
	t.Helper()
	px := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	px.Set(0, 0, color.NRGBA{255, 0, 0, 255})
	var one bytes.Buffer
	if err := gwebp.Encode(&one, px, gwebp.Options{Lossless: true}); err != nil {
		t.Fatal(err)
	}
	var frame []byte
	webpChunks(one.Bytes(), func(id string, d []byte) bool {
		if id == "VP8L" {
			var c bytes.Buffer
			writeChunk(&c, id, d)
			frame = c.Bytes()
		}
		return true
	})
	if frame == nil {
		t.Fatal("no VP8L chunk in the encoded pixel")
	}
	var body bytes.Buffer
	body.WriteString("WEBP")
	var vp8x [10]byte
	vp8x[0] = 0x02 // animation
	put24(vp8x[4:], w-1)
	put24(vp8x[7:], h-1)
	writeChunk(&body, "VP8X", vp8x[:])
	writeChunk(&body, "ANIM", make([]byte, 6))
	for i := 0; i < n; i++ {
		var hdr [16]byte
		put24(hdr[6:], 0) // 1×1
		put24(hdr[9:], 0)
		put24(hdr[12:], 100)
		writeChunk(&body, "ANMF", append(hdr[:], frame...))
	}
	var riff bytes.Buffer
	riff.WriteString("RIFF")
	binary.Write(&riff, binary.LittleEndian, uint32(body.Len()))
	riff.Write(body.Bytes())
	return riff.Bytes()
}
