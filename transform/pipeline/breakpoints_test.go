package pipeline

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// w_auto:breakpoints spaces widths by file size, as Cloudinary's
// responsive breakpoints: both ends, at most n, each step at least kb
// larger (except where n caps them); :json lists them; a width (hint or
// fallback) takes the breakpoint at or above it.
func TestBreakpoints(t *testing.T) {
	const photo = "photo-storm-1920x1280.jpg"
	list := func(chain string) []int {
		t.Helper()
		r := render(t, photo, chain, "")
		if r.Format != codec.JSON {
			t.Fatalf("%s: %s, want JSON", chain, r.Format)
		}
		var v struct{ Breakpoints []int }
		if err := json.Unmarshal(r.Data, &v); err != nil {
			t.Fatal(err)
		}
		return v.Breakpoints
	}
	bps := list("w_auto:breakpoints:json")
	if len(bps) < 3 || len(bps) > 20 || bps[0] != 50 || bps[len(bps)-1] != 1000 || !slices.IsSorted(bps) {
		t.Fatalf("default breakpoints %v", bps)
	}
	// A smaller step gives more breakpoints, max_images caps them, max_width
	// is capped at the image's width.
	fine := list("w_auto:breakpoints_50_1000_5_100:json")
	// File sizes grow faster than widths: the steps shrink as widths grow.
	if n := len(fine); n < 5 || fine[1]-fine[0] <= fine[n-2]-fine[n-3] {
		t.Errorf("breakpoints evenly spread, not by size: %v", fine)
	}
	capped := list("w_auto:breakpoints_50_1000_5_6:json")
	wide := list("c_scale,w_800/w_auto:breakpoints_100_3000_20_20:json")
	if len(fine) <= len(bps) || len(capped) != 6 || wide[len(wide)-1] != 800 || wide[0] != 100 {
		t.Errorf("fine %v capped %v wide %v", fine, capped, wide)
	}
	// Widths: the breakpoint at or above the fallback (an edge passes the
	// client's width there), the largest without one.
	for fallback, want := range map[int]int{0: 1000, 1: bps[0], bps[1] - 1: bps[1], bps[1]: bps[1], 5000: 1000} {
		chain := "c_limit,w_auto:breakpoints"
		if fallback > 0 {
			chain += ":" + itoa(fallback)
		}
		if r := render(t, photo, chain, "jpg"); r.Width != want {
			t.Errorf("%s: width %d, want %d (breakpoints %v)", chain, r.Width, want, bps)
		}
	}
	ch, _ := grammar.ParseChain("w_auto:breakpoints:json")
	if c := Cost(mustProbe(t, photo), ch, ""); c <= 0 {
		t.Errorf("cost %d", c)
	}
}

func mustProbe(t *testing.T, name string) codec.Info {
	info, err := codec.Probe(fixtures.Read(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
