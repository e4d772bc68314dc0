package plugins

import (
	"errors"
	"fmt"
)

// Limits checked on the binary before anything compiles it. wazero's
// compile time grows with types × functions (each function walks every
// signature: 32,000 one-type functions took 17 s) and faster than n² with
// the basic blocks of one function, which it cannot interrupt (64 KB of
// nested loops: 34 s; of sequential ifs: 6 s). These limits cut the
// first; only the compile deadline, enforced by killing the worker
// process (worker.go), bounds the second.
const (
	MaxModuleBytes   = 16 << 20  // the whole module
	maxTypes         = 2048      // type section entries (a Go plugin has 15)
	maxImports       = 1024      // imports of any kind
	maxFunctions     = 100_000   // functions defined by the module
	maxFunctionBytes = 256 << 10 // one function body (a Go plugin's largest: 29 KB)
)

// checkBinary refuses a module over MaxModuleBytes, one that is not a
// WebAssembly 1.0 binary, or one over the limits above, reading only
// section headers and the function sizes in the code section.
func checkBinary(wasm []byte) error {
	invalid := func(msg string, args ...any) error {
		return &Error{Status: 400, Msg: "Invalid plugin: " + fmt.Sprintf(msg, args...)}
	}
	if len(wasm) > MaxModuleBytes {
		return invalid("%d bytes is over the %d byte limit", len(wasm), MaxModuleBytes)
	}
	if len(wasm) < 8 || string(wasm[:8]) != "\x00asm\x01\x00\x00\x00" {
		return invalid("not a WebAssembly 1.0 binary")
	}
	r := &leb{b: wasm, i: 8}
	for r.i < len(wasm) {
		id := wasm[r.i]
		r.i++
		size := r.u32()
		if r.err != nil || size > uint32(len(wasm)-r.i) {
			return invalid("section %d runs past the end of the module", id)
		}
		body := &leb{b: wasm[:r.i+int(size)], i: r.i}
		r.i += int(size)
		var count uint32
		if id == 1 || id == 2 || id == 3 || id == 10 {
			if count = body.u32(); body.err != nil {
				return invalid("section %d: %v", id, body.err)
			}
		}
		switch {
		case id == 1 && count > maxTypes:
			return invalid("%d types, over the limit of %d", count, maxTypes)
		case id == 2 && count > maxImports:
			return invalid("%d imports, over the limit of %d", count, maxImports)
		case id == 3 && count > maxFunctions:
			return invalid("%d functions, over the limit of %d", count, maxFunctions)
		case id == 10:
			for n := uint32(0); n < count; n++ {
				fn := body.u32()
				if body.err != nil || fn > uint32(len(body.b)-body.i) {
					return invalid("function %d runs past the end of the code section", n)
				}
				if fn > maxFunctionBytes {
					return invalid("function %d has %d bytes of code, over the limit of %d", n, fn, maxFunctionBytes)
				}
				body.i += int(fn)
			}
		}
	}
	return nil
}

// leb reads unsigned LEB128 numbers from b at i.
type leb struct {
	b   []byte
	i   int
	err error
}

var errLEB = errors.New("malformed number")

func (r *leb) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		if r.i >= len(r.b) {
			r.err = errLEB
			return 0
		}
		c := r.b[r.i]
		r.i++
		v |= uint32(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	r.err = errLEB
	return 0
}
