package wasmasm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

func instantiate(t *testing.T, wasm []byte) api.Module {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { r.Close(ctx) })
	_, err := r.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithFunc(func(v uint32) uint32 { return v * 10 }).Export("times10").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatalf("wazero refuses the assembled module: %v", err)
	}
	return m
}

func call(t *testing.T, m api.Module, fn string, args ...uint64) uint64 {
	t.Helper()
	res, err := m.ExportedFunction(fn).Call(context.Background(), args...)
	if err != nil {
		t.Fatalf("%s: %v", fn, err)
	}
	return res[0]
}

// Every construct the assembler knows, checked by running the result.
func TestAssembleRuns(t *testing.T) {
	src := `
(module
  (import "env" "times10" (func $times10 (param i32) (result i32)))
  (memory (export "mem") 1 2)
  (global $g (mut i32) (i32.const -5))
  (global $k i64 (i64.const 0x1_0000_0000))
  (data (i32.const 16) "ab\41\n")
  (func $sum (export "sum") (param $n i32) (result i32) (local $acc i32)
    block $out
      loop $again
        local.get $n
        i32.eqz
        br_if $out
        local.get $acc
        local.get $n
        i32.add
        local.set $acc
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        br $again
      end
    end
    local.get $acc)
  (func (export "pick") (param i32) (result i32)
    (block $c (block $b (block $a (br_table $a $b $c (local.get 0)))
        (return (i32.const 100)))
      (return (i32.const 200)))
    (i32.const 300))
  (func (export "sign") (param $x i32) (result i32)
    (if (result i32) (i32.lt_s (local.get $x) (i32.const 0))
      (then (i32.const -1))
      (else (call $times10 (local.get $x)))))
  (func (export "glob") (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 7)))
    (i32.add (global.get $g) (i32.wrap_i64 (i64.shr_u (global.get $k) (i64.const 32)))))
  (func (export "data") (result i32)
    (i32.load offset=16 align=1 (i32.const 0)))
  (func (export "simd") (result i32)
    (i32x4.extract_lane 2
      (i32x4.add (v128.const i32x4 1 2 3 4) (i32x4.splat (i32.const 10)))))
  (func (export "grow") (result i32)
    (drop (memory.grow (i32.const 1)))
    (memory.size))
)`
	wasm, err := Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	m := instantiate(t, wasm)
	for _, c := range []struct {
		fn   string
		args []uint64
		want uint32
	}{
		{"sum", []uint64{10}, 55},
		{"pick", []uint64{0}, 100}, {"pick", []uint64{1}, 200}, {"pick", []uint64{7}, 300},
		{"sign", []uint64{uint64(uint32(0xfffffffd))}, 0xffffffff}, {"sign", []uint64{4}, 40},
		{"glob", nil, 3},
		{"data", nil, 0x0a416261},
		{"simd", nil, 13},
		{"grow", nil, 2},
	} {
		if got := uint32(call(t, m, c.fn, c.args...)); got != c.want {
			t.Errorf("%s%v = %#x, want %#x", c.fn, c.args, got, c.want)
		}
	}
}

// The example plugin assembles and inverts colours, keeping alpha, for
// sizes that do and do not fill whole 16-byte steps.
func TestAssembleExamplePlugin(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "plugins", "examples", "simdinvert", "simdinvert.wat"))
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := Assemble(string(src))
	if err != nil {
		t.Fatal(err)
	}
	m := instantiate(t, wasm)
	for _, size := range [][2]uint32{{3, 1}, {5, 3}, {300, 200}} {
		n := size[0] * size[1] * 4
		p := uint32(call(t, m, "alloc", uint64(n)))
		pix := make([]byte, n)
		for i := range pix {
			pix[i] = byte(i * 31)
		}
		m.Memory().Write(p, pix)
		out := uint32(call(t, m, "transform", uint64(size[0]), uint64(size[1]), uint64(p), 0, 0))
		got, _ := m.Memory().Read(out, 8+n)
		if w, h := be(got), be(got[4:]); w != size[0] || h != size[1] {
			t.Fatalf("header %dx%d, want %v", w, h, size)
		}
		for i := range pix {
			want := 255 - pix[i]
			if i%4 == 3 {
				want = pix[i]
			}
			if got[8+i] != want {
				t.Fatalf("%v: byte %d is %d, want %d", size, i, got[8+i], want)
			}
		}
		m.ExportedFunction("dealloc").Call(context.Background(), uint64(p), uint64(n))
	}
}

func be(b []byte) uint32 { return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) }

func TestAssembleErrors(t *testing.T) {
	for src, want := range map[string]string{
		"(module (func\n i32.frob))":                       "line 2: unknown instruction \"i32.frob\"",
		"(module (func (br $nowhere)))":                    "unknown label $nowhere",
		"(module (func (local.get $x)))":                   "unknown name $x",
		"(module (func (call $f)))":                        "unknown name $f",
		"(module (func (i32.const 99999999999) drop))":     "bad 32-bit number",
		"(module (func (result i32) (i32.const 1)":         "unbalanced (",
		"(module (table 1))":                               "unsupported module field \"table\"",
		"(module (memory 1) (memory 1))":                   "one memory at most",
		`(module (data (i32.const 0) "\zz"))`:              "bad escape",
		"(module (func (if (i32.const 1) (i32.const 2))))": "needs a (then ...)",
		"(module) (module)":                                "expected one (module ...)",
	} {
		_, err := Assemble(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error mentioning %q", src, err, want)
		}
	}
}
