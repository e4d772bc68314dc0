package pipeline

import (
	"errors"
	"fmt"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/transform/grammar"
)

// Variables are assigned when their component runs, under its condition,
// and every numeric parameter reads them: Cloudinary's documented
// border example (a border of 10% of the width, at most 15 px).
func TestExpressionsRender(t *testing.T) {
	run := func(chain string, env Env, format string) *Result {
		t.Helper()
		ch, err := grammar.ParseChain(chain)
		if err != nil {
			t.Fatalf("%s: %v", chain, err)
		}
		r, err := Render(fixtures.Read(t, "photo-storm-1920x1280.jpg"), Request{Chain: ch, Format: format, Env: env})
		if err != nil {
			t.Fatalf("%s: %v", chain, err)
		}
		return r
	}
	const border = "c_fill,w_%d,h_100/$bordersize_w_mul_0.1/if_$bordersize_gt_15,$bordersize_15/bo_$bordersize_solid_rgb:FFB235"
	for w, want := range map[int]int{100: 100 + 2*10, 500: 500 + 2*15} {
		r := run(fmt.Sprintf(border, w), Env{}, "png")
		if r.Width != want {
			t.Errorf("border example at w %d: width %d, want %d", w, r.Width, want)
		}
	}
	// Context values and tags in conditions and numbers.
	env := Env{Context: map[string]string{"kind": "shoes", "size": "120"}, Tags: []string{"sale"}}
	if r := run("if_ctx:!kind!_eq_!shoes!,c_scale,w_40", env, "png"); r.Width != 40 {
		t.Errorf("ctx condition: width %d", r.Width)
	}
	if r := run("$s_ctx:!size!_to_f/c_scale,w_$s_add_iw_div_192", env, "png"); r.Width != 130 {
		t.Errorf("ctx variable: width %d", r.Width)
	}
	if r := run("if_!sale!_in_tags/c_scale,w_50/if_else/c_scale,w_60/if_end", env, "png"); r.Width != 50 {
		t.Errorf("tags branch: width %d", r.Width)
	}
	// An effect level from an expression is the literal's effect.
	a := decoded(t, run("c_scale,w_200/e_brightness:w_div_10", Env{}, "png")).Frames[0]
	b := decoded(t, run("c_scale,w_200/e_brightness:20", Env{}, "png")).Frames[0]
	if p := PSNR(a, b); p < 60 {
		t.Errorf("e_brightness:w_div_10 differs from e_brightness:20 (%.1f dB)", p)
	}
	// o_ from a variable; q_ from an expression reaches the encoder.
	o := decoded(t, run("$op_25/c_scale,w_50,o_$op", Env{}, "png")).Frames[0]
	if c := o.NRGBAAt(10, 10); c.A < 60 || c.A > 70 {
		t.Errorf("o_$op alpha %d", c.A)
	}
	lo := run("c_scale,w_400,q_w_div_40", Env{}, "jpg") // q 10
	hi := run("c_scale,w_400,q_w_div_4", Env{}, "jpg")  // q 100
	if len(lo.Data)*3 > len(hi.Data) {
		t.Errorf("q_ expressions: %d bytes at q 10, %d at q 100", len(lo.Data), len(hi.Data))
	}
	// A q_ in a branch not taken does not apply.
	plain := run("c_scale,w_400", Env{}, "jpg")
	if r := run("if_w_lt_10/q_10/if_end/c_scale,w_400", Env{}, "jpg"); len(r.Data) < (len(lo.Data)+len(plain.Data))/2 {
		t.Errorf("q_ of a branch not taken applied: %d bytes", len(r.Data))
	}
	// A variable assigned only on a branch not taken cannot be read.
	ch, _ := grammar.ParseChain("if_w_lt_10,$x_5/c_scale,w_$x")
	_, err := Render(fixtures.Read(t, "photo-storm-1920x1280.jpg"), Request{Chain: ch, Format: "png"})
	var ge *grammar.Error
	if !errors.As(err, &ge) {
		t.Errorf("unassigned variable: %v", err)
	}
}

// pg_ takes expressions: pg_pc is the last frame.
func TestPageExpression(t *testing.T) {
	last := render(t, "gif-anim-throbber-32x32-8frames.gif", "pg_8", "png")
	pc := render(t, "gif-anim-throbber-32x32-8frames.gif", "pg_pc", "png")
	first := render(t, "gif-anim-throbber-32x32-8frames.gif", "pg_1", "png")
	a, b, c := decoded(t, last).Frames[0], decoded(t, pc).Frames[0], decoded(t, first).Frames[0]
	if PSNR(a, b) < 99 || PSNR(a, c) > 99 {
		t.Errorf("pg_pc is not the last frame (%.1f dB to it, %.1f to the first)", PSNR(a, b), PSNR(a, c))
	}
}
