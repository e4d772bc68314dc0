package wasmasm

import (
	"encoding/binary"
	"math/bits"
	"strings"
)

// code assembles one instruction sequence.
type code struct {
	a      *assembler
	locals map[string]uint32
	labels []string // enclosing blocks' labels, innermost last ("" unnamed)
	out    []byte
}

// index resolves a $name in space, or a number.
func index(s *sexpr, space map[string]uint32) (uint32, error) {
	if s.isList() {
		return 0, errAt(s, "expected an index or a $name")
	}
	if strings.HasPrefix(s.atom, "$") {
		i, ok := space[s.atom]
		if !ok {
			return 0, errAt(s, "unknown name %s", s.atom)
		}
		return i, nil
	}
	n, err := number(s.atom, 32)
	if err != nil || n < 0 {
		return 0, errAt(s, "expected an index or a $name, got %q", s.atom)
	}
	return uint32(n), nil
}

// seq assembles flat and folded instructions.
func (c *code) seq(items []*sexpr) error {
	for i := 0; i < len(items); {
		it := items[i]
		if it.isList() {
			if err := c.folded(it); err != nil {
				return err
			}
			i++
			continue
		}
		info, ok := ops[it.atom]
		if !ok {
			return errAt(it, "unknown instruction %q", it.atom)
		}
		imm, n, err := c.imm(it, info, items[i+1:])
		if err != nil {
			return err
		}
		c.emit(it.atom, info, imm, items[i+1:])
		i += 1 + n
	}
	return nil
}

// emit writes an instruction and keeps the label stack.
func (c *code) emit(name string, info opInfo, imm []byte, after []*sexpr) {
	c.out = append(append(c.out, info.code...), imm...)
	switch name {
	case "block", "loop", "if":
		label, _ := ident(after)
		c.labels = append(c.labels, label)
	case "end":
		if len(c.labels) > 0 {
			c.labels = c.labels[:len(c.labels)-1]
		}
	}
}

// folded assembles (op immediates operands...), (block ...), (loop ...)
// and (if ... (then ...) (else ...)).
func (c *code) folded(l *sexpr) error {
	h := l.head()
	info, ok := ops[h]
	if !ok {
		return errAt(l, "unknown instruction %q", h)
	}
	rest := l.list[1:]
	imm, n, err := c.imm(l.list[0], info, rest)
	if err != nil {
		return err
	}
	operands := rest[n:]
	switch h {
	case "block", "loop":
		c.emit(h, info, imm, rest)
		if err := c.seq(operands); err != nil {
			return err
		}
		c.emit("end", ops["end"], nil, nil)
		return nil
	case "if":
		var then, els *sexpr
	peel: // (then ...) and (else ...) end the list; the condition comes before
		for len(operands) > 0 {
			last := operands[len(operands)-1]
			switch {
			case last.head() == "else" && els == nil && then == nil:
				els = last
			case last.head() == "then" && then == nil:
				then = last
			default:
				break peel
			}
			operands = operands[:len(operands)-1]
		}
		if then == nil {
			return errAt(l, "(if ...) needs a (then ...)")
		}
		if err := c.seq(operands); err != nil { // the condition
			return err
		}
		c.emit(h, info, imm, rest)
		if err := c.seq(then.list[1:]); err != nil {
			return err
		}
		if els != nil {
			c.emit("else", ops["else"], nil, nil)
			if err := c.seq(els.list[1:]); err != nil {
				return err
			}
		}
		c.emit("end", ops["end"], nil, nil)
		return nil
	}
	for _, o := range operands {
		if !o.isList() {
			return errAt(o, "unexpected %q in (%s ...)", o.atom, h)
		}
		if err := c.folded(o); err != nil {
			return err
		}
	}
	c.emit(h, info, imm, nil)
	return nil
}

// imm encodes the immediates of an instruction read from after, and says
// how many items they took.
func (c *code) imm(at *sexpr, info opInfo, after []*sexpr) ([]byte, int, error) {
	atom := func() (*sexpr, error) {
		if len(after) == 0 || after[0].isList() {
			return nil, errAt(at, "%s needs an immediate", at.atom)
		}
		return after[0], nil
	}
	switch info.imm {
	case immNone:
		return nil, 0, nil
	case immZero:
		return []byte{0x00}, 0, nil
	case immLocal, immGlobal, immFunc:
		s, err := atom()
		if err != nil {
			return nil, 0, err
		}
		space := map[int]map[string]uint32{immLocal: c.locals, immGlobal: c.a.globalIdx, immFunc: c.a.funcIdx}[info.imm]
		i, err := index(s, space)
		return U32(i), 1, err
	case immLabel:
		s, err := atom()
		if err != nil {
			return nil, 0, err
		}
		d, err := c.depth(s)
		return U32(d), 1, err
	case immTable:
		var ds []uint32
		n := 0
		for ; n < len(after) && !after[n].isList() && isLabel(after[n].atom); n++ {
			d, err := c.depth(after[n])
			if err != nil {
				return nil, 0, err
			}
			ds = append(ds, d)
		}
		if len(ds) == 0 {
			return nil, 0, errAt(at, "br_table needs labels")
		}
		b := U32(uint32(len(ds) - 1))
		for _, d := range ds {
			b = append(b, U32(d)...)
		}
		return b, n, nil
	case immMem:
		offset, align, n := uint32(0), info.align, 0
		for ; n < len(after) && !after[n].isList(); n++ {
			k, v, ok := strings.Cut(after[n].atom, "=")
			if !ok || (k != "offset" && k != "align") {
				break
			}
			x, err := number(v, 32)
			if err != nil {
				return nil, 0, errAt(after[n], "%v", err)
			}
			if k == "offset" {
				offset = uint32(x)
			} else if x <= 0 || x&(x-1) != 0 {
				return nil, 0, errAt(after[n], "align must be a power of two")
			} else {
				align = uint32(bits.TrailingZeros32(uint32(x)))
			}
		}
		return append(U32(align), U32(offset)...), n, nil
	case immI32, immI64:
		s, err := atom()
		if err != nil {
			return nil, 0, err
		}
		size := map[int]int{immI32: 32, immI64: 64}[info.imm]
		v, err := number(s.atom, size)
		if err != nil {
			return nil, 0, errAt(s, "%v", err)
		}
		if size == 32 {
			return S32(int32(v)), 1, nil
		}
		return S64(v), 1, nil
	case immLane:
		s, err := atom()
		if err != nil {
			return nil, 0, err
		}
		v, err := number(s.atom, 8)
		return []byte{byte(v)}, 1, err
	case immV128:
		return c.v128(at, after)
	}
	return c.blockType(after)
}

func isLabel(s string) bool {
	return strings.HasPrefix(s, "$") || (s != "" && s[0] >= '0' && s[0] <= '9')
}

// depth resolves a label to its branch depth.
func (c *code) depth(s *sexpr) (uint32, error) {
	if !strings.HasPrefix(s.atom, "$") {
		return index(s, nil)
	}
	for i := len(c.labels) - 1; i >= 0; i-- {
		if c.labels[i] == s.atom {
			return uint32(len(c.labels) - 1 - i), nil
		}
	}
	return 0, errAt(s, "unknown label %s", s.atom)
}

// blockType reads [$label] [(result t)].
func (c *code) blockType(after []*sexpr) ([]byte, int, error) {
	n := 0
	if _, rest := ident(after); len(rest) < len(after) {
		n = 1
	}
	if n < len(after) && after[n].head() == "result" {
		r := after[n]
		if len(r.list) != 2 {
			return nil, 0, errAt(r, "a block has at most one result")
		}
		t, ok := valTypes[r.list[1].atom]
		if !ok {
			return nil, 0, errAt(r, "unknown value type %q", r.list[1].atom)
		}
		return []byte{t}, n + 1, nil
	}
	return []byte{BlockVoid}, n, nil
}

// v128 reads a v128.const's shape and lanes.
func (c *code) v128(at *sexpr, after []*sexpr) ([]byte, int, error) {
	shapes := map[string]int{"i8x16": 8, "i16x8": 16, "i32x4": 32, "i64x2": 64}
	if len(after) == 0 {
		return nil, 0, errAt(at, "v128.const needs a shape")
	}
	size, ok := shapes[after[0].atom]
	if !ok {
		return nil, 0, errAt(after[0], "unknown v128 shape %q", after[0].atom)
	}
	lanes := 128 / size
	if len(after) < 1+lanes {
		return nil, 0, errAt(at, "%s needs %d lanes", after[0].atom, lanes)
	}
	var b [16]byte
	for i := range lanes {
		v, err := number(after[1+i].atom, size)
		if err != nil {
			return nil, 0, errAt(after[1+i], "%v", err)
		}
		var lane [8]byte
		binary.LittleEndian.PutUint64(lane[:], uint64(v))
		copy(b[i*size/8:], lane[:size/8])
	}
	return b[:], 1 + lanes, nil
}
