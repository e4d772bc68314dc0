package wasmasm

import (
	"fmt"
	"strconv"
	"strings"
)

// Assemble translates a module written in the WebAssembly text format
// into the binary format. It knows the subset plugins need: imported
// functions, one memory (with an inline export), mutable or constant
// i32/i64 globals, functions with named or numbered params, results and
// locals and inline exports, active data segments, and export fields;
// instructions flat or folded, including folded block, loop and
// if/then/else, from the table in wat_ops.go (integer, memory, control
// and a SIMD128 subset). Errors name the line.
func Assemble(src string) ([]byte, error) {
	root, err := parse(src)
	if err != nil {
		return nil, err
	}
	if len(root.list) != 1 || root.list[0].head() != "module" {
		return nil, fmt.Errorf("line 1: expected one (module ...)")
	}
	a := &assembler{funcIdx: map[string]uint32{}, globalIdx: map[string]uint32{}}
	if err := a.module(root.list[0]); err != nil {
		return nil, err
	}
	return a.bytes(), nil
}

// sexpr is an atom, a string literal or a list.
type sexpr struct {
	atom string
	str  bool
	list []*sexpr
	line int
}

func (s *sexpr) isList() bool { return s.list != nil }

// head is a list's first atom.
func (s *sexpr) head() string {
	if len(s.list) > 0 && !s.list[0].isList() {
		return s.list[0].atom
	}
	return ""
}

func errAt(s *sexpr, format string, args ...any) error {
	return fmt.Errorf("line %d: %s", s.line, fmt.Sprintf(format, args...))
}

// parse reads the text into a list of top-level expressions.
func parse(src string) (*sexpr, error) {
	root := &sexpr{list: []*sexpr{}, line: 1}
	stack := []*sexpr{root}
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case strings.HasPrefix(src[i:], ";;"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "(;"):
			end := strings.Index(src[i:], ";)")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated comment", line)
			}
			line += strings.Count(src[i:i+end], "\n")
			i += end + 2
		case c == '(':
			l := &sexpr{list: []*sexpr{}, line: line}
			top := stack[len(stack)-1]
			top.list = append(top.list, l)
			stack = append(stack, l)
			i++
		case c == ')':
			if len(stack) == 1 {
				return nil, fmt.Errorf("line %d: unbalanced )", line)
			}
			stack = stack[:len(stack)-1]
			i++
		case c == '"':
			s, n, err := unquote(src[i:])
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", line, err)
			}
			top := stack[len(stack)-1]
			top.list = append(top.list, &sexpr{atom: s, str: true, line: line})
			i += n
		default:
			j := i
			for j < len(src) && !strings.ContainsRune(" \t\r\n()\";", rune(src[j])) {
				j++
			}
			top := stack[len(stack)-1]
			top.list = append(top.list, &sexpr{atom: src[i:j], line: line})
			i = j
		}
	}
	if len(stack) != 1 {
		return nil, fmt.Errorf("line %d: unbalanced (", line)
	}
	return root, nil
}

// unquote reads a string literal at the start of s (escapes: \n \t \\ \'
// \" and two hex digits) and returns it and the bytes it took.
func unquote(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("unterminated string")
			}
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '\\', '\'', '"':
				b.WriteByte(e)
			default:
				v, err := strconv.ParseUint(s[i:min(i+2, len(s))], 16, 8)
				if err != nil {
					return "", 0, fmt.Errorf("bad escape \\%c", e)
				}
				b.WriteByte(byte(v))
				i++
			}
		case '\n':
			return "", 0, fmt.Errorf("unterminated string")
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

// number parses an integer literal (sign, 0x, _ separators) of bits bits;
// negative values and values up to the unsigned maximum are both allowed.
func number(s string, bits int) (int64, error) {
	t := strings.ReplaceAll(s, "_", "")
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimLeft(t, "+-")
	base := 10
	if strings.HasPrefix(t, "0x") {
		base, t = 16, t[2:]
	}
	u, err := strconv.ParseUint(t, base, bits)
	if err != nil {
		return 0, fmt.Errorf("bad %d-bit number %q", bits, s)
	}
	if neg {
		if u > 1<<(bits-1) {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		return -int64(u), nil
	}
	if bits == 32 {
		return int64(int32(uint32(u))), nil
	}
	return int64(u), nil
}

// S64 is a signed LEB128 number.
func S64(v int64) []byte {
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
