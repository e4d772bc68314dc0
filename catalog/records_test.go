package catalog

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Named transformations and presets are records by cloud and name.
func TestNamedAndPresets(t *testing.T) {
	backends(t, func(t *testing.T, w, r jetstream.JetStream, o Options) {
		wc, rc := open(t, w, o), open(t, r, o)
		for _, n := range []string{"thumb", "big"} {
			if err := wc.Named.Put(bg, "demo", &Named{Name: n, Transformation: "w_" + n}); err != nil {
				t.Fatal(err)
			}
		}
		if err := wc.Presets.Put(bg, "demo", &Preset{Name: "p", Unsigned: true, Settings: map[string]string{"tags": "x"}}); err != nil {
			t.Fatal(err)
		}
		list, err := rc.Named.List(bg, "demo")
		if err != nil || len(list) != 2 || list[0].Name != "big" || list[1].Transformation != "w_thumb" {
			t.Fatalf("named: %v %v", list, err)
		}
		if n, ok, err := rc.Named.Get(bg, "other", "thumb"); ok || err != nil {
			t.Fatalf("another cloud's: %v %v", n, err)
		}
		if p, ok, err := rc.Presets.Get(bg, "demo", "p"); !ok || err != nil || !p.Unsigned || p.Settings["tags"] != "x" {
			t.Fatalf("preset: %+v %v %v", p, ok, err)
		}
		if ok, err := wc.Named.Delete(bg, "demo", "thumb"); !ok || err != nil {
			t.Fatalf("delete: %v %v", ok, err)
		}
		if ok, _ := wc.Named.Delete(bg, "demo", "thumb"); ok {
			t.Fatal("deleted twice")
		}
		if all, _ := rc.Named.All(bg, "demo"); len(all) != 1 || all["big"] == nil {
			t.Fatalf("after delete: %v", all)
		}
	})
}

// One origin assembles a chunked upload; the others see its claim, then
// its answer; a released or abandoned claim is taken again.
func TestUploadClaims(t *testing.T) {
	backends(t, func(t *testing.T, w, r jetstream.JetStream, o Options) {
		ws, rs := open(t, w, o).Uploads, open(t, r, o).Uploads
		if _, mine, err := ws.Claim(bg, "demo", "up1", time.Minute); !mine || err != nil {
			t.Fatalf("first claim: %v %v", mine, err)
		}
		a, mine, err := rs.Claim(bg, "demo", "up1", time.Minute)
		if mine || err != nil || a.Done {
			t.Fatalf("second claim: %+v %v %v", a, mine, err)
		}
		if err := ws.Finish(bg, "demo", "up1", 200, []byte(`{"public_id":"x"}`)); err != nil {
			t.Fatal(err)
		}
		if a, mine, _ = rs.Claim(bg, "demo", "up1", 0); mine || !a.Done || a.Status != 200 || string(a.Body) != `{"public_id":"x"}` {
			t.Fatalf("claim of a finished upload: %+v %v", a, mine)
		}
		ws.Claim(bg, "demo", "up2", time.Minute)
		if err := ws.Release(bg, "demo", "up2"); err != nil {
			t.Fatal(err)
		}
		if _, mine, err := rs.Claim(bg, "demo", "up2", time.Minute); !mine || err != nil {
			t.Fatalf("claim after release: %v %v", mine, err)
		}
		if _, mine, err := ws.Claim(bg, "demo", "up2", 0); !mine || err != nil {
			t.Fatalf("taking over an abandoned claim: %v %v", mine, err)
		}
		if _, mine, _ := rs.Claim(bg, "demo", "up2", time.Minute); mine {
			t.Fatal("a fresh claim was taken over")
		}
	})
}
