package grammar

import (
	"errors"
	"strings"
	"testing"
)

func TestParamsValidAndInvalid(t *testing.T) {
	valid := map[string]string{ // input → canonical
		"c_fill":                         "c_fill",
		"c_lpad":                         "c_lpad",
		"c_mfit":                         "c_mfit",
		"c_thumb":                        "c_thumb",
		"w_100":                          "w_100",
		"w_0100":                         "w_100",
		"w_0.5":                          "w_0.5",
		"w_1.0":                          "w_1.0",
		"w_1.50":                         "w_1.5",
		"h_20":                           "h_20",
		"ar_16:9":                        "ar_16:9",
		"ar_1.5":                         "ar_1.5",
		"g_north_east":                   "g_north_east",
		"g_auto":                         "g_auto",
		"x_-10":                          "x_-10",
		"y_0.25":                         "y_0.25",
		"q_80":                           "q_80",
		"q_auto":                         "q_auto",
		"q_auto:good":                    "q_auto",
		"q_auto:eco":                     "q_auto:eco",
		"f_jpeg":                         "f_jpg",
		"f_auto":                         "f_auto",
		"f_avif":                         "f_avif",
		"e_sepia":                        "e_sepia",
		"e_sepia:50":                     "e_sepia:50",
		"e_blur:300":                     "e_blur:300",
		"e_brightness:-20":               "e_brightness:-20",
		"e_grayscale":                    "e_grayscale",
		"e_negate":                       "e_negate",
		"e_pixelate:10":                  "e_pixelate:10",
		"e_vignette:30":                  "e_vignette:30",
		"e_blackwhite:40":                "e_blackwhite:40",
		"e_sharpen":                      "e_sharpen",
		"e_contrast:50":                  "e_contrast:50",
		"e_saturation:-100":              "e_saturation:-100",
		"a_90":                           "a_90",
		"a_45.5":                         "a_45.5",
		"a_hflip.90":                     "a_hflip.90",
		"a_auto_right":                   "a_auto_right",
		"a_ignore":                       "a_ignore",
		"r_20":                           "r_20",
		"r_max":                          "r_max",
		"r_10:20:30:40":                  "r_10:20:30:40",
		"b_red":                          "b_red",
		"b_rgb:FF0000":                   "b_rgb:ff0000",
		"b_rgb:ff000080":                 "b_rgb:ff000080",
		"b_rgb:f00":                      "b_rgb:ff0000",
		"bo_3px_solid_black":             "bo_3px_solid_black",
		"o_50":                           "o_50",
		"dpr_2":                          "dpr_2.0",
		"dpr_1.5":                        "dpr_1.5",
		"pg_2":                           "pg_2",
		"pg_all":                         "pg_all",
		"fl_progressive.attachment":      "fl_attachment.progressive",
		"fl_attachment:photo":            "fl_attachment:photo",
		"fl_strip_profile":               "fl_strip_profile",
		"t_thumb":                        "t_thumb",
		"fn_wasm:blur.wasm":              "fn_wasm:blur.wasm",
		"$w_100,w_$w":                    "$w_100,w_$w",
		"l_logo,g_south_east,x_10":       "g_south_east,l_logo,x_10",
		"l_brand:logo,w_0.2":             "l_brand:logo,w_0.2",
		"fl_layer_apply,g_north":         "fl_layer_apply,g_north",
		"l_text:Arial_40_bold:Hi,co_red": "co_red,l_text:Arial_40_bold:Hi",
		"d_avatars:default.png,w_40":     "d_avatars:default.png,w_40",
		"c_fill,g_auto:subject,w_10":     "c_fill,g_auto:subject,w_10",
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
	invalidCases := map[string]string{ // input → message
		"w_abc":              "Invalid width in transformation: abc",
		"w_-5":               "Invalid width in transformation: -5",
		"w_0":                "Invalid width in transformation: 0",
		"h_1e9":              "Invalid height in transformation: 1e9",
		"c_bogus":            "Invalid crop mode in transformation: bogus",
		"g_up":               "Invalid gravity in transformation: up",
		"ar_0:1":             "Invalid aspect ratio in transformation: 0:1",
		"x_abc":              "Invalid x in transformation: abc",
		"q_0":                "Invalid quality in transformation: 0",
		"q_101":              "Invalid quality in transformation: 101",
		"q_auto:great":       "Invalid quality in transformation: auto:great",
		"f_bmp2":             "Invalid format in transformation: bmp2",
		"e_explode":          "Invalid effect in transformation: explode",
		"e_blur:0":           "Invalid effect level in transformation: blur:0",
		"e_negate:5":         "Invalid effect level in transformation: negate:5",
		"a_sideways":         "Invalid angle in transformation: sideways",
		"r_-1":               "Invalid radius in transformation: -1",
		"r_1:2:3:4:5":        "Invalid radius in transformation: 1:2:3:4:5",
		"b_notacolor":        "Invalid background in transformation: notacolor",
		"bo_3px_dotted_red":  "Invalid border in transformation: 3px_dotted_red",
		"o_101":              "Invalid opacity in transformation: 101",
		"dpr_0":              "Invalid dpr in transformation: 0",
		"pg_0":               "Invalid page in transformation: 0",
		"fl_fancy":           "Invalid flag in transformation: fancy",
		"fn_remote:aHR0cA":   "Unsupported custom function: remote:aHR0cA",
		"w_$nope":            "Undefined variable in transformation: $nope",
		"w_10,w_20":          "Duplicate parameter in transformation: w",
		"l_text:hi":          "Invalid text overlay in transformation: text:hi",
		"u_a b":              "Invalid underlay in transformation: a b",
		"l_fetch:aHR0cA==":   "Unsupported overlay type: fetch (image and text overlays only)",
		"l_:x":               "Invalid overlay in transformation: :x",
		"fn_wasm:a.wasm,w_5": "fn_wasm must stand in its own component (with variables only): fn_wasm:a.wasm,w_5",
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

func TestCanonicalEquivalence(t *testing.T) {
	same := [][2]string{
		{"w_100,c_fit", "c_fit,w_100"},
		{"h_100,w_150,c_fill", "c_fill,w_150,h_100"},
		{"q_auto:good", "q_auto"},
		{"f_jpeg", "f_jpg"},
		{"fl_progressive.attachment", "fl_attachment.progressive"},
		{"b_rgb:FFFFFF", "b_rgb:ffffff"},
		{"dpr_2", "dpr_2.0"},
		{"w_0.50", "w_0.5"},
	}
	for _, p := range same {
		a, err1 := ParseChain(p[0])
		b, err2 := ParseChain(p[1])
		if err1 != nil || err2 != nil {
			t.Fatalf("%v %v", err1, err2)
		}
		if a.String() != b.String() {
			t.Errorf("%q and %q canonicalise differently: %q vs %q", p[0], p[1], a, b)
		}
	}
	differ := [][2]string{
		{"w_1.0", "w_1"},
		{"c_fill,w_100/e_sepia", "e_sepia/c_fill,w_100"},
		{"ar_16:9", "ar_1.7777"},
	}
	for _, p := range differ {
		a, _ := ParseChain(p[0])
		b, _ := ParseChain(p[1])
		if a.String() == b.String() {
			t.Errorf("%q and %q must not share a canonical form", p[0], p[1])
		}
	}
}

func TestParsePath(t *testing.T) {
	cases := []struct {
		in                  string
		chain, id, ext, sig string
		version             int64
		hasVersion          bool
	}{
		{in: "image/upload/sample.jpg", id: "sample", ext: "jpg"},
		{in: "image/upload/c_fill,w_150,h_100/v123/sample.jpg", chain: "c_fill,h_100,w_150", id: "sample", ext: "jpg", version: 123, hasVersion: true},
		{in: "image/upload/v1/folder/sub/photo.png", id: "folder/sub/photo", ext: "png", version: 1, hasVersion: true},
		{in: "image/upload/folder/photo", id: "folder/photo"},
		{in: "image/upload/w_100/e_sepia/folder/photo.webp", chain: "w_100/e_sepia", id: "folder/photo", ext: "webp"},
		{in: "image/upload/my_folder/photo.jpg", id: "my_folder/photo", ext: "jpg"},
		{in: "image/upload/s--EfExssaP--/c_fill,h_100,w_150/sample.jpg?_a=BAMAROfk0", chain: "c_fill,h_100,w_150", id: "sample", ext: "jpg", sig: "EfExssaP"},
		{in: "/image/upload/w_10/v2/v3.jpg", chain: "w_10", id: "v3", ext: "jpg", version: 2, hasVersion: true},
		{in: "image/upload/photo.final.JPG", id: "photo.final", ext: "jpg"},
		{in: "image/upload/archive.tar", id: "archive.tar"},
		{in: "raw/upload/v5/plugins/blur.wasm", id: "plugins/blur.wasm", version: 5, hasVersion: true},
		{in: "image/authenticated/w_5/x.gif", chain: "w_5", id: "x", ext: "gif"},
		{in: "image/upload/w_100", id: "w_100"},
	}
	for _, c := range cases {
		p, err := ParsePath(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if p.Chain.String() != c.chain || p.PublicID != c.id || p.Ext != c.ext || p.Signature != c.sig ||
			p.Version != c.version || p.HasVersion != c.hasVersion {
			t.Errorf("%s: got chain=%q id=%q ext=%q sig=%q v=%d/%v", c.in, p.Chain, p.PublicID, p.Ext, p.Signature, p.Version, p.HasVersion)
		}
	}
	bad := map[string]string{
		"image/upload":                "Invalid delivery URL",
		"movie/upload/x.jpg":          "Invalid resource type",
		"image/bogus/x.jpg":           "Invalid delivery type",
		"image/upload/w_abc/x.jpg":    "Invalid width in transformation: abc",
		"image/upload/v1/":            "Invalid public_id",
		"image/upload/c_fill/v1/a//b": "Invalid public_id",
		"image/upload/.jpg":           "Invalid public_id",
	}
	for in, want := range bad {
		_, err := ParsePath(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want error containing %q, got %v", in, want, err)
		}
	}
}

func TestCacheKeyCoversEverything(t *testing.T) {
	base, _ := ParsePath("image/upload/c_fill,w_100/v1/a.jpg")
	keys := map[string]bool{base.CacheKey("jpg"): true}
	for _, other := range []string{
		"image/upload/c_fill,w_101/v1/a.jpg",
		"image/upload/c_fill,w_100/v2/a.jpg",
		"image/upload/c_fill,w_100/v1/b.jpg",
		"image/upload/c_fill,w_100/v1/a.png",
		"image/private/c_fill,w_100/v1/a.jpg",
	} {
		p, err := ParsePath(other)
		if err != nil {
			t.Fatal(err)
		}
		k := p.CacheKey("jpg")
		if keys[k] {
			t.Errorf("%s collides", other)
		}
		keys[k] = true
	}
	if base.CacheKey("webp") == base.CacheKey("jpg") {
		t.Error("negotiated format must be part of the key")
	}
	reordered, _ := ParsePath("image/upload/w_100,c_fill/v1/a.jpg")
	if reordered.CacheKey("jpg") != base.CacheKey("jpg") {
		t.Error("parameter order must not change the key")
	}
}

func TestSignatureVector(t *testing.T) {
	// Vector from the wire reference (§4.3), shared by both official SDKs.
	const secret = "abcdefghijklmnopqrstuvwxyz12"
	if got := SignURL("c_fill,h_100,w_150/sample.jpg", secret, false); got != "EfExssaP" {
		t.Fatalf("signature %q", got)
	}
	p, _ := ParsePath("image/upload/s--EfExssaP--/c_fill,h_100,w_150/sample.jpg")
	if !p.VerifySignature(secret) {
		t.Error("good signature refused")
	}
	tampered, _ := ParsePath("image/upload/s--EfExssaP--/c_fill,h_100,w_151/sample.jpg")
	if tampered.VerifySignature(secret) {
		t.Error("tampered URL accepted")
	}
	versioned, _ := ParsePath("image/upload/s--EfExssaP--/c_fill,h_100,w_150/v99/sample.jpg")
	if !versioned.VerifySignature(secret) {
		t.Error("the version is not part of the signature")
	}
	long := SignURL("sample.jpg", secret, true)
	lp, _ := ParsePath("image/upload/s--" + long + "--/sample.jpg")
	if len(long) != 32 || !lp.VerifySignature(secret) {
		t.Error("long signature")
	}
}

type mapResolver map[string]string

func (m mapResolver) ResolveNamed(n string) (string, bool, error) {
	s, ok := m[n]
	return s, ok, nil
}

func TestNamedExpansion(t *testing.T) {
	r := mapResolver{"thumb": "c_fill,w_100,h_100/e_sepia", "loop": "t_loop", "outer": "t_thumb/q_50"}
	ch, _ := ParseChain("t_thumb,f_png/a_90")
	got, err := ch.Expand(r)
	if err != nil || got.String() != "c_fill,h_100,w_100/e_sepia/f_png/a_90" {
		t.Fatalf("got %q, %v", got, err)
	}
	ch, _ = ParseChain("t_outer")
	if got, err := ch.Expand(r); err != nil || got.String() != "c_fill,h_100,w_100/e_sepia/q_50" {
		t.Fatalf("nested: %q %v", got, err)
	}
	ch, _ = ParseChain("t_missing")
	if _, err := ch.Expand(r); err == nil || err.Error() != "Unknown transformation missing" {
		t.Fatalf("missing: %v", err)
	}
	ch, _ = ParseChain("t_loop")
	if _, err := ch.Expand(r); err == nil {
		t.Fatal("a cycle must fail")
	}
}

func TestVariablesAndPluginSplit(t *testing.T) {
	ch, err := ParseChain("$w_200,$colors_4/c_scale,w_$w/fn_wasm:quantize.wasm/e_sepia")
	if err != nil {
		t.Fatal(err)
	}
	// Numbers from variables are evaluated when the component runs.
	if r, err := ch[1].Resolved(Values{Vars: map[string]Value{"w": Number(200)}}); err != nil || r.Width.Value != 200 {
		t.Errorf("variable not substituted: %+v %v", r, err)
	}
	before, plugin, after, ok := ch.SplitPlugin()
	if !ok || plugin != "quantize.wasm" || len(before) != 2 || len(after) != 1 {
		t.Errorf("split: %v %q %v", before, plugin, after)
	}
	if v := ch.Variables(); v["colors"] != "4" || v["w"] != "200" {
		t.Errorf("variables %v", v)
	}
}
