package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// BMP, TIFF and ICO are read and written through golang.org/x/image (BMP
// and TIFF) and our own ICO container code (PNG entries, and DIB entries
// of 1 to 32 bits a pixel, palettes and AND mask included).
const (
	BMP  Format = "bmp"
	TIFF Format = "tiff"
	ICO  Format = "ico"
	// JSON is not an image: fl_getinfo's description of a render.
	JSON Format = "json"
)

// MaxICOSize is the largest side an ICO entry can have.
const MaxICOSize = 256

// sniffMore recognises the formats of this file.
func sniffMore(b []byte) Format {
	switch {
	case len(b) >= 14 && b[0] == 'B' && b[1] == 'M':
		return BMP
	case len(b) >= 8 && (string(b[:4]) == "II*\x00" || string(b[:4]) == "MM\x00*"):
		return TIFF
	case len(b) >= 22 && string(b[:4]) == "\x00\x00\x01\x00" && b[4]|b[5] != 0:
		return ICO
	}
	return ""
}

// probeMore reads the dimensions of a BMP, TIFF or ICO (its largest entry).
func probeMore(f Format, b []byte) (image.Config, error) {
	switch f {
	case BMP:
		return bmp.DecodeConfig(bytes.NewReader(b))
	case TIFF:
		return tiff.DecodeConfig(bytes.NewReader(b))
	case ICO:
		e, err := icoLargest(b)
		if err != nil {
			return image.Config{}, err
		}
		return image.Config{Width: e.w, Height: e.h}, nil
	}
	return image.Config{}, ErrUnknownFormat
}

// decodeMore decodes a BMP, TIFF or ICO still (its size already checked).
func decodeMore(f Format, b []byte) (image.Image, error) {
	switch f {
	case BMP:
		return bmp.Decode(bytes.NewReader(b))
	case TIFF:
		return tiff.Decode(bytes.NewReader(b))
	case ICO:
		return decodeICO(b)
	}
	return nil, ErrUnknownFormat
}

type icoEntry struct {
	w, h         int
	offset, size int
}

// icoLargest returns the ICONDIR entry with the most pixels.
func icoLargest(b []byte) (icoEntry, error) {
	n := int(binary.LittleEndian.Uint16(b[4:6]))
	if n == 0 || 6+16*n > len(b) {
		return icoEntry{}, errors.New("truncated icon directory")
	}
	var best icoEntry
	for i := 0; i < n; i++ {
		d := b[6+16*i:]
		e := icoEntry{w: int(d[0]), h: int(d[1]), size: int(binary.LittleEndian.Uint32(d[8:12])),
			offset: int(binary.LittleEndian.Uint32(d[12:16]))}
		if e.w == 0 {
			e.w = 256
		}
		if e.h == 0 {
			e.h = 256
		}
		if e.offset < 0 || e.size <= 0 || e.offset+e.size > len(b) || e.offset+e.size < e.offset {
			return icoEntry{}, errors.New("icon entry outside the file")
		}
		if e.w*e.h > best.w*best.h {
			best = e
		}
	}
	return best, nil
}

// decodeICO decodes the largest entry: a PNG, or a DIB of 1, 4, 8, 24 or
// 32 bits a pixel.
func decodeICO(b []byte) (image.Image, error) {
	e, err := icoLargest(b)
	if err != nil {
		return nil, err
	}
	data := b[e.offset : e.offset+e.size]
	if bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		m, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		if m.Bounds().Dx() > MaxICOSize || m.Bounds().Dy() > MaxICOSize {
			return nil, errors.New("icon entry larger than its directory says")
		}
		return m, nil
	}
	return decodeICODIB(data, e)
}

// decodeICODIB decodes an icon bitmap: a BITMAPINFOHEADER (height doubled
// to hold the AND mask), then for 1, 4 and 8 bits a pixel a palette of
// BGRx entries, bottom-up rows padded to 4 bytes, and the 1-bit AND mask
// (set: transparent) unless the pixels have their own alpha (32 bits).
func decodeICODIB(data []byte, e icoEntry) (image.Image, error) {
	if len(data) < 40 {
		return nil, errors.New("truncated icon bitmap")
	}
	hdr := int(binary.LittleEndian.Uint32(data[0:4]))
	w := int(int32(binary.LittleEndian.Uint32(data[4:8])))
	h := int(int32(binary.LittleEndian.Uint32(data[8:12]))) / 2
	bpp := int(binary.LittleEndian.Uint16(data[14:16]))
	if w != e.w || h != e.h || hdr < 40 || hdr > len(data) {
		return nil, errors.New("icon bitmap does not match its directory entry")
	}
	var palette [][]byte
	switch bpp {
	case 1, 4, 8:
		n := int(binary.LittleEndian.Uint32(data[32:36])) // colours used; 0: all
		if n == 0 || n > 1<<bpp {
			n = 1 << bpp
		}
		if hdr+4*n > len(data) {
			return nil, io.ErrUnexpectedEOF
		}
		for i := 0; i < n; i++ {
			palette = append(palette, data[hdr+4*i:hdr+4*i+4])
		}
	case 24, 32:
	default:
		return nil, errors.New("unsupported icon bitmap (1, 4, 8, 24 and 32 bits a pixel are read)")
	}
	stride := (w*bpp + 31) / 32 * 4
	maskStride := (w + 31) / 32 * 4
	pix := data[hdr+4*len(palette):]
	if len(pix) < stride*h {
		return nil, io.ErrUnexpectedEOF
	}
	mask := pix[stride*h:]
	hasMask := bpp != 32 && len(mask) >= maskStride*h
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		row := pix[(h-1-y)*stride:]
		for x := 0; x < w; x++ {
			o := m.PixOffset(x, y)
			var s []byte
			if palette != nil {
				bit := x * bpp
				i := int(row[bit/8]>>(8-bpp-bit%8)) & (1<<bpp - 1)
				if i >= len(palette) {
					return nil, errors.New("icon pixel outside its palette")
				}
				s = palette[i]
			} else {
				s = row[x*bpp/8:]
			}
			m.Pix[o], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = s[2], s[1], s[0], 255
			if bpp == 32 {
				m.Pix[o+3] = s[3]
			} else if hasMask && mask[(h-1-y)*maskStride+x/8]&(0x80>>(x%8)) != 0 {
				m.Pix[o+3] = 0
			}
		}
	}
	return m, nil
}

// encodeICO writes m as an icon with one PNG entry (at most 256×256).
func encodeICO(w io.Writer, m image.Image) error {
	b := m.Bounds()
	if b.Dx() > MaxICOSize || b.Dy() > MaxICOSize {
		return errors.New("ICO output is at most 256×256 pixels")
	}
	var data bytes.Buffer
	if err := png.Encode(&data, m); err != nil {
		return err
	}
	hdr := make([]byte, 22)
	binary.LittleEndian.PutUint16(hdr[2:], 1) // icon
	binary.LittleEndian.PutUint16(hdr[4:], 1) // one entry
	hdr[6], hdr[7] = byte(b.Dx()%256), byte(b.Dy()%256)
	binary.LittleEndian.PutUint16(hdr[10:], 1)  // planes
	binary.LittleEndian.PutUint16(hdr[12:], 32) // bits a pixel
	binary.LittleEndian.PutUint32(hdr[14:], uint32(data.Len()))
	binary.LittleEndian.PutUint32(hdr[18:], 22)
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err := w.Write(data.Bytes())
	return err
}
