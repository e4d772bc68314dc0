package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/cloudinary/cloudinary-go/v2"
	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/admin"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/internal/wasmasm"
	"github.com/edgepix/edgepix/origin"
	"github.com/edgepix/edgepix/transform/grammar"
)

// signed returns the delivery URL for path in the demo cloud with its
// signature (the SDKs' scheme), path being {rt}/{type}/[tx/]id.
func signed(t *testing.T, base, path string) string {
	t.Helper()
	p, err := grammar.ParsePath(path)
	if err != nil {
		t.Fatal(err)
	}
	return base + "/demo/" + p.Signed(testAccount.APISecret).String()
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, _ := get(t, url)
	return resp.StatusCode
}

// TestPrivateAndAuthenticatedDelivery: authenticated assets need a signed
// URL for every delivery, private ones for the original only; a wrong
// signature is refused; the API reads both; --strict changes none of it.
func TestPrivateAndAuthenticatedDelivery(t *testing.T) {
	for _, strict := range []bool{false, true} {
		a, cld := start(t, func(c *app.Config) { c.Strict = strict })
		snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
		for _, typ := range []string{"private", "authenticated"} {
			res := upload(t, cld, snake, uploader.UploadParams{PublicID: "secret", Type: api.DeliveryType(typ)})
			if !strings.Contains(res.URL, "/s--") {
				t.Errorf("%s: the result URL is not signed: %s", typ, res.URL)
			}
			if s := status(t, res.URL); s != 200 {
				t.Errorf("%s: the result's own URL: %d", typ, s)
			}
			base := a.EdgeURL + "/demo/image/" + typ + "/"
			for _, u := range []string{base + "secret.jpg", base + "secret.png", base + "v1/secret.jpg",
				base + "s--AAAAAAAA--/secret.jpg", base + "s--AAAAAAAA--/c_scale,w_40/secret.jpg"} {
				resp, _ := get(t, u)
				if resp.StatusCode != 401 || resp.Header.Get("X-Cld-Error") == "" {
					t.Errorf("strict=%v %s: %d", strict, u, resp.StatusCode)
				}
			}
			if s := status(t, signed(t, a.EdgeURL, "image/"+typ+"/secret.jpg")); s != 200 {
				t.Errorf("%s: signed original: %d", typ, s)
			}
			// Derived versions: public for private (unless strict), signed only
			// for authenticated.
			want := map[string]int{"private": 200, "authenticated": 401}[typ]
			if strict {
				want = 401
			}
			if s := status(t, base+"c_scale,w_40/secret.jpg"); s != want {
				t.Errorf("strict=%v %s: unsigned derived: %d, want %d", strict, typ, s, want)
			}
			if s := status(t, deliveryURLTyped(t, cld, "secret", typ, "c_scale,w_41")); s != 200 {
				t.Errorf("%s: SDK-signed derived: %d", typ, s)
			}
			// The API can always read them.
			got, err := cld.Admin.Asset(bg, admin.AssetParams{PublicID: "secret", DeliveryType: api.DeliveryType(typ)})
			if err != nil || got.Width != 600 {
				t.Errorf("%s: Admin API: %v %+v", typ, err, got.Error)
			}
		}
		// Raw files follow the same rules; a transformation on a raw file
		// cannot make its original "derived".
		for _, typ := range []string{"private", "authenticated"} {
			r, err := cld.Upload.Upload(bg, bytes.NewReader([]byte("secret notes")),
				uploader.UploadParams{PublicID: "notes.txt", ResourceType: "raw", Type: api.DeliveryType(typ)})
			if err != nil || r.Error.Message != "" {
				t.Fatalf("raw %s: %v %+v", typ, err, r.Error)
			}
			for _, u := range []string{"/demo/raw/" + typ + "/notes.txt", "/demo/raw/" + typ + "/w_10/notes.txt",
				"/demo/raw/" + typ + "/fl_attachment/notes.txt"} {
				if s := status(t, a.EdgeURL+u); s != 401 && s != 400 {
					t.Errorf("strict=%v %s: %d", strict, u, s)
				}
			}
			resp, body := get(t, signed(t, a.EdgeURL, "raw/"+typ+"/notes.txt"))
			if resp.StatusCode != 200 || string(body) != "secret notes" {
				t.Errorf("raw %s signed: %d %q", typ, resp.StatusCode, body)
			}
		}
	}
}

// deliveryURLTyped builds a signed URL with the official SDK for a
// delivery type.
func deliveryURLTyped(t *testing.T, cld *cloudinary.Cloudinary, id, typ, tx string) string {
	t.Helper()
	img, err := cld.Image(id)
	if err != nil {
		t.Fatal(err)
	}
	img.DeliveryType = api.DeliveryType(typ)
	img.Transformation = tx
	img.Config.URL.SignURL = true
	u, err := img.String()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPublicIDsStayInTheirCloud: a layer id written to walk out of its
// folder (the attack went through the edge's layer loader after an
// fn_wasm step) is refused by the grammar, and the origin's internal
// endpoints refuse a path for another cloud than the request's.
func TestPublicIDsStayInTheirCloud(t *testing.T) {
	other := origin.Account{Cloud: "other", APIKey: "999999999999999", APISecret: "other-secret"}
	dir := t.TempDir()
	a, cld := start(t, func(c *app.Config) { c.Accounts, c.DataDir = []origin.Account{testAccount, other}, dir })
	otherCld, err := cloudinary.NewFromURL(other.URL(a.OriginURL))
	if err != nil {
		t.Fatal(err)
	}
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	upload(t, otherCld, snake, uploader.UploadParams{PublicID: "secret", Type: "authenticated"})
	upload(t, cld, snake, uploadParams("snake"))
	uploadPlugin(t, cld, "inv.wasm", wasmasm.Invert())

	for _, tx := range []string{
		"fn_wasm:inv.wasm/l_..:..:..:other:image:authenticated:secret/fl_layer_apply",
		"fn_wasm:inv.wasm/l_..:..:..:..:other:image:authenticated:secret/fl_layer_apply",
		"fn_wasm:inv.wasm/u_..:..:..:other:image:authenticated:secret",
		"l_..:..:..:other:image:authenticated:secret/fl_layer_apply",
		"fn_wasm:..:..:..:other:raw:authenticated:p.wasm",
	} {
		resp, body := get(t, a.EdgeURL+"/demo/image/upload/"+tx+"/snake.png")
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d (%d bytes)", tx, resp.StatusCode, len(body))
		}
	}
	// The internal endpoints check the cloud a request is for.
	token, err := os.ReadFile(dir + "/derive-token")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, cloud string
		want        int
	}{
		{"/internal/derive/other/image/authenticated/secret.png", "demo", 403},
		{"/internal/derive/demo/image/upload/../../../other/image/authenticated/secret.png", "demo", 403},
		{"/internal/asset/other/image/authenticated/secret", "demo", 403},
		{"/internal/derive/other/image/authenticated/secret.png", "other", 401}, // unsigned: authenticated
		{"/internal/derive/demo/image/upload/snake.png", "demo", 200},
	} {
		req, _ := http.NewRequest("GET", a.OriginURL+c.path, nil)
		req.Header.Set("X-Edgepix-Token", string(token))
		req.Header.Set("X-Edgepix-Cloud", c.cloud)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s for %s: %d, want %d", c.path, c.cloud, resp.StatusCode, c.want)
		}
	}
}

// TestStrictCannotBeBypassed: under --strict an unsigned URL may only use
// named transformations whose allowed_for_strict is set, and nothing else.
func TestStrictCannotBeBypassed(t *testing.T) {
	a, cld := start(t, func(c *app.Config) { c.Strict = true })
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("snake"))
	upload(t, cld, fixtures.Path(t, "interlaced-rgb-horse-200x200.png"), uploadParams("logo"))
	if _, err := cld.Admin.CreateTransformation(bg, admin.CreateTransformationParams{Name: "x",
		Transformation: "c_fill,w_40,h_30"}); err != nil {
		t.Fatal(err)
	}
	base := a.EdgeURL + "/demo/image/upload/"
	if s := status(t, base+"t_x/snake.jpg"); s != 401 {
		t.Errorf("a name not allowed for strict: %d", s)
	}
	if _, err := cld.Admin.UpdateTransformation(bg, admin.UpdateTransformationParams{Transformation: "x",
		AllowedForStrict: api.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if s := status(t, base+"t_x/snake.jpg"); s != 200 {
		t.Errorf("a name allowed for strict: %d", s)
	}
	for _, tx := range []string{"t_x,w_3000,e_blur:300", "t_x,l_logo", "t_x/w_3000", "t_x/e_blur:300", "w_10"} {
		if s := status(t, base+tx+"/snake.jpg"); s != 401 {
			t.Errorf("%s under --strict: %d", tx, s)
		}
	}
	if s := status(t, base+"t_nope/snake.jpg"); s != 400 {
		t.Errorf("an unknown name under --strict: %d", s)
	}
	if s := status(t, base+"snake.jpg"); s != 200 {
		t.Errorf("the original under --strict: %d", s)
	}
	if s := status(t, deliveryURL(t, cld, "snake", "w_50,e_blur:300", true)); s != 200 {
		t.Errorf("a signed ad-hoc transformation under --strict: %d", s)
	}
}

// TestUnsignedPresetCannotReadOthers: an anonymous upload naming an
// existing public_id is refused and gets nothing of that asset back.
func TestUnsignedPresetCannotReadOthers(t *testing.T) {
	_, cld := start(t)
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	if _, err := cld.Admin.CreateUploadPreset(bg, admin.CreateUploadPresetParams{Name: "anon", Unsigned: api.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	upload(t, cld, snake, uploader.UploadParams{PublicID: "private-doc", Tags: []string{"salary-2026"},
		Context: api.CldAPIMap{"owner": "ceo"}})
	r, err := cld.Upload.UnsignedUpload(bg, fixtures.Path(t, "interlaced-rgb-horse-200x200.png"), "anon",
		uploader.UploadParams{PublicID: "private-doc"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Error.Message, "already exists") || len(r.Tags) != 0 || r.Context != nil || r.Width != 0 {
		t.Errorf("unsigned upload over an existing id: %+v", r)
	}
	got, _ := cld.Admin.Asset(bg, admin.AssetParams{PublicID: "private-doc"})
	if got.Width != 600 {
		t.Errorf("the existing asset changed: %+v", got)
	}
}

// TestTypesAreValidated: types enter through form fields and paths; only
// real ones reach the stores.
func TestTypesAreValidated(t *testing.T) {
	a, cld := start(t)
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("snake"))
	for _, toType := range []string{"fetch", "upload.x", "a*b", "sprite", ">"} {
		r, err := cld.Upload.Rename(bg, uploader.RenameParams{FromPublicID: "snake", ToPublicID: "snake2", ToType: toType})
		if err != nil || !strings.Contains(fmt.Sprint(r.Error), "Invalid to_type") {
			t.Errorf("rename to_type %q: %v %+v", toType, err, r.Error)
		}
	}
	if r, _ := cld.Upload.Destroy(bg, uploader.DestroyParams{PublicID: "snake", Type: "up*"}); !strings.Contains(r.Error.Message, "Invalid type") {
		t.Errorf("destroy type up*: %+v", r)
	}
	for path, want := range map[string]int{"/v1_1/demo/resources/image/up.load": 400, "/v1_1/demo/resources/image/>/snake": 400,
		"/v1_1/demo/webhooks/deliveries/a.*/redeliver": 404, "/v1_1/demo/webhooks/deliveries/>/redeliver": 404} {
		method := "GET"
		if strings.HasSuffix(path, "redeliver") {
			method = "POST"
		}
		req, _ := http.NewRequest(method, a.OriginURL+path, nil)
		req.SetBasicAuth(testAccount.APIKey, testAccount.APISecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	if got, _ := cld.Admin.Asset(bg, admin.AssetParams{PublicID: "snake"}); got.Width != 600 {
		t.Errorf("snake is gone: %+v", got.Error)
	}
}
