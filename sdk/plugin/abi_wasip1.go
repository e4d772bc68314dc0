//go:build wasip1

package plugin

import (
	"image"
	"unsafe"
)

// The exports reuse their buffers: alloc hands out blocks from a free
// list (each with 8 bytes of room before it for the output header),
// dealloc puts them back, and an image changed in place is returned in
// place. A plugin called again and again at one size allocates nothing,
// and Go's collector seldom runs.
var (
	live   = map[uintptr][]byte{} // blocks handed to the host, by address; [0:8] is the header's room
	free   [][]byte               // blocks given back
	output []byte                 // the output when it cannot be written in place
)

// maxFree bounds the blocks kept for reuse.
const maxFree = 4

//go:wasmimport env trace
func trace(ptr, size uint32)

// Trace writes a line to the host's log (the host caps its size).
func Trace(msg string) {
	if msg == "" {
		return
	}
	b := []byte(msg)
	trace(uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b)))), uint32(len(b)))
}

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

//go:wasmexport alloc
func alloc(size uint32) uint32 {
	need := int(size) + 8
	best := -1
	for i, b := range free {
		if cap(b) >= need && (best < 0 || cap(b) < cap(free[best])) {
			best = i
		}
	}
	var buf []byte
	if best >= 0 {
		buf = free[best][:need]
		free = append(free[:best], free[best+1:]...)
	} else {
		buf = make([]byte, need)
	}
	p := addr(buf) + 8
	live[p] = buf
	return uint32(p)
}

//go:wasmexport dealloc
func dealloc(ptr, _ uint32) {
	buf, ok := live[uintptr(ptr)]
	if !ok {
		return
	}
	delete(live, uintptr(ptr))
	if len(free) == maxFree { // drop the smallest
		small := 0
		for i, b := range free {
			if cap(b) < cap(free[small]) {
				small = i
			}
		}
		free = append(free[:small], free[small+1:]...)
	}
	free = append(free, buf)
}

//go:wasmexport transform
func transform(width, height, imagePtr, metaPtr, metaLen uint32) uint32 {
	buf, ok := live[uintptr(imagePtr)]
	w, h := int(width), int(height)
	n := w * h * 4
	if !ok || len(buf) < 8+n {
		Trace("plugin: the image buffer was not allocated with alloc")
		return 0
	}
	var meta []byte
	if m, ok := live[uintptr(metaPtr)]; ok && len(m) >= 8+int(metaLen) {
		meta = m[8 : 8+metaLen]
	}
	pix := buf[8 : 8+n]
	out, err := apply(w, h, pix, meta)
	if err != nil {
		Trace(err.Error())
		return 0
	}
	if inPlace(out, pix, w, h) {
		header(buf, w, h)
		return uint32(addr(buf))
	}
	b := out.Rect
	output = writeOutput(output, out, b.Dx(), b.Dy())
	return uint32(addr(output))
}

// inPlace tells whether out is exactly the input pixels.
func inPlace(out *image.NRGBA, pix []byte, w, h int) bool {
	return out.Rect == image.Rect(0, 0, w, h) && out.Stride == w*4 && len(out.Pix) >= len(pix) &&
		addr(out.Pix) == addr(pix)
}
