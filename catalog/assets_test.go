package catalog

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

func ids(p *Page) []string {
	var out []string
	for _, a := range p.Assets {
		out = append(out, a.Type+"/"+a.PublicID)
	}
	return out
}

// Assets are stored, listed by prefix and by tag in public_id order with
// cursors, retagged and deleted; what one node wrote the other reads at
// once.
func TestAssets(t *testing.T) {
	backends(t, func(t *testing.T, w, r jetstream.JetStream, o Options) {
		ws, rs := open(t, w, o).Assets, open(t, r, o).Assets
		put := func(typ, id string, tags ...string) *Asset {
			a := &Asset{Cloud: "demo", ResourceType: "image", Type: typ, PublicID: id, Version: 1, Tags: tags}
			if err := ws.Put(bg, a); err != nil {
				t.Fatal(err)
			}
			return a
		}
		for i := range 5 {
			parity := "even"
			if i%2 == 1 {
				parity = "odd"
			}
			put("upload", fmt.Sprintf("dir/a%d", i), parity, "all")
		}
		put("private", "dir/a1", "all")
		put("upload", "other/x", "all")
		if _, err := rs.Get(bg, "demo", "image", "upload", "missing"); !errors.Is(err, ErrAssetNotFound) {
			t.Fatalf("missing asset: %v", err)
		}
		var te *InvalidTypeError
		if _, err := rs.Get(bg, "demo", "image", "*", "x"); !errors.As(err, &te) {
			t.Fatalf("wildcard type: %v", err)
		}
		if a, err := rs.Get(bg, "demo", "image", "upload", "dir/a3"); err != nil || a.Tags[0] != "odd" {
			t.Fatalf("get: %+v %v", a, err)
		}
		p, err := rs.List(bg, "demo", "image", "", "dir/", "", 3)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(p); !slices.Equal(got, []string{"upload/dir/a0", "private/dir/a1", "upload/dir/a1"}) || p.Next == "" {
			t.Fatalf("first page %v next %q", got, p.Next)
		}
		p, err = rs.List(bg, "demo", "image", "", "dir/", p.Next, 3)
		if got := ids(p); err != nil || !slices.Equal(got, []string{"upload/dir/a2", "upload/dir/a3", "upload/dir/a4"}) || p.Next != "" {
			t.Fatalf("second page %v next %q %v", got, p.Next, err)
		}
		p, err = rs.List(bg, "demo", "image", "private", "", "", 10)
		if got := ids(p); err != nil || !slices.Equal(got, []string{"private/dir/a1"}) {
			t.Fatalf("by type %v %v", got, err)
		}
		p, err = rs.ByTag(bg, "demo", "image", "odd", "", 10)
		if got := ids(p); err != nil || !slices.Equal(got, []string{"upload/dir/a1", "upload/dir/a3"}) {
			t.Fatalf("by tag %v %v", got, err)
		}
		// Retagging drops the old index entry; deleting drops the asset.
		a3, _ := rs.Get(bg, "demo", "image", "upload", "dir/a3")
		a3.Tags = []string{"all"}
		if err := ws.Put(bg, a3); err != nil {
			t.Fatal(err)
		}
		a1, _ := rs.Get(bg, "demo", "image", "upload", "dir/a1")
		if err := ws.Delete(bg, a1); err != nil {
			t.Fatal(err)
		}
		if p, _ = rs.ByTag(bg, "demo", "image", "odd", "", 10); len(p.Assets) != 0 {
			t.Fatalf("by tag after retag and delete: %v", ids(p))
		}
		if p, _ = rs.ByTag(bg, "demo", "image", "all", "", 10); len(p.Assets) != 6 {
			t.Fatalf("tag all: %v", ids(p))
		}
		if p, _ = rs.List(bg, "demo", "image", "upload", "dir/", "", 10); len(p.Assets) != 4 {
			t.Fatalf("after delete: %v", ids(p))
		}
		if p, _ = rs.List(bg, "other", "image", "", "", "", 10); len(p.Assets) != 0 {
			t.Fatalf("another cloud sees %v", ids(p))
		}
		for _, a := range p.Assets {
			if !After(a, "") {
				t.Error("nothing comes after the empty cursor")
			}
		}
	})
}
