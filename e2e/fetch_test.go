package e2e

import (
	"bytes"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/origin"
)

// TestFetchDelivery transforms remote images by URL (/image/fetch/<url>):
// fetched once, then served from the stored copy.
func TestFetchDelivery(t *testing.T) {
	snake, _ := os.ReadFile(fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"))
	var hits atomic.Int32
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if strings.HasSuffix(r.URL.Path, ".jpg") {
			w.Write(snake)
			return
		}
		w.Write([]byte("not an image"))
	}))
	defer remote.Close()
	a, cld := start(t, func(c *app.Config) { c.AllowPrivateFetch = true })
	src := remote.URL + "/pics/snake.jpg?size=big"

	for _, u := range []string{
		a.EdgeURL + "/demo/image/fetch/c_scale,w_100/" + src,
		a.EdgeURL + "/demo/image/fetch/c_scale,w_100/" + strings.Replace(src, "?", "%3F", 1),
	} {
		resp, body := get(t, u)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", u, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
		}
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(body)); err != nil || cfg.Width != 100 {
			t.Errorf("fetched and scaled: %+v %v", cfg, err)
		}
	}
	img, err := cld.Image(src)
	if err != nil {
		t.Fatal(err)
	}
	img.DeliveryType = "fetch"
	img.Transformation = "c_fill,w_60,h_60"
	img.Config.URL.SignURL = true
	u, _ := img.String()
	if resp, _ := get(t, u); resp.StatusCode != 200 {
		t.Errorf("SDK-built signed fetch URL %s: %d %s", u, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the remote image was fetched %d times, want once", n)
	}
	if resp, _ := get(t, a.EdgeURL+"/demo/image/fetch/"+remote.URL+"/notes.txt"); resp.StatusCode != 400 {
		t.Errorf("fetch of a text file: %d", resp.StatusCode)
	}
	if resp, _ := get(t, a.EdgeURL+"/demo/image/fetch/ftp:/x/y.jpg"); resp.StatusCode != 400 {
		t.Errorf("fetch of a non-http URL: %d", resp.StatusCode)
	}

	// Without --allow-private-fetch a loopback source is refused; an
	// account can restrict fetch to some domains.
	closed, _ := start(t)
	if resp, _ := get(t, closed.EdgeURL+"/demo/image/fetch/"+src); resp.StatusCode != 400 ||
		!strings.Contains(resp.Header.Get("X-Cld-Error"), "private address") {
		t.Errorf("private fetch without the flag: %d %q", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	acct := testAccount
	acct.FetchDomains = []string{"example.com"}
	limited, _ := start(t, func(c *app.Config) { c.AllowPrivateFetch, c.Accounts = true, []origin.Account{acct} })
	if resp, _ := get(t, limited.EdgeURL+"/demo/image/fetch/"+src); resp.StatusCode != 400 ||
		!strings.Contains(resp.Header.Get("X-Cld-Error"), "not allowed") {
		t.Errorf("fetch outside fetch_domains: %d %q", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	strict, _ := start(t, func(c *app.Config) { c.AllowPrivateFetch, c.Strict = true, true })
	if resp, _ := get(t, strict.EdgeURL+"/demo/image/fetch/"+src); resp.StatusCode != 401 {
		t.Errorf("unsigned fetch under --strict: %d", resp.StatusCode)
	}
}
