package grammar

// Condition is an if_ test: an expression (comparisons joined by and/or,
// and binding tighter, as Cloudinary's) evaluated by the same evaluator as
// numeric parameters. Its operands may be numbers, predefined names,
// variables, !strings!, ctx:!key! or tags: if_w_gt_300_and_ar_lt_1.5,
// if_w_ne_h, if_$size_gt_15, if_ctx:!kind!_eq_!shoes!, if_!sale:new!_in_tags.
type Condition struct {
	e *Expr
}

// parseCondition reads the value of if_.
func parseCondition(v string, vars map[string]string) (*Condition, error) {
	e, err := parseExpr(v, vars)
	if err != nil {
		return nil, err
	}
	if op, ok := e.root.(exprOp); !ok || !isTest(op.op) {
		return nil, invalid("condition", v)
	}
	return &Condition{e: e}, nil
}

func isTest(op string) bool {
	switch op {
	case "and", "or", "eq", "ne", "lt", "gt", "lte", "gte", "in", "nin":
		return true
	}
	return false
}

// Holds evaluates the condition.
func (c *Condition) Holds(v Values) (bool, error) {
	f, err := c.e.Number(v)
	return f != 0, err
}

// String is the condition as written.
func (c *Condition) String() string { return c.e.String() }
