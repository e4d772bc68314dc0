// Package codec decodes and encodes the image formats edgepix serves (JPEG,
// PNG, GIF, WebP, AVIF, with animation), enforcing size limits before any
// pixel buffer is allocated. Everything is pure Go or WebAssembly: no cgo.
package codec

import (
	"bytes"
	"errors"
	"fmt"
)

// Format is an image format, named as in URLs (jpg, png, gif, webp, avif).
type Format string

// Formats edgepix can read and write.
const (
	JPEG Format = "jpg"
	PNG  Format = "png"
	GIF  Format = "gif"
	WebP Format = "webp"
	AVIF Format = "avif"
	PDF  Format = "pdf" // read only: pages are rasterised
)

// ContentType returns the MIME type of f.
func (f Format) ContentType() string {
	switch f {
	case JPEG:
		return "image/jpeg"
	case PNG, GIF, WebP, AVIF:
		return "image/" + string(f)
	case PDF:
		return "application/pdf"
	case BMP, TIFF:
		return "image/" + string(f)
	case ICO:
		return "image/x-icon"
	case JSON:
		return "application/json"
	}
	return "application/octet-stream"
}

// IsImage reports whether f is an image format (not JSON).
func (f Format) IsImage() bool { return f != JSON && f != "" }

// CanAnimate reports whether f can hold several frames.
func (f Format) CanAnimate() bool { return f == GIF || f == WebP }

// CanAlpha reports whether f can hold transparency.
func (f Format) CanAlpha() bool { return f != JPEG && f != BMP }

// ParseFormat maps an extension or f_ value to a Format.
func ParseFormat(s string) (Format, bool) {
	switch s {
	case "jpg", "jpeg", "jpe":
		return JPEG, true
	case "png", "gif", "webp", "avif", "bmp", "tiff", "ico":
		return Format(s), true
	case "tif":
		return TIFF, true
	}
	return "", false
}

// ErrUnknownFormat is returned for bytes that are not a supported image.
var ErrUnknownFormat = errors.New("unsupported or unrecognised image format")

// Sniff identifies the format from the first bytes of the file.
func Sniff(b []byte) (Format, error) {
	switch {
	case len(b) == 0:
		return "", errors.New("empty file")
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return JPEG, nil
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, nil
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return GIF, nil
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return WebP, nil
	case len(b) >= 12 && string(b[4:8]) == "ftyp" && isAVIFBrand(b):
		return AVIF, nil
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return PDF, nil
	case b[0] == '{':
		return JSON, nil // fl_getinfo's output; no image decoder reads it
	}
	if f := sniffMore(b); f != "" {
		return f, nil
	}
	return "", ErrUnknownFormat
}

// isAVIFBrand checks the ISO-BMFF ftyp box for an AVIF brand.
func isAVIFBrand(b []byte) bool {
	n := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	if n > len(b) || n < 16 {
		n = min(len(b), 64)
	}
	for i := 8; i+4 <= n; i += 4 {
		switch string(b[i : i+4]) {
		case "avif", "avis":
			return true
		}
	}
	return false
}

// LimitError reports an image or output over a configured limit.
type LimitError struct {
	What          string
	Width, Height int
	Pixels, Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s is too large: %dx%d (%d pixels) exceeds the limit of %d pixels",
		e.What, e.Width, e.Height, e.Pixels, e.Limit)
}

// DecodeError wraps a failure to read a (corrupt or truncated) file.
type DecodeError struct {
	Format Format
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("invalid %s image: %v", e.Format, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }
