//go:build wasip1

package plugin

import "unsafe"

// live keeps the buffers handed to the host reachable for Go's collector
// until the host frees them (dealloc) or, for the output, until the next
// call.
var (
	live   = map[uintptr][]byte{}
	output []byte
)

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

//go:wasmexport alloc
func alloc(size uint32) uint32 {
	buf := make([]byte, max(size, 1))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	live[p] = buf
	return uint32(p)
}

//go:wasmexport dealloc
func dealloc(ptr, _ uint32) { delete(live, uintptr(ptr)) }

//go:wasmexport transform
func transform(width, height, imagePtr, metaPtr, metaLen uint32) uint32 {
	pix, ok := live[uintptr(imagePtr)]
	n := int(width) * int(height) * 4
	if !ok || len(pix) < n {
		Trace("plugin: the image buffer was not allocated with alloc")
		return 0
	}
	var meta []byte
	if metaLen > 0 {
		if m, ok := live[uintptr(metaPtr)]; ok && len(m) >= int(metaLen) {
			meta = m[:metaLen]
		}
	}
	out, err := Run(int(width), int(height), pix[:n], meta)
	if err != nil {
		Trace(err.Error())
		return 0
	}
	output = out
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(out))))
}
