package codec

import (
	"os"
	"sync"

	"github.com/ebitengine/purego"
)

// System codecs: the machine's libwebp and libavif, loaded at run time
// with purego (no cgo: purego's own dlopen makes the binary dynamic), are
// used for WebP and AVIF encoding when present — several times faster
// than the embedded WebAssembly builds, which remain the fallback. Set
// EDGEPIX_SYSTEM_CODECS=off to always use the embedded builds.

// systemCodecs is whether the system libraries may be used (tests turn it
// off to compare both paths).
var systemCodecs = os.Getenv("EDGEPIX_SYSTEM_CODECS") != "off"

// SystemCodecs reports which system libraries this process encodes with:
// "libwebp <version>" and "libavif <version>" when loaded.
func SystemCodecs() []string {
	var out []string
	if l := sysWebP(); l != nil {
		out = append(out, "libwebp "+l.version)
	}
	if l := sysAVIF(); l != nil {
		out = append(out, "libavif "+l.version)
	}
	return out
}

// dlopen opens the first of names that loads, or returns 0.
func dlopen(names ...string) uintptr {
	for _, n := range names {
		if h, err := purego.Dlopen(n, purego.RTLD_NOW|purego.RTLD_LOCAL); err == nil {
			return h
		}
	}
	return 0
}

// register binds fn to the symbol name of lib, reporting whether it exists.
func register(fn any, lib uintptr, name string) bool {
	if _, err := purego.Dlsym(lib, name); err != nil {
		return false
	}
	purego.RegisterLibFunc(fn, lib, name)
	return true
}

// once returns f's result, computed on first use.
func once[T any](f func() T) func() T { return sync.OnceValue(f) }
