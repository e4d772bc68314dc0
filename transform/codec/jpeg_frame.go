package codec

import (
	"encoding/binary"
	"errors"
)

// jpegFrame is what a JPEG's frame header says about the memory of its
// decode: image/jpeg decodes a progressive file through coefficient
// buffers of 4 bytes per component sample, kept until the last scan.
type jpegFrame struct {
	progressive bool
	comps       int
	samples     float64 // component samples per pixel: 1 gray, 1.5 at 4:2:0, 3 at 4:4:4
	w, h        int
	unusual     bool // a chroma subsampling image/jpeg refuses (only our own decoder reads it)
}

// errBadJPEG is our full decoder's refusal of a file it cannot read
// (truncated, corrupt, over the memory budget).
var errBadJPEG = errors.New("invalid, truncated or too large JPEG (chroma subsampling read by edgepix's own decoder)")

// readJPEGFrame reads the first frame header (SOF0/1/2) of b.
func readJPEGFrame(b []byte) jpegFrame {
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		m := b[i+1]
		if m == 0xFF { // fill byte
			i++
			continue
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if m == 0xDA || m == 0xD9 || n < 2 || i+2+n > len(b) {
			break
		}
		if s := b[i+4 : i+2+n]; (m == 0xC0 || m == 0xC1 || m == 0xC2) && len(s) >= 6 && len(s) >= 6+3*int(s[5]) {
			f := jpegFrame{progressive: m == 0xC2, comps: int(s[5]),
				h: int(binary.BigEndian.Uint16(s[1:])), w: int(binary.BigEndian.Uint16(s[3:]))}
			hmax, vmax := 1, 1
			for k := 0; k < f.comps; k++ {
				hmax, vmax = max(hmax, int(s[7+3*k]>>4)), max(vmax, int(s[7+3*k]&15))
			}
			for k := 0; k < f.comps; k++ {
				f.samples += float64(int(s[7+3*k]>>4)*int(s[7+3*k]&15)) / float64(hmax*vmax)
			}
			return f
		}
		i += 2 + n
	}
	return jpegFrame{}
}

// errArithmetic refuses arithmetic-coded (and lossless or hierarchical)
// JPEGs, which no decoder here reads.
var errArithmetic = errors.New("arithmetic-coded, lossless or hierarchical JPEG is not supported (save it with Huffman coding)")

// arithmeticJPEG reports whether b's first frame header is one of the
// SOF markers for arithmetic coding, lossless or hierarchical modes.
func arithmeticJPEG(b []byte) bool {
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		m := b[i+1]
		if m == 0xFF {
			i++
			continue
		}
		switch m {
		case 0xC0, 0xC1, 0xC2, 0xDA, 0xD9:
			return false
		case 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
			return true
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 {
			return false
		}
		i += 2 + n
	}
	return false
}
