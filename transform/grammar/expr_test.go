package grammar

import (
	"errors"
	"testing"
)

// Expressions and variables in every numeric parameter: valid values keep
// their expression in the canonical string, and resolve, clamped to the
// parameter's range, when the component runs.
func TestExpressionsEverywhere(t *testing.T) {
	v := Values{W: 640, H: 480, IW: 1280, IH: 960, Pages: 4, Page: 1,
		Vars: map[string]Value{"op": Number(150), "v": Number(300), "bs": Number(12), "d": Number(250), "r": Number(9)}}
	cases := []struct {
		in, canon string
		check     func(c *Component) bool
	}{
		{"$op_150/o_$op", "o_$op", func(c *Component) bool { return c.Opacity == 100 }}, // clamped
		{"o_w_div_10", "o_w_div_10", func(c *Component) bool { return c.Opacity == 64 }},
		{"a_w_div_8", "a_w_div_8", func(c *Component) bool { return len(c.Angles) == 1 && c.Angles[0] == "80" }},
		{"$r_9/r_$r:w_div_64", "r_$r:w_div_64", func(c *Component) bool {
			return len(c.Radius.Corners) == 2 && c.Radius.Corners[0] == 9 && c.Radius.Corners[1] == 10
		}},
		{"q_w_div_8", "q_w_div_8", func(c *Component) bool { return c.Quality.Value == 80 }},
		{"q_w_div_8:444", "q_w_div_8:444", func(c *Component) bool { return c.Quality.Value == 80 && c.Quality.Chroma == "444" }},
		{"$v_300/e_blur:$v", "e_blur:$v", func(c *Component) bool { return c.Effect.Name == "blur" && c.Effect.Level == 300 }},
		{"e_brightness:iw_div_10", "e_brightness:iw_div_10", func(c *Component) bool { return c.Effect.Level == 100 }}, // 128, clamped
		{"e_brightness:w_div_10", "e_brightness:w_div_10", func(c *Component) bool { return c.Effect.Level == 64 }},
		{"e_outline:outer:w_div_64", "e_outline:outer:w_div_64", func(c *Component) bool { return c.Effect.Width == 10 }},
		{"e_tint:w_div_16:red", "e_tint:w_div_16:red", func(c *Component) bool { return c.Effect.Level == 40 && len(c.Effect.Colors) == 1 }},
		{"$bs_12/bo_$bs_solid_rgb:FFB235", "bo_$bs_solid_rgb:FFB235", func(c *Component) bool {
			return c.Border.Width == 12 && c.Border.Color.Spec == "rgb:ffb235"
		}},
		{"bo_w_div_64px_solid_red", "bo_w_div_64px_solid_red", func(c *Component) bool { return c.Border.Width == 10 }},
		{"$d_250/dl_$d", "dl_$d", func(c *Component) bool { return c.Delay == 250 }},
		{"pg_pc", "pg_pc", func(c *Component) bool { return c.Page.N == 4 }},
		{"pg_pc_sub_1", "pg_pc_sub_1", func(c *Component) bool { return c.Page.N == 3 }},
		{"dpr_w_div_320", "dpr_w_div_320", func(c *Component) bool { return c.DPR == 2 }},
		{"w_iw_div_2,h_ih_mul_0.5", "h_ih_mul_0.5,w_iw_div_2", func(c *Component) bool { return c.Width.Value == 640 && c.Height.Value == 480 }},
		{"x_$w_mul_2,$w_5", "$w_5,x_$w_mul_2", func(c *Component) bool { return c.X.Value == 10 }},
	}
	for _, tc := range cases {
		ch, err := ParseChain(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		last := ch[len(ch)-1]
		if got := last.String(); got != tc.canon {
			t.Errorf("%s: canonical %q, want %q", tc.in, got, tc.canon)
		}
		if !last.Deferred() {
			t.Errorf("%s: not resolved when it runs", tc.in)
		}
		s := v
		for _, a := range last.Assigns { // what the pipeline does first
			val, err := a.Value.Eval(s)
			if err != nil {
				t.Fatal(err)
			}
			s.Vars[a.Name] = val
		}
		r, err := last.Resolved(s)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !tc.check(r) {
			t.Errorf("%s: resolved to %+v", tc.in, r)
		}
	}
	invalid := map[string]string{
		"o_fc_add_1":         "Unsupported expression operand fc in fc_add_1: face count needs face detection, which edgepix does not have",
		"e_blur:iw_plus_2":   "Invalid expression in transformation: iw_plus_2 (unknown operator plus)",
		"bo_$nope_solid_red": "Undefined variable in transformation: $nope",
		"a_$nope":            "Undefined variable in transformation: $nope",
		"pg_md:!x!":          "Unsupported expression operand md:!x! in md:!x!: structured metadata is not kept by edgepix (use ctx:)",
		"q_du_mul_2":         "Unsupported expression operand du in du_mul_2: durations are for videos",
		"o_150":              "Invalid opacity in transformation: 150",
		"if_w":               "Invalid condition in transformation: w",
		"if_!open_gt_3":      "Invalid expression in transformation: !open_gt_3 (unterminated !string!)",
		"dl_w_div":           "Invalid expression in transformation: w_div",
		"$x_w_mul_zz/w_$x":   "Invalid expression in transformation: w_mul_zz (unknown operand zz)",
		"e_brightness:$a_$b": "Undefined variable in transformation: $a",
	}
	for in, want := range invalid {
		_, err := ParseChain(in)
		var ge *Error
		if !errors.As(err, &ge) || ge.Msg != want {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

// A chain's delay (multi and sprite frames read it without rendering)
// evaluates its variables.
func TestChainDelayExpression(t *testing.T) {
	ch, err := ParseChain("$d_250/c_scale,w_10/dl_$d_add_50")
	if err != nil {
		t.Fatal(err)
	}
	if d := ch.Delay(); d != 300 {
		t.Errorf("delay %d, want 300", d)
	}
}

// Conditions use the same evaluator: names on both sides, variables,
// strings, context values, tags, and/or.
func TestConditionExpressions(t *testing.T) {
	v := Values{W: 500, H: 500, IW: 800, IH: 600, Tags: []string{"sale", "new"},
		Context: map[string]string{"kind": "shoes", "x": "40"}, Vars: map[string]Value{"s": Number(50)}}
	cases := map[string]bool{
		"if_w_eq_h":                              true,
		"if_w_ne_h":                              false,
		"if_iw_gt_ih_and_w_lte_500":              true,
		"if_$s_gt_15":                            true,
		"if_$s_mul_2_lt_w_div_10":                false,
		"if_ctx:!kind!_eq_!shoes!":               true,
		"if_ctx:!kind!_ne_!shoes!_or_w_gt_100":   true,
		"if_ctx:!x!_to_f_add_2_eq_42":            true,
		"if_ctx:!missing!_eq_!!":                 true,
		"if_!sale:old!_in_tags":                  true,
		"if_!in_stock!_nin_tags":                 true,
		"if_ar_gt_3:4_and_w_gt_300_and_h_gt_200": true,
	}
	for in, want := range cases {
		ch, err := ParseChain("$s_50/" + in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		got, err := ch[1].If.Holds(v)
		if err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	// A guarded assignment is a guard, not a branch.
	ch, err := ParseChain("$s_w_mul_0.1/if_$s_gt_15,$s_15/bo_$s_solid_red")
	if err != nil {
		t.Fatal(err)
	}
	if ch[1].IsBranch() || !ch[2].Deferred() {
		t.Errorf("if_ with an assignment: branch %v", ch[1].IsBranch())
	}
	if ch, _ := ParseChain("if_w_gt_3"); !ch[0].IsBranch() {
		t.Error("a bare if_ opens a branch")
	}
}
