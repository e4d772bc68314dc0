package grammar

import "testing"

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"image/upload/sample.jpg",
		"image/upload/s--EfExssaP--/c_fill,h_100,w_150/v1/folder/sample.jpg?_a=x",
		"image/upload/$w_100,w_$w,c_fit/e_blur:300/fn_wasm:a.wasm/t_x/v9/a/b/c.webp",
		"image/upload/a_hflip.45,r_1:2:3,b_rgb:ff000080,bo_2px_solid_red,o_50,dpr_2.0,pg_3,fl_attachment:x.progressive/x",
		"raw/upload/v1/a.wasm",
		"image/upload/q_auto:eco,f_auto,g_auto,ar_16:9,x_0.5,y_-3/x.avif",
		"image/upload/$s_w_mul_0.1/if_$s_gt_15,$s_15/bo_$s_solid_red,o_$s_div_2,e_blur:iw_div_10,q_w_div_8:444/x.jpg",
		"image/upload/if_ctx:!k!_eq_!v!_or_!a:b!_in_tags/pg_pc_sub_1,a_$x,$x_ctx:!n!_to_i/w_auto:breakpoints:json/x.jpg",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		// A parsed path's canonical chain must parse again to itself.
		again, err := ParseChain(p.Chain.String())
		if err != nil {
			t.Fatalf("canonical %q does not parse: %v", p.Chain.String(), err)
		}
		if again.String() != p.Chain.String() {
			t.Fatalf("canonical not stable: %q → %q", p.Chain.String(), again.String())
		}
		_ = p.CacheKey("jpg")
		// Expressions evaluate without panicking, whatever they hold.
		v := Values{W: 100, H: 50, IW: 200, IH: 100, Pages: 2, Page: 1, Vars: map[string]Value{}}
		for _, c := range p.Chain {
			for _, a := range c.Assigns {
				if val, err := a.Value.Eval(v); err == nil {
					v.Vars[a.Name] = val
				}
			}
			if c.If != nil {
				_, _ = c.If.Holds(v)
			}
			_, _ = c.Resolved(v)
		}
	})
}
