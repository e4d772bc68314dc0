package codec

import "encoding/binary"

// avifFrameCount returns the number of samples of the largest track of an
// AVIF image sequence (moov/trak/mdia/minf/stbl/stsz), read from the box
// structure without decoding: the frames a full decode would keep. It is
// 0 when the file has no sample table.
func avifFrameCount(b []byte) int {
	n := 0
	bmffBoxes(b, func(typ string, body []byte) {
		if typ != "moov" {
			return
		}
		bmffBoxes(body, func(typ string, trak []byte) {
			if typ != "trak" {
				return
			}
			if s := bmffPath(trak, "mdia", "minf", "stbl", "stsz"); len(s) >= 12 {
				n = max(n, int(binary.BigEndian.Uint32(s[8:]))) // version/flags, sample_size, sample_count
			}
		})
	})
	return n
}

// bmffPath returns the body of the box reached by following path from b's
// top-level boxes, or nil.
func bmffPath(b []byte, path ...string) []byte {
	for _, want := range path {
		var next []byte
		bmffBoxes(b, func(typ string, body []byte) {
			if typ == want && next == nil {
				next = body
			}
		})
		if next == nil {
			return nil
		}
		b = next
	}
	return b
}

// bmffBoxes calls fn with the type and body of each ISO-BMFF box in b. It
// stops at the first box whose size does not fit.
func bmffBoxes(b []byte, fn func(typ string, body []byte)) {
	for len(b) >= 8 {
		size := uint64(binary.BigEndian.Uint32(b))
		hdr := uint64(8)
		switch size {
		case 0: // to the end
			size = uint64(len(b))
		case 1: // 64-bit size follows the type
			if len(b) < 16 {
				return
			}
			size, hdr = binary.BigEndian.Uint64(b[8:]), 16
		}
		if size < hdr || size > uint64(len(b)) {
			return
		}
		fn(string(b[4:8]), b[hdr:size])
		b = b[size:]
	}
}
