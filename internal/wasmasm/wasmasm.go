// Package wasmasm writes small WebAssembly modules byte by byte, in the
// binary format, with no toolchain: the hand-made Cloudinary-ABI plugin and
// the hostile plugins that tests upload are built with it.
package wasmasm

// Value types and opcodes used by the modules here.
const (
	I32 = 0x7f

	Unreachable = 0x00
	Block       = 0x02
	Loop        = 0x03
	If          = 0x04
	End         = 0x0b
	Br          = 0x0c
	BrIf        = 0x0d
	Return      = 0x0f
	Call        = 0x10
	Drop        = 0x1a
	LocalGet    = 0x20
	LocalSet    = 0x21
	LocalTee    = 0x22
	I32Load     = 0x28
	I32Load8U   = 0x2d
	I32Store    = 0x36
	I32Store8   = 0x3a
	MemorySize  = 0x3f
	MemoryGrow  = 0x40
	I32Const    = 0x41
	I32Eqz      = 0x45
	I32Eq       = 0x46
	I32LtU      = 0x49
	I32GtU      = 0x4b
	I32GeU      = 0x4f
	I32Add      = 0x6a
	I32Sub      = 0x6b
	I32Mul      = 0x6c
	I32And      = 0x71
	I32Xor      = 0x73
	I32Shl      = 0x74
	I32ShrU     = 0x76
	BlockVoid   = 0x40
)

// U32 is an unsigned LEB128 number.
func U32(v uint32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

// S32 is a signed LEB128 number.
func S32(v int32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		done := (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0)
		if !done {
			c |= 0x80
		}
		b = append(b, c)
		if done {
			return b
		}
	}
}

// Const is i32.const v.
func Const(v int32) []byte { return append([]byte{I32Const}, S32(v)...) }

// Get and Set are local.get and local.set.
func Get(i uint32) []byte { return append([]byte{LocalGet}, U32(i)...) }

// Set is local.set.
func Set(i uint32) []byte { return append([]byte{LocalSet}, U32(i)...) }

// Mem is a memory instruction with alignment and offset 0.
func Mem(op byte, align uint32) []byte { return append([]byte{op}, append(U32(align), 0)...) }

// Cat joins instruction pieces.
func Cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// Func is a function: its signature, extra i32 locals, body (without the
// final end) and, if not empty, its export name.
type Func struct {
	Params, Results []byte
	Locals          uint32
	Body            []byte
	Export          string
}

// Import is an imported function.
type Import struct {
	Module, Name    string
	Params, Results []byte
}

// Module is a module with one memory.
type Module struct {
	Imports   []Import
	Funcs     []Func
	MemoryMin uint32
	NoMemory  bool // do not define or export the memory
	Table     bool // define a funcref table of 0 entries and no maximum
}

func name(s string) []byte { return append(U32(uint32(len(s))), s...) }

func vec(items [][]byte) []byte {
	b := U32(uint32(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func section(id byte, body []byte) []byte {
	return append(append([]byte{id}, U32(uint32(len(body)))...), body...)
}

func sigBytes(params, results []byte) []byte {
	return Cat([]byte{0x60}, U32(uint32(len(params))), params, U32(uint32(len(results))), results)
}

// Bytes encodes the module. Each import and function gets its own type.
func (m Module) Bytes() []byte {
	var types, imports, funcs, exports, codes [][]byte
	for i, im := range m.Imports {
		types = append(types, sigBytes(im.Params, im.Results))
		imports = append(imports, Cat(name(im.Module), name(im.Name), []byte{0x00}, U32(uint32(i))))
	}
	for i, f := range m.Funcs {
		ti := uint32(len(m.Imports) + i)
		types = append(types, sigBytes(f.Params, f.Results))
		funcs = append(funcs, U32(ti))
		if f.Export != "" {
			exports = append(exports, Cat(name(f.Export), []byte{0x00}, U32(ti)))
		}
		var locals []byte
		if f.Locals > 0 {
			locals = Cat(U32(1), U32(f.Locals), []byte{I32})
		} else {
			locals = U32(0)
		}
		body := Cat(locals, f.Body, []byte{End})
		codes = append(codes, append(U32(uint32(len(body))), body...))
	}
	out := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	out = append(out, section(1, vec(types))...)
	if len(imports) > 0 {
		out = append(out, section(2, vec(imports))...)
	}
	out = append(out, section(3, vec(funcs))...)
	if m.Table {
		out = append(out, section(4, vec([][]byte{{0x70, 0x00, 0x00}}))...)
	}
	if !m.NoMemory {
		out = append(out, section(5, vec([][]byte{Cat([]byte{0x00}, U32(m.MemoryMin))}))...)
		exports = append(exports, Cat(name("memory"), []byte{0x02}, U32(0)))
	}
	out = append(out, section(7, vec(exports))...)
	return append(out, section(10, vec(codes))...)
}
