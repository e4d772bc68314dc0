package grammar

import (
	"errors"
	"math"
	"testing"
)

// The parameters of issue 13: canonical forms of valid values, messages
// for invalid ones.
func TestBreadthParams(t *testing.T) {
	valid := map[string]string{ // input → canonical
		"fl_layer_apply,fl_no_overflow":        "fl_layer_apply.no_overflow",
		"fl_layer_apply.no_overflow":           "fl_layer_apply.no_overflow",
		"fl_no_overflow.layer_apply,g_north":   "fl_layer_apply.no_overflow,g_north",
		"fl_relative,w_0.2,l_logo":             "fl_relative,l_logo,w_0.2",
		"fl_tiled,l_logo":                      "fl_tiled,l_logo",
		"fl_lossy,f_gif":                       "f_gif,fl_lossy",
		"fl_png8":                              "fl_png8",
		"fl_keep_iptc":                         "fl_keep_iptc",
		"fl_keep_attribution":                  "fl_keep_attribution",
		"fl_getinfo":                           "fl_getinfo",
		"fl_ignore_aspect_ratio":               "fl_ignore_aspect_ratio",
		"fl_immutable_cache,fl_attachment:x":   "fl_attachment:x.immutable_cache",
		"c_fill_pad,g_auto,w_100,h_100,b_auto": "b_auto:border,c_fill_pad,g_auto,h_100,w_100",
		"c_auto,g_auto,w_100,h_100":            "c_auto,g_auto,h_100,w_100",
		"c_crop,g_xy_center,x_10,y_20,w_5":     "c_crop,g_xy_center,w_5,x_10,y_20",
		"q_80:420":                             "q_80:420",
		"q_080:444":                            "q_80:444",
		"dpr_auto":                             "dpr_auto",
		"w_auto":                               "w_auto:100",
		"w_auto:50":                            "w_auto:50",
		"w_auto:100:400":                       "w_auto:100:400",
		"w_auto:breakpoints":                   "w_auto:breakpoints_50_1000_20_20",
		"w_auto:breakpoints_200_1920_30_15":    "w_auto:breakpoints_200_1920_30_15",
		"w_auto:breakpoints:600":               "w_auto:breakpoints_50_1000_20_20:600",
		"w_auto:breakpoints:json":              "w_auto:breakpoints_50_1000_20_20:json",
		"w_auto:breakpoints_100_900_10_5:json": "w_auto:breakpoints_100_900_10_5:json",
		"w_iw_div_2":                           "w_iw_div_2",
		"h_ih_mul_0.5":                         "h_ih_mul_0.5",
		"$w_100,w_$w_mul_2":                    "$w_100,w_$w_mul_2",
		"x_w_sub_10,y_initial_height_div_4":    "x_w_sub_10,y_initial_height_div_4",
		"ar_iar_mul_2":                         "ar_iar_mul_2",
		"b_auto:predominant":                   "b_auto:predominant",
		"b_auto:border_contrast":               "b_auto:border_contrast",
		"b_auto:predominant_contrast":          "b_auto:predominant_contrast",
		"b_auto:predominant_gradient:2":        "b_auto:predominant_gradient:2:horizontal",
		"b_auto:predominant_gradient_contrast:4:diagonal_desc":  "b_auto:predominant_gradient_contrast:4:diagonal_desc",
		"b_auto:predominant_gradient:4:palette_red_orange_blue": "b_auto:predominant_gradient:4:horizontal:palette_red_orange_blue",
		"e_hue:40":                                 "e_hue:40",
		"e_tint":                                   "e_tint",
		"e_tint:100:red:blue":                      "e_tint:100:red:blue",
		"e_tint:equalize:80:red:50p:blue:60p":      "e_tint:equalize:80:red:50p:blue:60p",
		"e_tint:50:2b38aa":                         "e_tint:50:2b38aa",
		"e_unsharp_mask:500":                       "e_unsharp_mask:500",
		"e_vibrance:70":                            "e_vibrance:70",
		"e_auto_brightness":                        "e_auto_brightness",
		"e_red:50":                                 "e_red:50",
		"e_green:-30":                              "e_green:-30",
		"e_blue":                                   "e_blue",
		"e_gradient_fade":                          "e_gradient_fade",
		"e_gradient_fade:symmetric_pad:40":         "e_gradient_fade:symmetric_pad:40",
		"e_gradient_fade,y_-0.4":                   "e_gradient_fade,y_-0.4",
		"e_shadow:50,x_10,y_-10,co_blue":           "co_blue,e_shadow:50,x_10,y_-10",
		"e_outline":                                "e_outline",
		"e_outline:inner:10:200":                   "e_outline:inner:10:200",
		"e_outline:15":                             "e_outline:15",
		"e_trim:30:white":                          "e_trim:30:white",
		"e_trim":                                   "e_trim",
		"e_make_transparent:20,co_white":           "co_white,e_make_transparent:20",
		"e_replace_color:maroon:80:2b38aa":         "e_replace_color:maroon:80:2b38aa",
		"e_replace_color:blue":                     "e_replace_color:blue",
		"e_pixelate_region:20,x_10,y_10,w_50,h_50": "e_pixelate_region:20,h_50,w_50,x_10,y_10",
		"e_blur_region,g_north":                    "e_blur_region,g_north",
		"e_oil_paint:70":                           "e_oil_paint:70",
		"e_cartoonify":                             "e_cartoonify",
		"e_cartoonify:30:bw":                       "e_cartoonify:30:bw",
		"e_cartoonify:20:60":                       "e_cartoonify:20:60",
		"e_art:zorro":                              "e_art:zorro",
		"e_art:al_dente":                           "e_art:al_dente",
		"g_auto:subject,c_fill,w_10":               "c_fill,g_auto:subject,w_10",
	}
	for in, want := range valid {
		ch, err := ParseChain(in)
		if err != nil {
			t.Errorf("%s: unexpected error %v", in, err)
			continue
		}
		if got := ch.String(); got != want {
			t.Errorf("%s: canonical %q, want %q", in, got, want)
		}
	}
	invalidCases := map[string]string{
		"fl_layer_apply,fl_bogus":    "Invalid flag in transformation: bogus",
		"c_fill_padd":                "Invalid crop mode in transformation: fill_padd",
		"q_80:411":                   "Invalid quality in transformation: 80:411",
		"q_auto:444":                 "Invalid quality in transformation: auto:444",
		"dpr_autox":                  "Invalid dpr in transformation: autox",
		"w_auto:0":                   "Invalid width in transformation: auto:0",
		"w_auto:100:400:5":           "Invalid width in transformation: auto:100:400:5",
		"w_auto:breakpoints_1_2_3":   "Invalid width in transformation: auto:breakpoints_1_2_3",
		"w_auto:json":                "Invalid width in transformation: auto:json",
		"w_auto:breakpoints:json:40": "Invalid width in transformation: auto:breakpoints:json:40",
		"w_iw_div":                   "Invalid expression in transformation: iw_div",
		"w_iw_plus_2":                "Invalid expression in transformation: iw_plus_2 (unknown operator plus)",
		"w_iw_div_zz":                "Invalid expression in transformation: iw_div_zz (unknown operand zz)",
		"w_fc_mul_10":                "Unsupported expression operand fc in fc_mul_10: face count needs face detection, which edgepix does not have",
		"w_$nope_mul_2":              "Undefined variable in transformation: $nope",
		"b_auto:sideways":            "Invalid background in transformation: auto:sideways",
		"b_auto:border:palette_nope": "Invalid background in transformation: auto:border:palette_nope",
		"e_hue:101":                  "Invalid effect level in transformation: hue:101",
		"e_outline:sideways":         "Invalid effect level in transformation: outline:sideways",
		"e_outline:inner:0":          "Invalid effect level in transformation: outline:inner:0",
		"e_tint:50:nocolor":          "Invalid effect level in transformation: tint:50:nocolor",
		"e_tint:50:red:150p":         "Invalid effect level in transformation: tint:50:red:150p",
		"e_replace_color":            "Invalid effect level in transformation: replace_color",
		"e_trim:10:red:blue":         "Invalid effect level in transformation: trim:10:red:blue",
		"e_art:picasso":              "Invalid effect level in transformation: art:picasso",
		"e_art":                      "Invalid effect level in transformation: art",
		"e_cartoonify:10:20:30":      "Invalid effect level in transformation: cartoonify:10:20:30",
		"e_gradient_fade:sideways":   "Invalid effect level in transformation: gradient_fade:sideways",
		"e_redeye":                   "Unsupported effect: e_redeye needs face detection, which edgepix does not have",
		"e_pixelate_faces":           "Unsupported effect: e_pixelate_faces needs face detection, which edgepix does not have",
		"e_blur_faces:500":           "Unsupported effect: e_blur_faces needs face detection, which edgepix does not have",
		"g_face,c_thumb,w_80,h_80":   "Unsupported gravity: g_face needs face detection, which edgepix does not have (g_auto crops to the most detailed region)",
		"g_auto:faces,c_fill,w_80":   "Unsupported gravity: g_auto:faces needs face detection, which edgepix does not have (g_auto crops to the most detailed region)",
	}
	for in, want := range invalidCases {
		_, err := ParseChain(in)
		var ge *Error
		if !errors.As(err, &ge) {
			t.Errorf("%s: want *Error, got %v", in, err)
			continue
		}
		if ge.Msg != want {
			t.Errorf("%s: message %q, want %q", in, ge.Msg, want)
		}
	}
}

// Expressions evaluate with Cloudinary's precedence: pow, then mul div
// mod, then add sub, left to right.
func TestExpressions(t *testing.T) {
	v := Values{W: 400, H: 300, IW: 1000, IH: 500, Pages: 3, Page: 1}
	cases := map[string]float64{
		"iw_div_2":            500,
		"ih_mul_0.5":          250,
		"iw_add_ih_mul_2":     2000,
		"iw_sub_ih_sub_100":   400,
		"2_pow_3_pow_2":       512,
		"iw_div_ih_mul_w":     800,
		"w_mod_7":             1,
		"ar_mul_100":          133.33333333333334,
		"iar":                 2,
		"pc_add_cp":           4,
		"initial_width_div_4": 250,
		"iw_div_0":            0,
		"w_*_2_+_1":           801,
	}
	for in, want := range cases {
		e, err := parseExpr(in, nil)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got, err := e.Number(v); err != nil || math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", in, got, want)
		}
	}
	// $w_mul_2 is $w × 2; a variable may hold an expression.
	ch, err := ParseChain("$w_iw_div_4/c_scale,w_$w_mul_2,h_$w")
	if err != nil {
		t.Fatal(err)
	}
	v.Vars = map[string]Value{"w": Number(250)} // what the pipeline assigned
	r, err := ch[1].Resolved(v)
	if err != nil {
		t.Fatal(err)
	}
	if r.Width.Value != 500 || r.Height.Value != 250 || r.Width.Relative || r.Deferred() {
		t.Errorf("resolved w %v h %v", r.Width, r.Height)
	}
}

func TestClientHints(t *testing.T) {
	if AutoDPR(0) != 1 || AutoDPR(1.25) != 2 || AutoDPR(2) != 2 || AutoDPR(2.625) != 3 || AutoDPR(9) != 5 {
		t.Error("AutoDPR rounding")
	}
	cases := []struct {
		path string
		h    Hints
		want string
	}{
		{"image/upload/c_scale,dpr_auto,w_200/s.jpg", Hints{DPR: 2}, "c_scale,dpr_2.0,w_200"},
		{"image/upload/c_scale,dpr_auto,w_200/s.jpg", Hints{}, "c_scale,dpr_1.0,w_200"},
		{"image/upload/c_scale,w_auto/s.jpg", Hints{Width: 730}, "c_scale,w_800"},
		{"image/upload/c_scale,w_auto:50/s.jpg", Hints{Width: 730}, "c_scale,w_750"},
		{"image/upload/c_scale,w_auto:100:400/s.jpg", Hints{}, "c_scale,w_400"},
		{"image/upload/c_scale,w_auto/s.jpg", Hints{}, "c_scale"},
		{"image/upload/w_auto/e_sepia/s.jpg", Hints{}, "e_sepia"},
		{"image/upload/c_scale,dpr_auto,w_auto/s.jpg", Hints{DPR: 2, Width: 800}, "c_scale,dpr_1.0,w_800"},
		{"image/upload/c_scale,dpr_auto,w_auto/s.jpg", Hints{DPR: 2, ViewportWidth: 375}, "c_scale,dpr_2.0,w_400"},
		// breakpoints: the hint rounded up onto n even widths, for the
		// pipeline to take the image's breakpoint at or above it
		{"image/upload/c_limit,w_auto:breakpoints/s.jpg", Hints{Width: 333}, "c_limit,w_auto:breakpoints_50_1000_20_20:350"},
		{"image/upload/c_limit,w_auto:breakpoints_100_1000_20_10/s.jpg", Hints{Width: 5000}, "c_limit,w_auto:breakpoints_100_1000_20_10:1000"},
		{"image/upload/c_limit,w_auto:breakpoints_100_1000_20_10/s.jpg", Hints{Width: 101}, "c_limit,w_auto:breakpoints_100_1000_20_10:200"},
		{"image/upload/c_limit,w_auto:breakpoints:300/s.jpg", Hints{}, "c_limit,w_auto:breakpoints_50_1000_20_20:300"},
		{"image/upload/w_auto:breakpoints:json/s.jpg", Hints{Width: 500}, "w_auto:breakpoints_50_1000_20_20:json"},
	}
	for _, c := range cases {
		p, err := ParsePath(c.path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.WithHints(c.h)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Chain.String(); got != c.want {
			t.Errorf("%s %+v: %q, want %q", c.path, c.h, got, c.want)
		}
		if r.RawChain != c.want {
			t.Errorf("%s %+v: raw %q", c.path, c.h, r.RawChain)
		}
	}
	// Without an edge, dpr_auto is 1.0 and w_auto its fallback.
	ch, _ := ParseChain("c_scale,w_auto:100:300,dpr_auto")
	r, _ := ch[0].Resolved(Values{})
	if r.DPR != 1 || r.Width.Value != 300 || r.AutoWidth != nil {
		t.Errorf("unresolved auto: dpr %v w %v", r.DPR, r.Width)
	}
}

// Evaluated expressions stay within the range of literal values.
func TestExpressionBounds(t *testing.T) {
	ch, err := ParseChain("w_iw_pow_100,x_0_sub_iw_pow_50,h_0_sub_5,ar_iw_pow_9")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ch[0].Resolved(Values{W: 1000, H: 1000, IW: 1000, IH: 1000})
	if err != nil || r.Width.Value != maxDim || r.X.Value != -maxDim || r.Height.Value != 1 || r.AspectRatio != 1e4 {
		t.Errorf("w %v x %v h %v ar %v", r.Width.Value, r.X.Value, r.Height.Value, r.AspectRatio)
	}
}
