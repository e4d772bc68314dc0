;; simdinvert: an example edgepix plugin written in the WebAssembly text
;; format, with no language runtime. It inverts R, G and B and keeps
;; alpha, 16 bytes (4 pixels) per SIMD128 instruction. The tests and
;; `make plugins` assemble it with the project's own assembler
;; (internal/wasmasm.Assemble); `wat2wasm` from wabt accepts it as well.
(module
  (memory (export "memory") 1)

  ;; An arena: blocks are handed out upwards from 1024, each with 8 bytes
  ;; of room before it for the output header; dealloc empties it (the
  ;; host frees both inputs after every call).
  (global $top (mut i32) (i32.const 1024))

  (func (export "alloc") (param $size i32) (result i32)
    (local $p i32) (local $pages i32)
    (local.set $p (i32.add (global.get $top) (i32.const 8)))
    (global.set $top
      (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 15)) (i32.const -16)))
    ;; grow the memory until it holds the arena's top
    (local.set $pages
      (i32.sub (i32.shr_u (i32.add (global.get $top) (i32.const 65535)) (i32.const 16)) (memory.size)))
    (if (i32.gt_s (local.get $pages) (i32.const 0))
      (then
        (if (i32.eq (memory.grow (local.get $pages)) (i32.const -1))
          (then unreachable))))
    (local.get $p))

  (func (export "dealloc") (param i32 i32)
    (global.set $top (i32.const 1024)))

  ;; transform(width, height, pixels, metadata, metadata length) -> output:
  ;; the pixels are inverted in place and the header written before them.
  (func (export "transform")
    (param $w i32) (param $h i32) (param $img i32) (param $meta i32) (param $len i32) (result i32)
    (local $p i32) (local $end i32) (local $mask v128)
    (local.set $p (local.get $img))
    (local.set $end (i32.add (local.get $img) (i32.shl (i32.mul (local.get $w) (local.get $h)) (i32.const 2))))
    ;; little-endian RGBA: the low three bytes of each 32-bit lane are R, G, B
    (local.set $mask (v128.const i32x4 0x00ffffff 0x00ffffff 0x00ffffff 0x00ffffff))
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $p) (v128.xor (v128.load (local.get $p)) (local.get $mask)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next)))
    ;; the last pixels, one at a time
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (i32.store (local.get $p) (i32.xor (i32.load (local.get $p)) (i32.const 0x00ffffff)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $next)))
    ;; the header: width and height as big-endian u32
    (i32.store offset=0 (i32.sub (local.get $img) (i32.const 8)) (call $bswap (local.get $w)))
    (i32.store (i32.sub (local.get $img) (i32.const 4)) (call $bswap (local.get $h)))
    (i32.sub (local.get $img) (i32.const 8)))

  ;; bswap reverses the bytes of a 32-bit value.
  (func $bswap (param $v i32) (result i32)
    (i32.or
      (i32.or
        (i32.shl (local.get $v) (i32.const 24))
        (i32.shl (i32.and (local.get $v) (i32.const 0xff00)) (i32.const 8)))
      (i32.or
        (i32.and (i32.shr_u (local.get $v) (i32.const 8)) (i32.const 0xff00))
        (i32.shr_u (local.get $v) (i32.const 24))))))
