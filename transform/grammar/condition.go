package grammar

import (
	"slices"
	"strconv"
	"strings"
)

// Condition is an if_ test: clauses joined by and/or, evaluated left to
// right with and binding tighter (as Cloudinary's).
type Condition struct {
	Or [][]Clause // any group whose clauses all hold
}

// Clause compares an operand with a value.
type Clause struct {
	Operand string // w, h, ar, iw, ih, pc, or "tags"
	Op      string // eq ne lt gt lte gte in nin
	Num     float64
	Tags    []string // for in/nin
}

// Facts are what conditions test: the current and initial size, the page
// count and the asset's tags.
type Facts struct {
	W, H, IW, IH, Pages int
	Tags                []string
}

var condOps = map[string]string{"eq": "eq", "ne": "ne", "lt": "lt", "gt": "gt", "lte": "lte", "gte": "gte",
	"in": "in", "nin": "nin", "=": "eq", "!=": "ne", "<": "lt", ">": "gt", "<=": "lte", ">=": "gte"}

var condOperands = map[string]bool{"w": true, "h": true, "ar": true, "iw": true, "ih": true, "pc": true,
	"width": true, "height": true, "aspect_ratio": true, "initial_width": true, "initial_height": true,
	"page_count": true}

// parseCondition reads w_gt_300_and_ar_lt_1.5 or !sale:new!_in_tags.
func parseCondition(v string) (*Condition, error) {
	toks := strings.Split(v, "_")
	c := &Condition{}
	group := []Clause{}
	for i := 0; i < len(toks); {
		if i+2 >= len(toks) {
			return nil, invalid("condition", v)
		}
		operand, op, value := toks[i], condOps[toks[i+1]], toks[i+2]
		if op == "" {
			return nil, invalid("condition operator", toks[i+1])
		}
		var cl Clause
		switch {
		case op == "in" || op == "nin":
			// !a:b!_in_tags: the list comes first, tags last.
			list := strings.Trim(operand, "!")
			if value != "tags" || list == operand {
				return nil, invalid("condition", v)
			}
			cl = Clause{Operand: "tags", Op: op, Tags: strings.Split(list, ":")}
		case condOperands[operand]:
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return nil, invalid("condition value", value)
			}
			cl = Clause{Operand: shortOperand(operand), Op: op, Num: n}
		default:
			return nil, errorf("Unsupported condition operand: %s", operand)
		}
		group = append(group, cl)
		i += 3
		if i == len(toks) {
			break
		}
		switch toks[i] {
		case "and":
		case "or":
			c.Or = append(c.Or, group)
			group = []Clause{}
		default:
			return nil, invalid("condition", v)
		}
		i++
	}
	c.Or = append(c.Or, group)
	return c, nil
}

func shortOperand(o string) string {
	switch o {
	case "width":
		return "w"
	case "height":
		return "h"
	case "aspect_ratio":
		return "ar"
	case "initial_width":
		return "iw"
	case "initial_height":
		return "ih"
	case "page_count":
		return "pc"
	}
	return o
}

// Holds evaluates the condition.
func (c *Condition) Holds(f Facts) bool {
	for _, group := range c.Or {
		all := true
		for _, cl := range group {
			if !cl.holds(f) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (cl Clause) holds(f Facts) bool {
	if cl.Operand == "tags" {
		any := slices.ContainsFunc(cl.Tags, func(t string) bool { return slices.Contains(f.Tags, t) })
		return any == (cl.Op == "in")
	}
	var v float64
	switch cl.Operand {
	case "w":
		v = float64(f.W)
	case "h":
		v = float64(f.H)
	case "iw":
		v = float64(f.IW)
	case "ih":
		v = float64(f.IH)
	case "pc":
		v = float64(f.Pages)
	case "ar":
		if f.H > 0 {
			v = float64(f.W) / float64(f.H)
		}
	}
	switch cl.Op {
	case "eq":
		return v == cl.Num
	case "ne":
		return v != cl.Num
	case "lt":
		return v < cl.Num
	case "gt":
		return v > cl.Num
	case "lte":
		return v <= cl.Num
	case "gte":
		return v >= cl.Num
	}
	return false
}
