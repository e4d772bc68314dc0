package codec

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// emptyScanJPEG is a w×h gray baseline JPEG whose Huffman tables give a
// 1-bit code to DC difference 0 and to end-of-block, so that zero bits
// alone decode as blank blocks, and whose scans (n of them) carry no data
// at all: what the decoder must not invent from its zero padding.
func emptyScanJPEG(w, h, scans int) []byte {
	var b bytes.Buffer
	seg := func(m byte, body []byte) {
		b.Write([]byte{0xFF, m})
		binary.Write(&b, binary.BigEndian, uint16(len(body)+2))
		b.Write(body)
	}
	b.Write([]byte{0xFF, 0xD8})
	seg(0xDB, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...))
	seg(0xC0, []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 1, 1, 0x11, 0})
	counts := append([]byte{1}, make([]byte, 15)...)
	seg(0xC4, append(append([]byte{0x00}, counts...), 0))
	seg(0xC4, append(append([]byte{0x10}, counts...), 0))
	for range scans {
		seg(0xDA, []byte{1, 1, 0x00, 0, 63, 0})
	}
	b.Write([]byte{0xFF, 0xD9})
	return b.Bytes()
}

// A scan without data is refused (image/jpeg refuses it too): decoding
// it from padding let a 1 KB file cost seconds of CPU per upload.
func TestEmptyScansRefused(t *testing.T) {
	for _, c := range []struct{ w, h, scans int }{{16, 16, 1}, {4000, 4000, 1}, {4000, 4000, 100}} {
		b := emptyScanJPEG(c.w, c.h, c.scans)
		if _, err := Validate(b, DecodeOptions{}); err == nil {
			t.Errorf("%dx%d, %d empty scans: validated", c.w, c.h, c.scans)
		}
		if _, err := Decode(b, DecodeOptions{}); err == nil {
			t.Errorf("%dx%d, %d empty scans: decoded", c.w, c.h, c.scans)
		}
		for _, d := range []int{1, 2, 4, 8} {
			if _, ok := decodeJPEGScaled(b, d, DecodeOptions{}); ok {
				t.Errorf("%dx%d, %d empty scans: decoded at 1/%d", c.w, c.h, c.scans, d)
			}
		}
	}
	// A frame with no scan at all has no image either.
	b := emptyScanJPEG(16, 16, 0)
	if _, ok := decodeJPEGScaled(b, 1, DecodeOptions{}); ok {
		t.Error("a frame without a scan decoded")
	}
}
