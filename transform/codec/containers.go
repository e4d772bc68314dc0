package codec

import (
	"encoding/binary"
	"errors"
	"image"
	"image/color"
)

// gifLayout walks the GIF block structure without decoding pixels. It
// returns the end of the header (screen descriptor and global colour
// table), where each frame ends (its bytes run from the previous frame's
// end, extensions included), and whether the walk reached the trailer: a
// file without one is truncated or malformed.
func gifLayout(b []byte) (header int, ends []int, complete bool) {
	if len(b) < 13 {
		return 0, nil, false
	}
	i := 13
	if b[10]&0x80 != 0 {
		i += 3 << (b[10]&7 + 1)
	}
	header = min(i, len(b))
	for i < len(b) {
		switch b[i] {
		case 0x21: // extension: label, then sub-blocks
			i = skipSubBlocks(b, i+2)
		case 0x2C: // image descriptor
			if i+10 > len(b) {
				return header, ends, false
			}
			flags := b[i+9]
			i += 10
			if flags&0x80 != 0 {
				i += 3 << (flags&7 + 1)
			}
			i++ // LZW minimum code size
			if i > len(b) {
				return header, ends, false
			}
			i = skipSubBlocks(b, i)
			ends = append(ends, i)
		case 0x3B:
			return header, ends, len(ends) > 0
		default:
			return header, ends, false
		}
	}
	return header, ends, false
}

// gifFrame returns frame k (0-based) of a GIF laid out by gifLayout as a
// GIF of its own: the header, the frame's extensions and image, a trailer.
func gifFrame(b []byte, header int, ends []int, k int) []byte {
	start := header
	if k > 0 {
		start = ends[k-1]
	}
	one := make([]byte, 0, header+ends[k]-start+1)
	one = append(append(one, b[:header]...), b[start:ends[k]]...)
	return append(one, 0x3B)
}

func skipSubBlocks(b []byte, i int) int {
	for i < len(b) {
		size := int(b[i])
		i++
		if size == 0 {
			return i
		}
		i += size
	}
	return len(b)
}

// webpChunks calls fn for each top-level chunk of a RIFF WEBP file.
func webpChunks(b []byte, fn func(id string, data []byte) bool) {
	if len(b) < 12 {
		return
	}
	for i := 12; i+8 <= len(b); {
		id := string(b[i : i+4])
		n := int(binary.LittleEndian.Uint32(b[i+4:]))
		end := i + 8 + n
		if n < 0 || end > len(b) {
			end = len(b)
		}
		if !fn(id, b[i+8:end]) {
			return
		}
		i = end + n&1
	}
}

// webpAnimated reports whether the VP8X header has the animation flag.
func webpAnimated(b []byte) bool {
	anim := false
	webpChunks(b, func(id string, d []byte) bool {
		if id == "VP8X" && len(d) >= 1 {
			anim = d[0]&0x02 != 0
		}
		return false
	})
	return anim
}

// webpFrameCount counts the ANMF (animation frame) chunks.
func webpFrameCount(b []byte) int {
	n := 0
	webpChunks(b, func(id string, _ []byte) bool {
		if id == "ANMF" {
			n++
		}
		return true
	})
	return n
}

func get24(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }

// webpConfig reads the canvas size from VP8X, VP8 or VP8L headers.
func webpConfig(b []byte) (image.Config, error) {
	var cfg image.Config
	err := errors.New("no image header")
	webpChunks(b, func(id string, d []byte) bool {
		switch {
		case id == "VP8X" && len(d) >= 10:
			cfg.Width = 1 + (int(d[4]) | int(d[5])<<8 | int(d[6])<<16)
			cfg.Height = 1 + (int(d[7]) | int(d[8])<<8 | int(d[9])<<16)
			err = nil
		case id == "VP8 " && len(d) >= 10:
			cfg.Width = int(binary.LittleEndian.Uint16(d[6:])) & 0x3FFF
			cfg.Height = int(binary.LittleEndian.Uint16(d[8:])) & 0x3FFF
			err = nil
		case id == "VP8L" && len(d) >= 5 && d[0] == 0x2F:
			v := binary.LittleEndian.Uint32(d[1:])
			cfg.Width = int(v&0x3FFF) + 1
			cfg.Height = int(v>>14&0x3FFF) + 1
			err = nil
		}
		return false
	})
	cfg.ColorModel = color.NRGBAModel
	return cfg, err
}

// avifSequence reports whether the ftyp major brand is an image sequence.
func avifSequence(b []byte) bool {
	return len(b) >= 12 && string(b[8:12]) == "avis"
}
