package wasmasm

// The plugins below follow Cloudinary's fn_wasm ABI with no language
// runtime: memory word 0 holds the top of an arena that starts at 1024;
// alloc(size) reserves 8 bytes (room for the output header) plus size,
// growing memory as needed; dealloc(ptr, size) empties the arena (the host
// frees after each call).

const (
	heapStart = 1024
	trace     = 0 // function index of the env.trace import
)

// alloc: local 0 size, local 1 ptr.
var allocBody = Cat(
	// ptr = load(0); if ptr == 0 { ptr = heapStart }
	Const(0), Mem(I32Load, 2), Set(1),
	Get(1), []byte{I32Eqz, If, BlockVoid}, Const(heapStart), Set(1), []byte{End},
	// ptr += 8; top = (ptr + size + 7) & ~7, stored at 0
	Get(1), Const(8), []byte{I32Add}, Set(1),
	Const(0), Get(1), Get(0), []byte{I32Add}, Const(7), []byte{I32Add}, Const(-8), []byte{I32And},
	Mem(I32Store, 2),
	// while load(0) > memory.size * 65536 { if memory.grow(1) == -1 { unreachable } }
	[]byte{Block, BlockVoid, Loop, BlockVoid},
	Const(0), Mem(I32Load, 2), []byte{MemorySize, 0x00}, Const(16), []byte{I32Shl, I32GtU, I32Eqz, BrIf, 1},
	Const(1), []byte{MemoryGrow, 0x00}, Const(-1), []byte{I32Eq, If, BlockVoid, Unreachable, End},
	[]byte{Br, 0, End, End},
	Get(1),
)

// dealloc empties the arena.
var deallocBody = Cat(Const(0), Const(heapStart), Mem(I32Store, 2))

// storeBE writes local v as a big-endian u32 at address local a + off.
func storeBE(a, v uint32, off int32) []byte {
	var b []byte
	for i, shift := range []int32{24, 16, 8, 0} {
		b = Cat(b, Get(a), Const(off+int32(i)), []byte{I32Add}, Get(v), Const(shift), []byte{I32ShrU}, Mem(I32Store8, 0))
	}
	return b
}

// invertBody: params w(0) h(1) img(2) meta(3) metaLen(4); locals p(5) end(6).
// Traces the metadata, inverts R, G and B (one 32-bit xor per pixel),
// writes the header at img-8 and returns img-8.
var invertBody = Cat(
	Get(3), Get(4), []byte{Call}, U32(trace),
	Get(2), Set(5),
	Get(2), Get(0), Get(1), []byte{I32Mul}, Const(4), []byte{I32Mul, I32Add}, Set(6),
	[]byte{Block, BlockVoid, Loop, BlockVoid},
	Get(5), Get(6), []byte{I32GeU, BrIf, 1},
	Get(5), Get(5), Mem(I32Load, 2), Const(0x00ffffff), []byte{I32Xor}, Mem(I32Store, 2),
	Get(5), Const(4), []byte{I32Add}, Set(5),
	[]byte{Br, 0, End, End},
	storeBE(2, 0, -8), storeBE(2, 1, -4),
	Get(2), Const(8), []byte{I32Sub},
)

var i32x5 = []byte{I32, I32, I32, I32, I32}

// ABIModule is a runtime-free plugin with the given transform body (params
// w, h, img, meta, metaLen; locals 5, 6, 7) and any extra imports.
func ABIModule(transform []byte, extra ...Import) []byte { return abi(transform, extra).Bytes() }

// abi is the module of ABIModule, with functions after transform (the
// first at index len(imports)+4, counting env.trace).
func abi(transform []byte, imports []Import, funcs ...Func) Module {
	imports = append([]Import{{Module: "env", Name: "trace", Params: []byte{I32, I32}}}, imports...)
	return Module{Imports: imports, MemoryMin: 1, Funcs: append([]Func{
		{Params: []byte{I32}, Results: []byte{I32}, Locals: 1, Body: allocBody, Export: "alloc"},
		{Params: []byte{I32, I32}, Body: deallocBody, Export: "dealloc"},
		{Params: i32x5, Results: []byte{I32}, Locals: 3, Body: transform, Export: "transform"},
	}, funcs...)}
}

// Invert is a working hand-made plugin: RGB inverted, alpha kept.
func Invert() []byte { return ABIModule(invertBody) }

// Identity writes the header and returns the pixels untouched: its call
// cost is the host's fixed overhead (alloc, copy in, copy out).
func Identity() []byte {
	return ABIModule(Cat(storeBE(2, 0, -8), storeBE(2, 1, -4), Get(2), Const(8), []byte{I32Sub}))
}

// Hostile plugins, one misbehaviour each.
var (
	// Spin loops forever.
	Spin = ABIModule(Cat([]byte{Loop, BlockVoid, Br, 0, End}, Const(0)))
	// Grow asks for memory until refused, then traps.
	Grow = ABIModule(Cat([]byte{Loop, BlockVoid}, Const(16), []byte{MemoryGrow, 0x00}, Const(-1),
		[]byte{I32Eq, If, BlockVoid, Unreachable, End, Br, 0, End}, Const(0)))
	// Trap hits unreachable.
	Trap = ABIModule([]byte{Unreachable})
	// BadPointer returns an address far outside memory.
	BadPointer = ABIModule(Const(-16))
	// ShortOutput declares 4000×4000 but memory ends long before.
	ShortOutput = ABIModule(Cat(Const(4000), Set(0), storeBE(2, 0, -8), storeBE(2, 0, -4), Get(2), Const(8), []byte{I32Sub}))
	// HugeOutput declares 100000×100000.
	HugeOutput = ABIModule(Cat(Const(100000), Set(0), storeBE(2, 0, -8), storeBE(2, 0, -4), Get(2), Const(8), []byte{I32Sub}))
	// CallTree calls a function that calls itself twice, 60 levels deep:
	// 2^60 calls and not one loop.
	CallTree = abi(Cat(Const(60), []byte{Call}, U32(4), Const(0)), nil, Func{Params: []byte{I32},
		Body: Cat(Get(0), []byte{If, BlockVoid}, Get(0), Const(1), []byte{I32Sub, Call}, U32(4),
			Get(0), Const(1), []byte{I32Sub, Call}, U32(4), []byte{End})}).Bytes()
	// TableBomb grows its table by 2^28 entries: 2 GiB that wazero
	// allocates on the Go heap of the process running it.
	TableBomb = tableBomb()
	// ExitCrash exits with code 2, as a Go plugin does when it panics.
	ExitCrash = ABIModule(Cat(Const(2), []byte{Call}, U32(1), Const(0)),
		Import{Module: "wasi_snapshot_preview1", Name: "proc_exit", Params: []byte{I32}})
	// TrapInDealloc is Identity whose dealloc traps.
	TrapInDealloc = trapInDealloc()
	// ForbiddenImport imports WASI's path_open.
	ForbiddenImport = ABIModule(Cat(Get(2), Const(8), []byte{I32Sub}),
		Import{Module: "wasi_snapshot_preview1", Name: "path_open", Params: []byte{I32, I32, I32, I32, I32, 0x7e, 0x7e, I32, I32}, Results: []byte{I32}})
)

func tableBomb() []byte {
	m := abi(Cat([]byte{0xd0, 0x70}, Const(1<<28), []byte{0xfc, 0x0f, 0x00, Drop}, Const(0)), nil)
	m.Table = true
	return m.Bytes()
}

func trapInDealloc() []byte {
	m := abi(Cat(storeBE(2, 0, -8), storeBE(2, 1, -4), Get(2), Const(8), []byte{I32Sub}), nil)
	m.Funcs[1].Body = []byte{Unreachable}
	return m.Bytes()
}
