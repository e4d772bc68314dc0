package wasmasm

import (
	"bytes"
	"strings"
)

// assembler gathers a text module's fields, then encodes them.
type assembler struct {
	types     [][]byte // function types, each once
	imports   [][]byte
	nImports  uint32
	funcIdx   map[string]uint32
	globalIdx map[string]uint32
	funcs     []*watFunc
	memory    []byte // its limits; nil: none
	globals   [][]byte
	exports   [][]byte
	codes     [][]byte
	data      [][]byte
}

// watFunc is a defined function: its type, its params' and locals' names
// and types, and the rest of its field (the instructions).
type watFunc struct {
	typeIdx uint32
	names   map[string]uint32
	locals  []byte // types of the locals after the params
	body    []*sexpr
}

// module reads every field: imports and names first, bodies once every
// function has its index.
func (a *assembler) module(m *sexpr) error {
	fields := m.list[1:]
	for _, f := range fields {
		if f.head() == "import" {
			if err := a.importField(f); err != nil {
				return err
			}
		}
	}
	var later []*sexpr
	for _, f := range fields {
		var err error
		switch f.head() {
		case "import":
		case "func":
			err = a.funcField(f)
		case "memory":
			err = a.memoryField(f)
		case "global", "export", "data":
			later = append(later, f) // they may name any function or global
		default:
			err = errAt(f, "unsupported module field %q", f.head())
		}
		if err != nil {
			return err
		}
	}
	for _, f := range later {
		if f.head() == "global" {
			if err := a.globalField(f); err != nil {
				return err
			}
		}
	}
	for _, f := range later {
		var err error
		switch f.head() {
		case "export":
			err = a.exportField(f)
		case "data":
			err = a.dataField(f)
		}
		if err != nil {
			return err
		}
	}
	for _, fn := range a.funcs {
		c := &code{a: a, locals: fn.names}
		if err := c.seq(fn.body); err != nil {
			return err
		}
		body := localDecls(fn.locals)
		body = append(append(body, c.out...), End)
		a.codes = append(a.codes, append(U32(uint32(len(body))), body...))
	}
	return nil
}

// ident takes a leading $name from items.
func ident(items []*sexpr) (string, []*sexpr) {
	if len(items) > 0 && !items[0].isList() && strings.HasPrefix(items[0].atom, "$") {
		return items[0].atom, items[1:]
	}
	return "", items
}

// signature reads (param ...), (result ...) and, with locals, (local ...)
// lists at the start of items, naming params and locals.
func signature(items []*sexpr, locals bool) (params, results, locs []byte, names map[string]uint32, rest []*sexpr, err error) {
	names = map[string]uint32{}
	for len(items) > 0 && items[0].isList() {
		h := items[0].head()
		if h != "param" && h != "result" && (h != "local" || !locals) {
			break
		}
		parts := items[0].list[1:]
		name, parts := ident(parts)
		if name != "" && (h == "result" || len(parts) != 1) {
			return nil, nil, nil, nil, nil, errAt(items[0], "a named %s has exactly one type", h)
		}
		for _, p := range parts {
			t, ok := valTypes[p.atom]
			if !ok || p.isList() {
				return nil, nil, nil, nil, nil, errAt(p, "unknown value type %q", p.atom)
			}
			idx := uint32(len(params) + len(locs))
			switch h {
			case "param":
				if len(locs) > 0 || len(results) > 0 {
					return nil, nil, nil, nil, nil, errAt(p, "param after result or local")
				}
				params = append(params, t)
			case "result":
				results = append(results, t)
			default:
				locs = append(locs, t)
			}
			if name != "" {
				names[name] = idx
			}
		}
		items = items[1:]
	}
	return params, results, locs, names, items, nil
}

// typeIndex returns the index of a function type, adding it once.
func (a *assembler) typeIndex(params, results []byte) uint32 {
	t := sigBytes(params, results)
	for i, have := range a.types {
		if bytes.Equal(have, t) {
			return uint32(i)
		}
	}
	a.types = append(a.types, t)
	return uint32(len(a.types) - 1)
}

// exports takes inline (export "name") lists for the item of kind and index.
func (a *assembler) exportsOf(items []*sexpr, kind byte, idx uint32) []*sexpr {
	for len(items) > 0 && items[0].head() == "export" && len(items[0].list) == 2 && items[0].list[1].str {
		a.exports = append(a.exports, Cat(name(items[0].list[1].atom), []byte{kind}, U32(idx)))
		items = items[1:]
	}
	return items
}

func (a *assembler) importField(f *sexpr) error {
	if len(f.list) != 4 || !f.list[1].str || !f.list[2].str || f.list[3].head() != "func" {
		return errAt(f, `expected (import "module" "name" (func ...))`)
	}
	id, rest := ident(f.list[3].list[1:])
	params, results, _, _, rest, err := signature(rest, false)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errAt(f, "unexpected %q in an import", rest[0].atom)
	}
	if id != "" {
		a.funcIdx[id] = a.nImports
	}
	a.imports = append(a.imports, Cat(name(f.list[1].atom), name(f.list[2].atom), []byte{0x00}, U32(a.typeIndex(params, results))))
	a.nImports++
	return nil
}

func (a *assembler) funcField(f *sexpr) error {
	idx := a.nImports + uint32(len(a.funcs))
	id, rest := ident(f.list[1:])
	if id != "" {
		a.funcIdx[id] = idx
	}
	rest = a.exportsOf(rest, 0x00, idx)
	params, results, locs, names, body, err := signature(rest, true)
	if err != nil {
		return err
	}
	a.funcs = append(a.funcs, &watFunc{typeIdx: a.typeIndex(params, results), names: names, locals: locs, body: body})
	return nil
}

func (a *assembler) memoryField(f *sexpr) error {
	if a.memory != nil {
		return errAt(f, "one memory at most")
	}
	_, rest := ident(f.list[1:])
	rest = a.exportsOf(rest, 0x02, 0)
	var lim []uint32
	for _, r := range rest {
		n, err := number(r.atom, 32)
		if err != nil || r.isList() {
			return errAt(r, "memory limits are page counts")
		}
		lim = append(lim, uint32(n))
	}
	switch len(lim) {
	case 1:
		a.memory = Cat([]byte{0x00}, U32(lim[0]))
	case 2:
		a.memory = Cat([]byte{0x01}, U32(lim[0]), U32(lim[1]))
	default:
		return errAt(f, "expected (memory min [max])")
	}
	return nil
}

func (a *assembler) globalField(f *sexpr) error {
	idx := uint32(len(a.globals))
	id, rest := ident(f.list[1:])
	if id != "" {
		a.globalIdx[id] = idx
	}
	rest = a.exportsOf(rest, 0x03, idx)
	if len(rest) != 2 {
		return errAt(f, "expected (global [$name] type (init))")
	}
	typ, mut := rest[0], byte(0)
	if typ.head() == "mut" && len(typ.list) == 2 {
		typ, mut = typ.list[1], 1
	}
	t, ok := valTypes[typ.atom]
	if !ok {
		return errAt(typ, "unknown global type")
	}
	c := &code{a: a}
	if err := c.seq(rest[1:]); err != nil {
		return err
	}
	a.globals = append(a.globals, Cat([]byte{t, mut}, c.out, []byte{End}))
	return nil
}

func (a *assembler) exportField(f *sexpr) error {
	if len(f.list) != 3 || !f.list[1].str || len(f.list[2].list) != 2 {
		return errAt(f, `expected (export "name" (func|memory|global ref))`)
	}
	ref := f.list[2]
	kinds := map[string]byte{"func": 0x00, "memory": 0x02, "global": 0x03}
	kind, ok := kinds[ref.head()]
	if !ok {
		return errAt(ref, "cannot export a %q", ref.head())
	}
	space := map[byte]map[string]uint32{0x00: a.funcIdx, 0x03: a.globalIdx, 0x02: {}}[kind]
	idx, err := index(ref.list[1], space)
	if err != nil {
		return err
	}
	a.exports = append(a.exports, Cat(name(f.list[1].atom), []byte{kind}, U32(idx)))
	return nil
}

func (a *assembler) dataField(f *sexpr) error {
	if len(f.list) < 2 || !f.list[1].isList() {
		return errAt(f, `expected (data (offset expression) "bytes"...)`)
	}
	c := &code{a: a}
	if err := c.seq(f.list[1:2]); err != nil {
		return err
	}
	var b []byte
	for _, s := range f.list[2:] {
		if !s.str {
			return errAt(s, "data holds string literals")
		}
		b = append(b, s.atom...)
	}
	a.data = append(a.data, Cat([]byte{0x00}, c.out, []byte{End}, U32(uint32(len(b))), b))
	return nil
}

// localDecls encodes local types, runs of one type together.
func localDecls(types []byte) []byte {
	var groups [][]byte
	for i := 0; i < len(types); {
		j := i
		for j < len(types) && types[j] == types[i] {
			j++
		}
		groups = append(groups, Cat(U32(uint32(j-i)), []byte{types[i]}))
		i = j
	}
	return vec(groups)
}

// bytes encodes the module.
func (a *assembler) bytes() []byte {
	out := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	add := func(id byte, items [][]byte) {
		if len(items) > 0 {
			out = append(out, section(id, vec(items))...)
		}
	}
	add(1, a.types)
	add(2, a.imports)
	var fn [][]byte
	for _, f := range a.funcs {
		fn = append(fn, U32(f.typeIdx))
	}
	add(3, fn)
	if a.memory != nil {
		add(5, [][]byte{a.memory})
	}
	add(6, a.globals)
	add(7, a.exports)
	add(10, a.codes)
	add(11, a.data)
	return out
}
