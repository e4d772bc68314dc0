package pipeline

import (
	"image"
	"image/color"
	"testing"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

func TestConditions(t *testing.T) {
	img := func(w, h int) *codec.Image {
		return &codec.Image{Frames: []*image.NRGBA{solid(w, h, color.NRGBA{9, 9, 9, 255})}, Delays: []int{0}}
	}
	for _, c := range []struct {
		chain string
		w, h  int
		tags  []string
		want  int // output width
	}{
		{"if_w_gt_300/c_scale,w_100/if_else/c_scale,w_50/if_end", 400, 300, nil, 100},
		{"if_w_gt_300/c_scale,w_100/if_else/c_scale,w_50/if_end", 200, 150, nil, 50},
		{"if_ar_gt_1,c_scale,w_10", 400, 300, nil, 10},
		{"if_ar_gt_1,c_scale,w_10", 300, 400, nil, 300},
		{"if_w_lte_200_or_h_gte_1000,c_scale,w_20", 200, 100, nil, 20},
		{"if_w_gte_100_and_h_lt_50,c_scale,w_20", 200, 100, nil, 200},
		{"if_!sale:new!_in_tags,c_scale,w_30", 200, 100, []string{"new"}, 30},
		{"if_!sale!_nin_tags,c_scale,w_30", 200, 100, []string{"sale"}, 200},
		// nested: the inner branch follows the outer one's fate
		{"if_w_gt_100/if_h_gt_100/c_scale,w_11/if_else/c_scale,w_12/if_end/if_end", 200, 50, nil, 12},
		{"if_w_gt_1000/if_h_gt_100/c_scale,w_11/if_else/c_scale,w_12/if_end/if_end", 200, 50, nil, 200},
		// iw is the initial width, w the current one
		{"c_scale,w_100/if_iw_eq_400,c_scale,w_40", 400, 300, nil, 40},
	} {
		ch, err := grammar.ParseChain(c.chain)
		if err != nil {
			t.Fatalf("%s: %v", c.chain, err)
		}
		out, err := ApplyWith(img(c.w, c.h), ch, c.w, c.h, Limits{}, Env{Tags: c.tags})
		if err != nil {
			t.Fatalf("%s: %v", c.chain, err)
		}
		if got := out.Frames[0].Rect.Dx(); got != c.want {
			t.Errorf("%s on %dx%d: width %d, want %d", c.chain, c.w, c.h, got, c.want)
		}
	}
	for _, bad := range []string{"if_end", "if_w_gt", "if_w_zz_3", "if_fc_gt_0", "if_sale_in_tags"} {
		ch, err := grammar.ParseChain(bad)
		if err == nil {
			_, err = Apply(img(10, 10), ch, 10, 10, Limits{})
		}
		if err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}
