package wasmasm

// The instructions Assemble knows: their encoding and what immediates
// follow their name.

// immediate kinds
const (
	immNone   = iota
	immLocal  // local index or $name
	immGlobal // global index or $name
	immFunc   // function index or $name
	immLabel  // label depth or $name
	immTable  // br_table: labels, the last the default
	immMem    // memarg: [offset=N] [align=N]; natural alignment in align
	immI32    // i32 literal
	immI64    // i64 literal
	immV128   // v128.const shape and lanes
	immLane   // lane index
	immZero   // a reserved 0 byte (memory.size, memory.grow)
	immBlock  // block type: [$label] [(result t)]
)

type opInfo struct {
	code  []byte // opcode bytes (prefixed ones: prefix then LEB index)
	imm   int
	align uint32 // natural alignment (log2), for immMem
}

func op(imm int, code ...byte) opInfo { return opInfo{code: code, imm: imm} }

func mem(align uint32, code ...byte) opInfo { return opInfo{code: code, imm: immMem, align: align} }

// simd is a 0xfd-prefixed instruction.
func simd(imm int, n uint32) opInfo { return opInfo{code: append([]byte{0xfd}, U32(n)...), imm: imm} }

func simdMem(align, n uint32) opInfo {
	return opInfo{code: append([]byte{0xfd}, U32(n)...), imm: immMem, align: align}
}

var ops = map[string]opInfo{
	"unreachable": op(immNone, 0x00), "nop": op(immNone, 0x01),
	"block": op(immBlock, 0x02), "loop": op(immBlock, 0x03), "if": op(immBlock, 0x04),
	"else": op(immNone, 0x05), "end": op(immNone, 0x0b),
	"br": op(immLabel, 0x0c), "br_if": op(immLabel, 0x0d), "br_table": op(immTable, 0x0e),
	"return": op(immNone, 0x0f), "call": op(immFunc, 0x10),
	"drop": op(immNone, 0x1a), "select": op(immNone, 0x1b),
	"local.get": op(immLocal, 0x20), "local.set": op(immLocal, 0x21), "local.tee": op(immLocal, 0x22),
	"global.get": op(immGlobal, 0x23), "global.set": op(immGlobal, 0x24),

	"i32.load": mem(2, 0x28), "i64.load": mem(3, 0x29),
	"i32.load8_s": mem(0, 0x2c), "i32.load8_u": mem(0, 0x2d), "i32.load16_s": mem(1, 0x2e), "i32.load16_u": mem(1, 0x2f),
	"i64.load8_u": mem(0, 0x31), "i64.load16_u": mem(1, 0x33), "i64.load32_u": mem(2, 0x35),
	"i32.store": mem(2, 0x36), "i64.store": mem(3, 0x37),
	"i32.store8": mem(0, 0x3a), "i32.store16": mem(1, 0x3b), "i64.store8": mem(0, 0x3c), "i64.store32": mem(2, 0x3e),
	"memory.size": op(immZero, 0x3f), "memory.grow": op(immZero, 0x40),
	"i32.const": op(immI32, 0x41), "i64.const": op(immI64, 0x42),

	"i32.eqz": op(immNone, 0x45), "i32.eq": op(immNone, 0x46), "i32.ne": op(immNone, 0x47),
	"i32.lt_s": op(immNone, 0x48), "i32.lt_u": op(immNone, 0x49), "i32.gt_s": op(immNone, 0x4a), "i32.gt_u": op(immNone, 0x4b),
	"i32.le_s": op(immNone, 0x4c), "i32.le_u": op(immNone, 0x4d), "i32.ge_s": op(immNone, 0x4e), "i32.ge_u": op(immNone, 0x4f),
	"i64.eqz": op(immNone, 0x50), "i64.eq": op(immNone, 0x51), "i64.ne": op(immNone, 0x52),
	"i64.lt_u": op(immNone, 0x54), "i64.gt_u": op(immNone, 0x56), "i64.le_u": op(immNone, 0x58), "i64.ge_u": op(immNone, 0x5a),

	"i32.clz": op(immNone, 0x67), "i32.ctz": op(immNone, 0x68), "i32.popcnt": op(immNone, 0x69),
	"i32.add": op(immNone, 0x6a), "i32.sub": op(immNone, 0x6b), "i32.mul": op(immNone, 0x6c),
	"i32.div_s": op(immNone, 0x6d), "i32.div_u": op(immNone, 0x6e), "i32.rem_s": op(immNone, 0x6f), "i32.rem_u": op(immNone, 0x70),
	"i32.and": op(immNone, 0x71), "i32.or": op(immNone, 0x72), "i32.xor": op(immNone, 0x73),
	"i32.shl": op(immNone, 0x74), "i32.shr_s": op(immNone, 0x75), "i32.shr_u": op(immNone, 0x76),
	"i32.rotl": op(immNone, 0x77), "i32.rotr": op(immNone, 0x78),
	"i64.add": op(immNone, 0x7c), "i64.sub": op(immNone, 0x7d), "i64.mul": op(immNone, 0x7e),
	"i64.div_u": op(immNone, 0x80), "i64.rem_u": op(immNone, 0x82),
	"i64.and": op(immNone, 0x83), "i64.or": op(immNone, 0x84), "i64.xor": op(immNone, 0x85),
	"i64.shl": op(immNone, 0x86), "i64.shr_u": op(immNone, 0x88),
	"i32.wrap_i64": op(immNone, 0xa7), "i64.extend_i32_u": op(immNone, 0xad),

	"v128.load": simdMem(4, 0), "v128.store": simdMem(4, 11), "v128.const": simd(immV128, 12),
	"i8x16.splat": simd(immNone, 15), "i16x8.splat": simd(immNone, 16), "i32x4.splat": simd(immNone, 17),
	"i8x16.extract_lane_u": simd(immLane, 22), "i32x4.extract_lane": simd(immLane, 27),
	"i8x16.eq": simd(immNone, 35), "i8x16.lt_u": simd(immNone, 38), "i8x16.gt_u": simd(immNone, 40),
	"v128.not": simd(immNone, 77), "v128.and": simd(immNone, 78), "v128.andnot": simd(immNone, 79),
	"v128.or": simd(immNone, 80), "v128.xor": simd(immNone, 81), "v128.bitselect": simd(immNone, 82),
	"v128.any_true":        simd(immNone, 83),
	"i8x16.narrow_i16x8_u": simd(immNone, 102),
	"i8x16.add":            simd(immNone, 110), "i8x16.add_sat_u": simd(immNone, 112),
	"i8x16.sub": simd(immNone, 113), "i8x16.sub_sat_u": simd(immNone, 115),
	"i8x16.min_u": simd(immNone, 119), "i8x16.max_u": simd(immNone, 121), "i8x16.avgr_u": simd(immNone, 123),
	"i16x8.extend_low_i8x16_u": simd(immNone, 137), "i16x8.extend_high_i8x16_u": simd(immNone, 138),
	"i16x8.shl": simd(immNone, 139), "i16x8.shr_u": simd(immNone, 141),
	"i16x8.add": simd(immNone, 142), "i16x8.sub": simd(immNone, 145), "i16x8.mul": simd(immNone, 149),
	"i32x4.add": simd(immNone, 174), "i32x4.sub": simd(immNone, 177), "i32x4.mul": simd(immNone, 181),
}

// value types by name
var valTypes = map[string]byte{"i32": 0x7f, "i64": 0x7e, "f32": 0x7d, "f64": 0x7c, "v128": 0x7b}
