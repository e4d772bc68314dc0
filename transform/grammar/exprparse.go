package grammar

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// exprOps maps operators (names and the SDKs' symbols) to their names.
var exprOps = map[string]string{"add": "add", "sub": "sub", "mul": "mul", "div": "div", "mod": "mod", "pow": "pow",
	"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod", "^": "pow",
	"eq": "eq", "ne": "ne", "lt": "lt", "gt": "gt", "lte": "lte", "gte": "gte", "in": "in", "nin": "nin",
	"=": "eq", "!=": "ne", "<": "lt", ">": "gt", "<=": "lte", ">=": "gte",
	"and": "and", "or": "or", "&&": "and", "||": "or"}

// exprLevels are the binary operators by precedence, loosest first.
var exprLevels = [][]string{{"or"}, {"and"}, {"eq", "ne", "lt", "gt", "lte", "gte", "in", "nin"},
	{"add", "sub"}, {"mul", "div", "mod"}, {"pow"}}

// exprNames maps the predefined names (and their long forms) to short ones.
var exprNames = map[string]string{
	"w": "w", "h": "h", "iw": "iw", "ih": "ih", "ar": "ar", "iar": "iar", "pc": "pc", "cp": "cp", "tags": "tags",
	"width": "w", "height": "h", "initial_width": "iw", "initial_height": "ih", "aspect_ratio": "ar",
	"initial_aspect_ratio": "iar", "page_count": "pc", "current_page": "cp",
}

// refusedNames are Cloudinary names edgepix cannot evaluate, and why.
var refusedNames = map[string]string{
	"fc": "face count needs face detection, which edgepix does not have", "face_count": "face count needs face detection, which edgepix does not have",
	"du": "durations are for videos", "idu": "durations are for videos", "duration": "durations are for videos",
	"initial_duration": "durations are for videos",
	"px":               "page offsets are for layered files", "py": "page offsets are for layered files",
	"page_x": "page offsets are for layered files", "page_y": "page offsets are for layered files",
	"ils": "the illustration score needs a classifier, which edgepix does not have",
}

// maxExprTokens bounds the size of one expression.
const maxExprTokens = 99

// parseExpr parses an expression; vars holds the names of the user
// variables assigned so far in the chain (their values are looked up when
// the expression is evaluated).
func parseExpr(v string, vars map[string]string) (*Expr, error) {
	toks, err := exprTokens(v)
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks, src: v, vars: vars}
	n, err := p.binary(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(toks) {
		return nil, p.bad("unknown operator " + toks[p.i])
	}
	return &Expr{root: n, src: v}, nil
}

type exprParser struct {
	toks []string
	i    int
	src  string
	vars map[string]string
}

func (p *exprParser) bad(why string) error {
	return errorf("Invalid expression in transformation: %s (%s)", p.src, why)
}

// binary parses the operators of precedence level and tighter; pow binds
// right to left, the others left to right.
func (p *exprParser) binary(level int) (exprNode, error) {
	if level == len(exprLevels) {
		return p.postfix()
	}
	l, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for p.i < len(p.toks) {
		op := exprOps[p.toks[p.i]]
		if !slices.Contains(exprLevels[level], op) {
			break
		}
		p.i++
		next := level + 1
		if op == "pow" {
			next = level
		}
		r, err := p.binary(next)
		if err != nil {
			return nil, err
		}
		l = exprOp{op, l, r}
		if op == "pow" {
			break
		}
	}
	return l, nil
}

// postfix parses an operand and its to_f / to_i conversions.
func (p *exprParser) postfix() (exprNode, error) {
	if p.i == len(p.toks) {
		return nil, errorf("Invalid expression in transformation: %s", p.src)
	}
	n, err := p.operand(p.toks[p.i])
	if err != nil {
		return nil, err
	}
	p.i++
	for p.i < len(p.toks) && (p.toks[p.i] == "to_f" || p.toks[p.i] == "to_i") {
		n = exprConv{x: n, int: p.toks[p.i] == "to_i"}
		p.i++
	}
	return n, nil
}

func (p *exprParser) operand(t string) (exprNode, error) {
	if f, err := strconv.ParseFloat(t, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return exprNum(f), nil
	}
	if a, b, ok := strings.Cut(t, ":"); ok && isNumber(a) && isNumber(b) { // 3:4
		x, _ := strconv.ParseFloat(a, 64)
		y, _ := strconv.ParseFloat(b, 64)
		return exprNum(ratio(x, y)), nil
	}
	if len(t) >= 2 && t[0] == '!' && t[len(t)-1] == '!' {
		return exprStr(t[1 : len(t)-1]), nil
	}
	if key, ok := strings.CutPrefix(t, "ctx:"); ok && len(key) >= 2 && key[0] == '!' && key[len(key)-1] == '!' {
		return exprCtx(key[1 : len(key)-1]), nil
	}
	if strings.HasPrefix(t, "md:") {
		return nil, errorf("Unsupported expression operand %s in %s: structured metadata is not kept by edgepix (use ctx:)", t, p.src)
	}
	if name, ok := strings.CutPrefix(t, "$"); ok {
		if !validVarName(name) {
			return nil, p.bad("variable name " + t)
		}
		if _, ok := p.vars[name]; !ok && p.vars != nil {
			return nil, errorf("Undefined variable in transformation: %s", t)
		}
		return exprVar(name), nil
	}
	if s := exprNames[t]; s != "" {
		return exprName(s), nil
	}
	if why, ok := refusedNames[t]; ok {
		return nil, errorf("Unsupported expression operand %s in %s: %s", t, p.src, why)
	}
	if exprOps[t] != "" {
		return nil, p.bad("operator " + t + " without an operand")
	}
	return nil, p.bad("unknown operand " + t)
}

// exprTokens splits an expression at '_' into operands and operators. A
// !string! (which may hold '_') is one token, so is ctx:!key!; long names
// (initial_width) and to_f / to_i are rejoined. A variable name is
// letters and digits only, as the SDKs' normaliser reads it: $w_mul_2 is
// $w × 2.
func exprTokens(v string) ([]string, error) {
	var parts []string
	for i := 0; i <= len(v); {
		j := i
		for j < len(v) && v[j] != '_' {
			if v[j] == '!' && !(j == i && strings.HasPrefix(v[j:], "!=") && (j+2 == len(v) || v[j+2] == '_')) {
				k := strings.IndexByte(v[j+1:], '!')
				if k < 0 {
					return nil, errorf("Invalid expression in transformation: %s (unterminated !string!)", v)
				}
				j += k + 2
				continue
			}
			j++
		}
		if j == i {
			return nil, errorf("Invalid expression in transformation: %s", v)
		}
		parts = append(parts, v[i:j])
		i = j + 1
		if len(parts) > maxExprTokens {
			return nil, errorf("Expression too long in transformation: %s", v)
		}
	}
	var out []string
	for i := 0; i < len(parts); i++ {
		t := parts[i]
		for j := min(len(parts), i+3); j > i+1; j-- { // longest known name first
			if long := strings.Join(parts[i:j], "_"); exprNames[long] != "" || refusedNames[long] != "" ||
				long == "to_f" || long == "to_i" {
				t, i = long, j-1
				break
			}
		}
		out = append(out, t)
	}
	return out, nil
}
