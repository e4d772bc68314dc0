package codec

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"

	gwebp "github.com/gen2brain/webp"
)

// encodeAnimatedWebP encodes each frame as a still WebP and muxes the frame
// bitstreams into an animated WebP (VP8X + ANIM + ANMF chunks), since the
// encoder library cannot write animations itself.
func encodeAnimatedWebP(ctx context.Context, w io.Writer, m *Image, o gwebp.Options) error {
	b := m.Bounds()
	var frames bytes.Buffer
	alpha := false
	for i, f := range m.Frames {
		if err := CheckContext(ctx); err != nil {
			return err
		}
		var one bytes.Buffer
		if err := encodeWebP(&one, f, o); err != nil {
			return fmt.Errorf("webp frame %d: %w", i, err)
		}
		var data bytes.Buffer
		webpChunks(one.Bytes(), func(id string, d []byte) bool {
			switch id {
			case "ALPH", "VP8 ", "VP8L":
				if id != "VP8 " {
					alpha = true
				}
				writeChunk(&data, id, d)
			}
			return true
		})
		if data.Len() == 0 {
			return fmt.Errorf("webp frame %d: encoder produced no bitstream", i)
		}
		delay := 100
		if i < len(m.Delays) {
			delay = min(max(m.Delays[i], 0), 1<<24-1)
		}
		var hdr [16]byte
		put24(hdr[0:], 0) // x/2
		put24(hdr[3:], 0) // y/2
		put24(hdr[6:], f.Rect.Dx()-1)
		put24(hdr[9:], f.Rect.Dy()-1)
		put24(hdr[12:], delay)
		hdr[15] = 0x02 // do not blend; no disposal
		writeChunk(&frames, "ANMF", append(hdr[:], data.Bytes()...))
	}
	var body bytes.Buffer
	body.WriteString("WEBP")
	var vp8x [10]byte
	vp8x[0] = 0x02
	if alpha {
		vp8x[0] |= 0x10
	}
	put24(vp8x[4:], b.Dx()-1)
	put24(vp8x[7:], b.Dy()-1)
	writeChunk(&body, "VP8X", vp8x[:])
	var anim [6]byte
	binary.LittleEndian.PutUint16(anim[4:], uint16(min(m.LoopCount, 0xFFFF)))
	writeChunk(&body, "ANIM", anim[:])
	body.Write(frames.Bytes())
	var riff [8]byte
	copy(riff[:], "RIFF")
	binary.LittleEndian.PutUint32(riff[4:], uint32(body.Len()))
	if _, err := w.Write(riff[:]); err != nil {
		return err
	}
	_, err := w.Write(body.Bytes())
	return err
}

func writeChunk(buf *bytes.Buffer, id string, data []byte) {
	var h [8]byte
	copy(h[:], id)
	binary.LittleEndian.PutUint32(h[4:], uint32(len(data)))
	buf.Write(h[:])
	buf.Write(data)
	if len(data)&1 == 1 {
		buf.WriteByte(0)
	}
}

func put24(b []byte, v int) {
	b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16)
}
