package grammar

import (
	"math"
	"strconv"
	"strings"
)

// Expr is an arithmetic expression in a numeric parameter (w_iw_div_2,
// h_ih_mul_0.5, w_$w_mul_2): numbers, predefined names and user variables
// joined by add sub mul div mod pow (or + - * / % ^), with pow binding
// tightest, then mul div mod, then add sub, each left to right.
type Expr struct {
	root exprNode
}

// Values are what an expression's names stand for when it is evaluated:
// the current (w, h) and initial (iw, ih) size, the page count and the
// current page.
type Values struct {
	W, H, IW, IH float64
	Pages, Page  float64
}

type exprNode interface {
	eval(v Values) float64
}

type exprNum float64
type exprName string
type exprOp struct {
	op   string
	l, r exprNode
}

func (n exprNum) eval(Values) float64 { return float64(n) }

func (n exprName) eval(v Values) float64 {
	switch n {
	case "w":
		return v.W
	case "h":
		return v.H
	case "iw":
		return v.IW
	case "ih":
		return v.IH
	case "ar":
		return ratio(v.W, v.H)
	case "iar":
		return ratio(v.IW, v.IH)
	case "pc":
		return v.Pages
	case "cp":
		return v.Page
	}
	return 0
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func (n exprOp) eval(v Values) float64 {
	l, r := n.l.eval(v), n.r.eval(v)
	switch n.op {
	case "add":
		return l + r
	case "sub":
		return l - r
	case "mul":
		return l * r
	case "div":
		return ratio(l, r) // a division by zero gives 0, not a crash
	case "mod":
		if r == 0 {
			return 0
		}
		return math.Mod(l, r)
	case "pow":
		return math.Pow(l, r)
	}
	return 0
}

// Eval evaluates the expression; a non-finite result gives 0.
func (e *Expr) Eval(v Values) float64 {
	f := e.root.eval(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

var exprOps = map[string]string{"add": "add", "sub": "sub", "mul": "mul", "div": "div", "mod": "mod", "pow": "pow",
	"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod", "^": "pow"}

var exprPrec = map[string]int{"add": 1, "sub": 1, "mul": 2, "div": 2, "mod": 2, "pow": 3}

// exprNames maps the predefined names (and their long forms) to short ones.
var exprNames = map[string]string{
	"w": "w", "h": "h", "iw": "iw", "ih": "ih", "ar": "ar", "iar": "iar", "pc": "pc", "cp": "cp",
	"width": "w", "height": "h", "initial_width": "iw", "initial_height": "ih", "aspect_ratio": "ar",
	"initial_aspect_ratio": "iar", "page_count": "pc", "current_page": "cp",
}

// refusedNames are Cloudinary names edgepix cannot evaluate.
var refusedNames = map[string]string{
	"fc": "face count needs face detection, which edgepix does not have", "face_count": "face count needs face detection, which edgepix does not have",
	"tags": "tags are not a number", "ctx": "context values are not numbers", "context": "context values are not numbers",
	"du": "durations are for videos", "idu": "durations are for videos", "duration": "durations are for videos",
	"initial_duration": "durations are for videos", "pages": "use pc", "ils": "", "ipc": "",
}

// IsExpr reports whether a parameter value is an expression rather than a
// plain number: it holds a name, a variable or an operator.
func IsExpr(v string) bool {
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return false
	}
	return strings.ContainsAny(v, "_$") || exprNames[v] != ""
}

// maxExprDepth bounds variables that refer to variables.
const maxExprDepth = 8

// parseExpr parses an expression; vars holds the user variables in scope
// (their values are parsed in turn, as Cloudinary substitutes them).
func parseExpr(v string, vars map[string]string) (*Expr, error) {
	n, err := parseExprDepth(v, vars, 0)
	if err != nil {
		return nil, err
	}
	return &Expr{root: n}, nil
}

func parseExprDepth(v string, vars map[string]string, depth int) (exprNode, error) {
	if depth > maxExprDepth {
		return nil, errorf("Variables nested too deeply: %s", v)
	}
	toks := tokens(v)
	var operands []exprNode
	var ops []string
	reduce := func() {
		op := ops[len(ops)-1]
		ops = ops[:len(ops)-1]
		r, l := operands[len(operands)-1], operands[len(operands)-2]
		operands = append(operands[:len(operands)-2], exprOp{op, l, r})
	}
	for i, t := range toks {
		if i%2 == 1 {
			op, ok := exprOps[t]
			if !ok {
				return nil, errorf("Invalid expression in transformation: %s (unknown operator %s)", v, t)
			}
			// Left to right at equal precedence; pow binds right to left.
			for len(ops) > 0 && (exprPrec[ops[len(ops)-1]] > exprPrec[op] ||
				exprPrec[ops[len(ops)-1]] == exprPrec[op] && op != "pow") {
				reduce()
			}
			ops = append(ops, op)
			continue
		}
		n, err := operand(t, v, vars, depth)
		if err != nil {
			return nil, err
		}
		operands = append(operands, n)
	}
	if len(toks)%2 == 0 {
		return nil, errorf("Invalid expression in transformation: %s", v)
	}
	for len(ops) > 0 {
		reduce()
	}
	return operands[0], nil
}

func operand(t, whole string, vars map[string]string, depth int) (exprNode, error) {
	if f, err := strconv.ParseFloat(t, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return exprNum(f), nil
	}
	if name, ok := strings.CutPrefix(t, "$"); ok {
		val, ok := vars[name]
		if !ok {
			return nil, errorf("Undefined variable in transformation: %s", t)
		}
		return parseExprDepth(val, vars, depth+1)
	}
	if s := exprNames[t]; s != "" {
		return exprName(s), nil
	}
	if why, ok := refusedNames[t]; ok {
		if why == "" {
			why = "not supported"
		}
		return nil, errorf("Unsupported expression operand %s in %s: %s", t, whole, why)
	}
	return nil, errorf("Invalid expression in transformation: %s (unknown operand %s)", whole, t)
}

// tokens splits an expression at '_' into operands and operators,
// rejoining the long names (initial_width) and reading a variable name as
// letters and digits only, as the SDKs' normaliser does ($w_mul_2 is $w ×
// 2).
func tokens(v string) []string {
	parts := strings.Split(v, "_")
	var out []string
	for i := 0; i < len(parts); i++ {
		t := parts[i]
		for j := min(len(parts), i+3); j > i+1; j-- { // longest known name first
			if long := strings.Join(parts[i:j], "_"); exprNames[long] != "" || refusedNames[long] != "" {
				t, i = long, j-1
				break
			}
		}
		out = append(out, t)
	}
	return out
}
