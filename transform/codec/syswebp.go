package codec

import (
	"errors"
	"fmt"
	"image"
	"io"
	"runtime"
	"unsafe"

	"github.com/ebitengine/purego"
)

// webpLib is the system libwebp's encoder (ABI 2.x, as in encode.h).
type webpLib struct {
	version           string
	configInit        func(*webpEncConfig, int32, float32, int32) int32
	pictureInit       func(*webpPicture, int32) int32
	importRGBA        func(*webpPicture, *byte, int32) int32
	encode            func(*webpEncConfig, *webpPicture) int32
	pictureFree       func(*webpPicture)
	memoryWriterInit  func(*webpMemoryWriter)
	memoryWriterClear func(*webpMemoryWriter)
	memoryWrite       uintptr // WebPMemoryWrite, the picture's writer
}

const webpEncoderABI = 0x020f

// webpEncConfig is WebPConfig.
type webpEncConfig struct {
	Lossless                                                     int32
	Quality                                                      float32
	Method, ImageHint, TargetSize                                int32
	TargetPSNR                                                   float32
	Segments, SNSStrength, FilterStrength, FilterSharpness       int32
	FilterType, Autofilter, AlphaCompression, AlphaFiltering     int32
	AlphaQuality, Pass, ShowCompressed, Preprocessing            int32
	Partitions, PartitionLimit, EmulateJPEGSize, ThreadLevel     int32
	LowMemory, NearLossless, Exact, UseDeltaPalette, UseSharpYUV int32
	Qmin, Qmax                                                   int32
	_                                                            [8]uint32 // room for fields of later minor versions
}

// webpPicture is WebPPicture.
type webpPicture struct {
	UseARGB, Colorspace, Width, Height int32
	Y, U, V                            uintptr
	YStride, UVStride                  int32
	A                                  uintptr
	AStride                            int32
	_                                  [2]uint32
	ARGB                               uintptr
	ARGBStride                         int32
	_                                  [3]uint32
	Writer, CustomPtr                  uintptr
	ExtraInfoType                      int32
	ExtraInfo, Stats                   uintptr
	ErrorCode                          int32
	ProgressHook, UserData             uintptr
	_                                  [3]uint32
	_, _                               uintptr
	_                                  [8]uint32
	_, _                               uintptr // memory, memory_argb (libwebp's own)
	_                                  [2]uintptr
}

// webpMemoryWriter is WebPMemoryWriter.
type webpMemoryWriter struct {
	Mem           *byte // libwebp's memory
	Size, MaxSize uint64
	pad           [1]uint32
}

var sysWebP = once(func() *webpLib {
	if !systemCodecs {
		return nil
	}
	h := dlopen("libwebp.so.7", "libwebp.so")
	if h == 0 {
		return nil
	}
	l := &webpLib{}
	var version func() int32
	ok := register(&version, h, "WebPGetEncoderVersion") &&
		register(&l.configInit, h, "WebPConfigInitInternal") &&
		register(&l.pictureInit, h, "WebPPictureInitInternal") &&
		register(&l.importRGBA, h, "WebPPictureImportRGBA") &&
		register(&l.encode, h, "WebPEncode") &&
		register(&l.pictureFree, h, "WebPPictureFree") &&
		register(&l.memoryWriterInit, h, "WebPMemoryWriterInit") &&
		register(&l.memoryWriterClear, h, "WebPMemoryWriterClear")
	if !ok {
		return nil
	}
	var err error
	if l.memoryWrite, err = purego.Dlsym(h, "WebPMemoryWrite"); err != nil {
		return nil
	}
	v := version()
	if v>>16 != 1 { // the struct layouts above are libwebp 1.x's
		return nil
	}
	l.version = fmt.Sprintf("%d.%d.%d", v>>16, v>>8&0xff, v&0xff)
	return l
})

var errSysWebP = errors.New("libwebp could not encode the image")

// encodeWebP encodes m with the system libwebp, as the embedded
// build does with the same quality, method and lossless settings.
func (l *webpLib) encodeWebP(w io.Writer, m *image.NRGBA, quality, method int, lossless bool) error {
	var cfg webpEncConfig
	if l.configInit(&cfg, 0, float32(quality), webpEncoderABI) == 0 {
		return errSysWebP
	}
	cfg.Method = int32(method)
	if lossless {
		cfg.Lossless = 1
	}
	var pic webpPicture
	if l.pictureInit(&pic, webpEncoderABI) == 0 {
		return errSysWebP
	}
	b := m.Rect
	pic.Width, pic.Height = int32(b.Dx()), int32(b.Dy())
	if lossless {
		pic.UseARGB = 1
	}
	var mw webpMemoryWriter
	l.memoryWriterInit(&mw)
	defer l.memoryWriterClear(&mw)
	defer l.pictureFree(&pic)
	pix := m.Pix[m.PixOffset(b.Min.X, b.Min.Y):]
	if l.importRGBA(&pic, &pix[0], int32(m.Stride)) == 0 {
		return errSysWebP
	}
	runtime.KeepAlive(m)
	pic.Writer, pic.CustomPtr = l.memoryWrite, uintptr(unsafe.Pointer(&mw))
	ok := l.encode(&cfg, &pic)
	runtime.KeepAlive(&mw)
	if ok == 0 || mw.Mem == nil {
		return fmt.Errorf("%w (error %d)", errSysWebP, pic.ErrorCode)
	}
	_, err := w.Write(unsafe.Slice(mw.Mem, mw.Size))
	return err
}
