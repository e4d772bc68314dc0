package codec

import (
	"errors"
	"fmt"
	"image"
	"io"
	"runtime"
	"strings"
	"unsafe"
)

// avifLib is the system libavif's encoder. The layouts below are libavif
// 0.11's (Debian 12's libavif15); another version is not used.
type avifLib struct {
	version       string
	imageCreate   func(w, h, depth uint32, format int32) uintptr
	imageDestroy  func(uintptr)
	rgbDefaults   func(*avifRGBImage, uintptr)
	rgbToYUV      func(uintptr, *avifRGBImage) int32
	encoderCreate func() *avifEncoderHead
	encoderWrite  func(*avifEncoderHead, uintptr, *avifRWData) int32
	encoderFree   func(*avifEncoderHead)
	rwDataFree    func(*avifRWData)
}

// avifRGBImage is avifRGBImage.
type avifRGBImage struct {
	Width, Height, Depth                                uint32
	Format, ChromaUpsampling, ChromaDownsampling        int32
	AvoidLibYUV, IgnoreAlpha, AlphaPremultiplied, Float int32
	Pixels                                              uintptr
	RowBytes                                            uint32
	_                                                   [4]uint32
}

// avifRWData is avifRWData.
type avifRWData struct {
	Data *byte // libavif's memory
	Size uint64
}

// avifEncoderHead is the start of avifEncoder: its settings.
type avifEncoderHead struct {
	CodecChoice, MaxThreads, Speed, KeyframeInterval int32
	Timescale                                        uint64
	MinQuantizer, MaxQuantizer                       int32
	MinQuantizerAlpha, MaxQuantizerAlpha             int32
	TileRowsLog2, TileColsLog2, AutoTiling           int32
}

// libavif's pixel formats.
const (
	avifYUV444 = 1
	avifYUV420 = 3
)

var sysAVIF = once(func() *avifLib {
	if !systemCodecs {
		return nil
	}
	h := dlopen("libavif.so.15")
	if h == 0 {
		return nil
	}
	l := &avifLib{}
	var version func() string
	if !register(&version, h, "avifVersion") {
		return nil
	}
	if l.version = version(); !strings.HasPrefix(l.version, "0.11.") {
		return nil
	}
	if !(register(&l.imageCreate, h, "avifImageCreate") &&
		register(&l.imageDestroy, h, "avifImageDestroy") &&
		register(&l.rgbDefaults, h, "avifRGBImageSetDefaults") &&
		register(&l.rgbToYUV, h, "avifImageRGBToYUV") &&
		register(&l.encoderCreate, h, "avifEncoderCreate") &&
		register(&l.encoderWrite, h, "avifEncoderWrite") &&
		register(&l.encoderFree, h, "avifEncoderDestroy") &&
		register(&l.rwDataFree, h, "avifRWDataFree")) {
		return nil
	}
	return l
})

var errSysAVIF = errors.New("libavif could not encode the image")

// avifQuantizer is libavif 1.x's mapping of a 0–100 quality to its
// 0–63 quantizer, which the embedded build uses.
func avifQuantizer(q int) int32 { return int32(((100-q)*63 + 50) / 100) }

// encodeAVIF encodes m with the system libavif, at the embedded build's
// quality (as a quantizer), speed and chroma subsampling.
func (l *avifLib) encodeAVIF(w io.Writer, m *image.NRGBA, quality, qualityAlpha, speed int, full bool) error {
	b := m.Rect
	format := int32(avifYUV420)
	if full {
		format = avifYUV444
	}
	img := l.imageCreate(uint32(b.Dx()), uint32(b.Dy()), 8, format)
	if img == 0 {
		return errSysAVIF
	}
	defer l.imageDestroy(img)
	var rgb avifRGBImage
	l.rgbDefaults(&rgb, img)
	rgb.Depth, rgb.Format = 8, 1 // AVIF_RGB_FORMAT_RGBA
	if opaque(m) {
		rgb.IgnoreAlpha = 1 // no alpha plane
	}
	pix := m.Pix[m.PixOffset(b.Min.X, b.Min.Y):]
	rgb.Pixels, rgb.RowBytes = uintptr(unsafe.Pointer(&pix[0])), uint32(m.Stride)
	r := l.rgbToYUV(img, &rgb)
	runtime.KeepAlive(pix)
	if r != 0 {
		return fmt.Errorf("%w (RGB to YUV: result %d)", errSysAVIF, r)
	}
	enc := l.encoderCreate()
	if enc == nil {
		return errSysAVIF
	}
	defer l.encoderFree(enc)
	enc.MaxThreads, enc.Speed = 1, int32(speed)
	enc.MinQuantizer, enc.MaxQuantizer = avifQuantizer(quality), avifQuantizer(quality)
	enc.MinQuantizerAlpha, enc.MaxQuantizerAlpha = avifQuantizer(qualityAlpha), avifQuantizer(qualityAlpha)
	var out avifRWData
	if r := l.encoderWrite(enc, img, &out); r != 0 {
		return fmt.Errorf("%w (result %d)", errSysAVIF, r)
	}
	defer l.rwDataFree(&out)
	_, err := w.Write(unsafe.Slice(out.Data, out.Size))
	return err
}
