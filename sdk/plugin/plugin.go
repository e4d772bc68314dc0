// Package plugin is the kit for writing edgepix (and Cloudinary fn_wasm)
// transform plugins in Go. The author writes one function from an image
// (and the request's metadata) to an image and registers it in init:
//
//	package main
//
//	import (
//		"image"
//
//		"github.com/edgepix/edgepix/sdk/plugin"
//	)
//
//	func init() {
//		plugin.Handle(func(img *image.NRGBA, meta plugin.Meta) (*image.NRGBA, error) {
//			// ... change img or build a new one ...
//			return img, nil
//		})
//	}
//
//	func main() {}
//
// and builds it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o name.wasm .
//
// The kit exports the ABI (memory, alloc, dealloc, transform) and hides it:
// pixels arrive as straight (non-premultiplied) RGBA8, the metadata as
// Meta. docs/plugins.md describes the ABI for other languages.
package plugin

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"image"
	"strconv"
)

// Meta is what the host passes along with the pixels: the asset's context
// and tags, and the user variables of the URL ($name_value, without $).
type Meta struct {
	Context   map[string]string `json:"context"`
	Tags      []string          `json:"tags"`
	Variables map[string]any    `json:"variables"`
}

// Number returns the variable name as a number, or def when it is absent
// or not a number.
func (m Meta) Number(name string, def float64) float64 {
	switch v := m.Variables[name].(type) {
	case float64:
		return v
	case json.Number:
		f, err := v.Float64()
		if err == nil {
			return f
		}
	}
	return def
}

// String returns the variable name as text, or def when it is absent.
func (m Meta) String(name, def string) string {
	switch v := m.Variables[name].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return def
}

// Func transforms one image. It may change img in place and return it, or
// return a new image of any size.
type Func func(img *image.NRGBA, meta Meta) (*image.NRGBA, error)

var handler Func

// Handle registers the plugin's function; call it from init.
func Handle(f Func) { handler = f }

// Run applies the registered function to w×h RGBA pixels and a JSON
// metadata blob, and returns the ABI's output: big-endian width and
// height, then the RGBA pixels. Tests call it natively; the wasm exports
// use apply and write the output in place when they can.
func Run(w, h int, pix, meta []byte) ([]byte, error) {
	out, err := apply(w, h, pix, meta)
	if err != nil {
		return nil, err
	}
	b := out.Rect
	return writeOutput(nil, out, b.Dx(), b.Dy()), nil
}

// apply decodes the metadata and calls the registered function on pix,
// which it may change in place.
func apply(w, h int, pix, meta []byte) (*image.NRGBA, error) {
	if handler == nil {
		return nil, errors.New("plugin: no function registered (call plugin.Handle in init)")
	}
	if w <= 0 || h <= 0 || len(pix) != w*h*4 {
		return nil, errors.New("plugin: " + strconv.Itoa(len(pix)) + " bytes of pixels for " +
			strconv.Itoa(w) + "x" + strconv.Itoa(h))
	}
	var m Meta
	if len(meta) > 0 {
		if err := json.Unmarshal(meta, &m); err != nil {
			return nil, errors.New("plugin: metadata: " + err.Error())
		}
	}
	out, err := handler(&image.NRGBA{Pix: pix, Stride: w * 4, Rect: image.Rect(0, 0, w, h)}, m)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errors.New("plugin: the function returned no image")
	}
	return out, nil
}

// writeOutput appends the ABI output for img (its w×h pixels) to dst[:0],
// reusing dst's room.
func writeOutput(dst []byte, img *image.NRGBA, w, h int) []byte {
	n := 8 + w*h*4
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	header(dst, w, h)
	row := w * 4
	for y := 0; y < h; y++ {
		i := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		copy(dst[8+y*row:], img.Pix[i:i+row])
	}
	return dst
}

// header writes the output header: big-endian width and height.
func header(b []byte, w, h int) {
	binary.BigEndian.PutUint32(b, uint32(w))
	binary.BigEndian.PutUint32(b[4:], uint32(h))
}
