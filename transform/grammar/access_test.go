package grammar

import (
	"strings"
	"testing"
)

func TestCheckPublicID(t *testing.T) {
	for id, ok := range map[string]bool{
		"a": true, "folder/a.b": true, "a b": true, "x.y.z": true, "é/ü": true, "100%": true,
		"": false, "../x": false, "a/../b": false, "a/..": false, "..": false, "a..b": false,
		"./a": false, "a/./b": false, "/a": false, "a/": false, "a//b": false,
		"a?b": false, "a#b": false, `a\b`: false, "a\x00b": false, "a\nb": false,
		strings.Repeat("x", 255): true, strings.Repeat("x", 256): false,
	} {
		if err := CheckPublicID(id); (err == nil) != ok {
			t.Errorf("CheckPublicID(%q) = %v, want ok=%v", id, err, ok)
		}
	}
}

// No public_id that a URL or a layer reference carries may walk out of
// its folder (the layer id of an fn_wasm chain once reached another cloud).
func TestPathsRefuseEscapingIDs(t *testing.T) {
	for _, p := range []string{
		"image/upload/a/../../../other/image/authenticated/secret.jpg",
		"image/upload/../x.jpg",
		"image/upload/w_10/./x.jpg",
		"image/upload/l_..:..:..:other:image:authenticated:secret/x.jpg",
		"image/upload/l_a:..:b/x.jpg",
		"image/upload/u_..:x/x.jpg",
		"image/upload/d_..:x/x.jpg",
		"image/upload/fn_wasm:..:..:other:p.wasm/x.jpg",
		"image/upload/l_:x/x.jpg",
		"image/upload/l_x:/x.jpg",
		"raw/upload/w_100/file.bin",
		"raw/private/e_blur/file.bin",
	} {
		if _, err := ParsePath(p); err == nil {
			t.Errorf("%s was accepted", p)
		}
	}
	for _, p := range []string{"image/upload/l_logos:brand/x.jpg", "raw/upload/fl_attachment/file.bin",
		"image/upload/fn_wasm:plugins:duo.wasm/x.jpg"} {
		if _, err := ParsePath(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestNeedsSignature(t *testing.T) {
	for _, c := range []struct {
		typ, path string
		want      bool
	}{
		{"upload", "image/upload/x.jpg", false},
		{"upload", "image/upload/w_10/x.jpg", false},
		{"authenticated", "image/authenticated/x.jpg", true},
		{"authenticated", "image/authenticated/w_10/x.jpg", true},
		{"private", "image/private/x.jpg", true},
		{"private", "image/private/x.png", true}, // a format change alone is the original
		{"private", "image/private/v3/x.jpg", true},
		{"private", "image/private/w_10/x.jpg", false},
		{"private", "raw/private/fl_attachment/f.bin", true},
		// The stored type decides, not the URL's.
		{"authenticated", "image/upload/w_10/x.jpg", true},
	} {
		p, err := ParsePath(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := NeedsSignature(c.typ, p); got != c.want {
			t.Errorf("NeedsSignature(%s, %s) = %v", c.typ, c.path, got)
		}
	}
}

func TestStrictNames(t *testing.T) {
	for tx, want := range map[string]string{
		"":                      "ok:",
		"t_thumb":               "ok:thumb",
		"t_a/t_b":               "ok:a,b",
		"t_a.b":                 "ok:a,b",
		"t_x,w_3000,e_blur:300": "no",
		"t_x,l_logo":            "no",
		"t_x/w_10":              "no",
		"w_10":                  "no",
		"$v_2,t_x":              "no",
	} {
		ch, err := ParseChain(tx)
		if err != nil {
			t.Fatalf("%s: %v", tx, err)
		}
		names, ok := ch.StrictNames()
		got := "no"
		if ok {
			got = "ok:" + strings.Join(names, ",")
		}
		if got != want {
			t.Errorf("StrictNames(%q) = %s, want %s", tx, got, want)
		}
	}
}

// String gives back a path that parses to the same thing, signature
// included: internal requests are rebuilt from parsed paths.
func TestPathStringRoundTrip(t *testing.T) {
	for _, in := range []string{
		"image/upload/x.jpg", "image/upload/c_fill,w_10,h_20/e_sepia/v12/f/x.png",
		"image/authenticated/s--abcdefgh--/w_10/x", "raw/private/v3/docs/a.bin",
		"image/upload/l_text:Arial_20:hi/x.jpg", "image/fetch/w_10/https://example.com/a.jpg?x=1",
		"image/upload/v1/v2", "image/sprite/tag.css",
	} {
		p, err := ParsePath(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		q, err := ParsePath(p.String())
		if err != nil || q.String() != p.String() || q.PublicID != p.PublicID || q.Signature != p.Signature ||
			q.RawChain != p.RawChain || q.Version != p.Version || q.Ext != p.Ext {
			t.Errorf("%s -> %s -> %+v (%v)", in, p.String(), q, err)
		}
	}
	p, _ := ParsePath("image/authenticated/w_10/x.jpg")
	if s := p.Signed("secret"); !s.VerifySignature("secret") || s.VerifySignature("other") {
		t.Error("Signed does not verify")
	}
}

// Names that each hold many others multiply at every level: the
// expansion is bounded, as is a chain written out.
func TestChainLengthBounds(t *testing.T) {
	r := mapResolver{}
	for _, n := range []string{"a", "b", "c", "d"} {
		next := map[string]string{"a": "b", "b": "c", "c": "d", "d": "e"}[n]
		r[n] = strings.TrimSuffix(strings.Repeat("t_"+next+"/", 50), "/")
	}
	r["e"] = "w_10"
	ch, _ := ParseChain("t_a")
	if out, err := ch.Expand(r); err == nil {
		t.Errorf("expanded to %d components", len(out))
	}
	if _, err := ParseChain(strings.TrimSuffix(strings.Repeat("e_blur/", MaxComponents+1), "/")); err == nil {
		t.Error("an over-long chain was accepted")
	}
	if _, err := ParseChain(strings.TrimSuffix(strings.Repeat("e_blur/", MaxComponents), "/")); err != nil {
		t.Error(err)
	}
}
