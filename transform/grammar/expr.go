package grammar

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Expr is an expression in a numeric parameter (w_iw_div_2, h_ih_mul_0.5,
// w_$w_mul_2, e_brightness:iw_div_10), a variable's value ($x_ctx:!x!_to_f)
// or a condition (if_w_gt_h_and_!sale!_in_tags): one evaluator for all.
// Operators, loosest first: or; and; eq ne lt gt lte gte in nin (or = != <
// > <= >=); add sub (+ -); mul div mod (* / %); pow (^, right to left);
// the conversions to_f and to_i. Operands: numbers (3:4 is a ratio),
// predefined names, $variables, !strings! (!a:b! is a list), ctx:!key!
// and tags.
type Expr struct {
	root exprNode
	src  string
}

// ValueKind says what a Value holds.
type ValueKind uint8

// The kinds of values: numbers, strings and lists of strings.
const (
	NumberValue ValueKind = iota
	StringValue
	ListValue
)

// Value is what an expression yields.
type Value struct {
	Kind ValueKind
	Num  float64
	Str  string
	List []string
}

// Number is a number Value.
func Number(f float64) Value { return Value{Num: f} }

// Float returns v as a number: a string is read as one (0 when it is
// not), a list counts as 0.
func (v Value) Float() float64 {
	switch v.Kind {
	case StringValue:
		f, err := strconv.ParseFloat(v.Str, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0
		}
		return f
	case ListValue:
		return 0
	}
	return v.Num
}

// strings returns v as a list: a list, a string split at ':', or a
// number's text.
func (v Value) strings() []string {
	switch v.Kind {
	case ListValue:
		return v.List
	case StringValue:
		return strings.Split(v.Str, ":")
	}
	return []string{formatFloat(v.Num, false)}
}

// Values are what expressions see at a step: the current (w, h) and
// initial (iw, ih) size, the page count and the current page, the asset's
// tags and contextual metadata, and the user variables assigned so far.
type Values struct {
	W, H, IW, IH float64
	Pages, Page  float64
	Tags         []string
	Context      map[string]string
	Vars         map[string]Value
}

type exprNode interface {
	eval(v *Values) (Value, error)
}

type (
	exprNum  float64
	exprStr  string
	exprName string // a predefined name, short form
	exprCtx  string // ctx:!key!
	exprVar  string // $name
	exprConv struct {
		x   exprNode
		int bool // to_i (else to_f)
	}
	exprOp struct {
		op   string
		l, r exprNode
	}
)

func (n exprNum) eval(*Values) (Value, error) { return Number(float64(n)), nil }
func (n exprStr) eval(*Values) (Value, error) { return Value{Kind: StringValue, Str: string(n)}, nil }

func (n exprCtx) eval(v *Values) (Value, error) {
	return Value{Kind: StringValue, Str: v.Context[string(n)]}, nil
}

func (n exprVar) eval(v *Values) (Value, error) {
	val, ok := v.Vars[string(n)]
	if !ok {
		return Value{}, errorf("Undefined variable in transformation: $%s (not assigned on this branch)", string(n))
	}
	return val, nil
}

func (n exprConv) eval(v *Values) (Value, error) {
	x, err := n.x.eval(v)
	if err != nil {
		return x, err
	}
	f := x.Float()
	if n.int {
		f = math.Trunc(f)
	}
	return Number(f), nil
}

func (n exprName) eval(v *Values) (Value, error) {
	switch n {
	case "w":
		return Number(v.W), nil
	case "h":
		return Number(v.H), nil
	case "iw":
		return Number(v.IW), nil
	case "ih":
		return Number(v.IH), nil
	case "ar":
		return Number(ratio(v.W, v.H)), nil
	case "iar":
		return Number(ratio(v.IW, v.IH)), nil
	case "pc":
		return Number(v.Pages), nil
	case "cp":
		return Number(v.Page), nil
	case "tags":
		return Value{Kind: ListValue, List: v.Tags}, nil
	}
	return Value{}, errorf("Unsupported expression operand: %s", string(n))
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func truth(b bool) Value {
	if b {
		return Number(1)
	}
	return Number(0)
}

func (n exprOp) eval(v *Values) (Value, error) {
	lv, err := n.l.eval(v)
	if err != nil {
		return lv, err
	}
	switch n.op { // and, or: the right side only when needed
	case "and":
		if lv.Float() == 0 {
			return truth(false), nil
		}
	case "or":
		if lv.Float() != 0 {
			return truth(true), nil
		}
	}
	rv, err := n.r.eval(v)
	if err != nil {
		return rv, err
	}
	l, r := lv.Float(), rv.Float()
	switch n.op {
	case "and", "or":
		return truth(r != 0), nil
	case "add":
		return Number(l + r), nil
	case "sub":
		return Number(l - r), nil
	case "mul":
		return Number(l * r), nil
	case "div":
		return Number(ratio(l, r)), nil // a division by zero gives 0, not a crash
	case "mod":
		if r == 0 {
			return Number(0), nil
		}
		return Number(math.Mod(l, r)), nil
	case "pow":
		return Number(math.Pow(l, r)), nil
	case "eq", "ne":
		eq := l == r
		if lv.Kind != NumberValue && rv.Kind != NumberValue {
			eq = slices.Equal(lv.strings(), rv.strings())
		}
		return truth(eq == (n.op == "eq")), nil
	case "lt":
		return truth(l < r), nil
	case "gt":
		return truth(l > r), nil
	case "lte":
		return truth(l <= r), nil
	case "gte":
		return truth(l >= r), nil
	case "in", "nin": // any of the left side's strings among the right side's
		have := rv.strings()
		in := slices.ContainsFunc(lv.strings(), func(s string) bool { return slices.Contains(have, s) })
		return truth(in == (n.op == "in")), nil
	}
	return Value{}, errorf("Invalid expression operator: %s", n.op)
}

// Eval evaluates the expression; a number that is not finite gives 0.
func (e *Expr) Eval(v Values) (Value, error) {
	val, err := e.root.eval(&v)
	if err != nil {
		return val, err
	}
	if val.Kind == NumberValue && (math.IsNaN(val.Num) || math.IsInf(val.Num, 0)) {
		val.Num = 0
	}
	return val, nil
}

// Number evaluates the expression as a number.
func (e *Expr) Number(v Values) (float64, error) {
	val, err := e.Eval(v)
	return val.Float(), err
}

// String is the expression as written.
func (e *Expr) String() string { return e.src }

// IsExpr reports whether a parameter value is an expression rather than a
// plain number: it holds a name, a variable, a string or an operator.
func IsExpr(v string) bool {
	if _, err := strconv.ParseFloat(v, 64); err == nil || v == "" {
		return false
	}
	return strings.ContainsAny(v, "_$!") || exprNames[v] != "" || strings.HasPrefix(v, "ctx:")
}
