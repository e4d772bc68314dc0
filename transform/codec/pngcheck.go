package codec

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image/png"
	"io"
)

// validatePNG reads a PNG as image/png's Decode does (header, palette and
// transparency checks through DecodeConfig, every chunk's checksum, the
// chunk order, the zlib stream of the consecutive IDAT chunks with its
// checksum, one filter byte and exactly the pixel bytes of every row of
// every interlace pass) but keeps one row at a time: memory does not
// grow with the image.
func validatePNG(ctx context.Context, b []byte) error {
	if _, err := png.DecodeConfig(bytes.NewReader(b)); err != nil {
		return err
	}
	var idat []io.Reader
	var ihdr []byte
	ended, inIDAT, seenIDAT := false, false, false
	for i := 8; !ended; {
		if i+12 > len(b) {
			return io.ErrUnexpectedEOF
		}
		n := int(binary.BigEndian.Uint32(b[i:]))
		if n < 0 || n > len(b)-i-12 {
			return io.ErrUnexpectedEOF
		}
		typ, data := string(b[i+4:i+8]), b[i+8:i+8+n]
		if crc32.ChecksumIEEE(b[i+4:i+8+n]) != binary.BigEndian.Uint32(b[i+8+n:]) {
			return errors.New("invalid checksum")
		}
		switch {
		case (i == 8) != (typ == "IHDR"), seenIDAT && (typ == "PLTE" || typ == "tRNS"):
			return errors.New("chunk out of order")
		case typ == "IHDR":
			ihdr = data
		case typ == "PLTE" || typ == "tRNS":
			if err := checkPNGTables(typ, len(data), ihdr); err != nil {
				return err
			}
		case typ == "IDAT" && (!seenIDAT || inIDAT):
			idat = append(idat, bytes.NewReader(data))
			seenIDAT, inIDAT = true, true
			i += 12 + n
			continue
		case typ == "IEND":
			if !seenIDAT {
				return errors.New("chunk out of order")
			}
			ended = true
		}
		inIDAT = false
		i += 12 + n
	}
	if len(ihdr) != 13 {
		return errors.New("bad IHDR length")
	}
	return checkPNGRows(ctx, ihdr, io.MultiReader(idat...))
}

// checkPNGTables checks what DecodeConfig does not for every colour type:
// a palette's length and type, a transparency chunk's length.
func checkPNGTables(typ string, n int, ihdr []byte) error {
	if len(ihdr) != 13 {
		return errors.New("bad IHDR length")
	}
	depth, ct := int(ihdr[8]), ihdr[9]
	switch {
	case typ == "PLTE" && (ct == 0 || ct == 4):
		return errors.New("PLTE, color type mismatch")
	case typ == "PLTE" && (n%3 != 0 || n == 0 || n/3 > 256 || n/3 > 1<<depth):
		return errors.New("bad PLTE length")
	case typ == "tRNS" && (ct == 4 || ct == 6):
		return errors.New("tRNS, color type mismatch")
	case typ == "tRNS" && (ct == 0 && n != 2 || ct == 2 && n != 6 || ct == 3 && n > 256):
		return errors.New("bad tRNS length")
	}
	return nil
}

// pngChannels is the number of samples per pixel of each colour type.
var pngChannels = map[byte]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}

// checkPNGRows inflates the pixel data and reads it row by row.
func checkPNGRows(ctx context.Context, ihdr []byte, data io.Reader) error {
	w, h := int(binary.BigEndian.Uint32(ihdr)), int(binary.BigEndian.Uint32(ihdr[4:]))
	bpp := int(ihdr[8]) * pngChannels[ihdr[9]]
	z, err := zlib.NewReader(data)
	if err != nil {
		return err
	}
	defer z.Close()
	type pass struct{ x, y, dx, dy int }
	passes := []pass{{0, 0, 1, 1}}
	if ihdr[12] == 1 { // Adam7
		passes = []pass{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	}
	var row []byte
	for _, p := range passes {
		pw, ph := (w-p.x+p.dx-1)/p.dx, (h-p.y+p.dy-1)/p.dy
		if pw <= 0 || ph <= 0 {
			continue // an empty pass has no filter bytes
		}
		n := 1 + (pw*bpp+7)/8
		if cap(row) < n {
			row = make([]byte, n)
		}
		row = row[:n]
		for y := 0; y < ph; y++ {
			if y%256 == 0 {
				if err := CheckContext(ctx); err != nil {
					return err
				}
			}
			if _, err := io.ReadFull(z, row); err != nil {
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					return errors.New("not enough pixel data")
				}
				return err
			}
			if row[0] > 4 {
				return errors.New("bad filter type")
			}
		}
	}
	// The stream must end here; reaching its end checks the zlib checksum.
	if n, err := io.ReadFull(z, make([]byte, 1)); n != 0 {
		return errors.New("too much pixel data")
	} else if err != io.EOF {
		return err
	}
	return nil
}
