package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/sdk"
)

// TestGoClientAndCLI drives edgepix with its own Go client (sdk/) and the
// client commands of the binary.
func TestGoClientAndCLI(t *testing.T) {
	a, _ := start(t)
	cfg, err := sdk.FromURL(testAccount.URL(a.OriginURL), a.EdgeURL)
	if err != nil {
		t.Fatal(err)
	}
	c := sdk.New(cfg)
	got := make(chan map[string]any, 4)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := c.VerifyNotification(r.Header, body, 0); err != nil {
			t.Errorf("VerifyNotification: %v", err)
		}
		if err := c.VerifyNotification(r.Header, append(body, ' '), 0); err == nil {
			t.Error("a changed body verified")
		}
		cld := r.Header.Clone()
		cld.Del("webhook-signature")
		if err := c.VerifyNotification(cld, body, 0); err != nil {
			t.Errorf("X-Cld signature alone: %v", err)
		}
		var m map[string]any
		json.Unmarshal(body, &m)
		got <- m
	}))
	defer rcv.Close()

	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	res, err := c.Upload(bg, "image", snake, url.Values{"public_id": {"go/snake"}, "eager": {"c_scale,w_40"},
		"eager_async": {"true"}, "eager_notification_url": {rcv.URL}})
	if err != nil || res["width"] != float64(600) {
		t.Fatalf("upload: %v %v", err, res)
	}
	batch := res["eager"].([]any)[0].(map[string]any)["batch_id"].(string)
	if m := <-got; m["notification_type"] != "eager" || m["batch_id"] != batch {
		t.Errorf("notification: %v", m)
	}
	if st, err := c.Batch(bg, batch); err != nil || st["status"] != "complete" {
		t.Errorf("batch: %v %v", err, st)
	}
	u, err := c.URL("go/snake", sdk.URLOptions{Transformation: "w_50,c_fill,h_50", Format: "png", Sign: true})
	if err != nil || !strings.Contains(u, "/c_fill,h_50,w_50/go/snake.png") {
		t.Fatalf("URL: %v %s", err, u)
	}
	if resp, _ := get(t, u); resp.StatusCode != 200 {
		t.Errorf("signed URL from the Go client: %d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	if resp, _ := get(t, strings.Replace(u, "w_50", "w_51", 1)); resp.StatusCode != 401 {
		t.Errorf("tampered: %d", resp.StatusCode)
	}
	if _, err := c.URL("x", sdk.URLOptions{Transformation: "c_bogus"}); err == nil {
		t.Error("a bad transformation made a URL")
	}
	var apiErr *sdk.APIError
	if _, err := c.Call(bg, "image", "explicit", url.Values{"public_id": {"ghost"}, "type": {"upload"}}); err == nil ||
		!errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Errorf("explicit of an unknown id: %v", err)
	}
	if r, err := c.Call(bg, "image", "destroy", url.Values{"public_id": {"go/snake"}}); err != nil || r["result"] != "ok" {
		t.Errorf("destroy: %v %v", err, r)
	}

	// The binary's client commands.
	bin := buildBinary(t)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "CLOUDINARY_URL="+testAccount.URL(a.OriginURL), "EDGEPIX_DELIVERY_URL="+a.EdgeURL)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("edgepix %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if out := run("upload", snake, "-public-id", "cli", "-tags", "a,b", "context=alt=cli"); !strings.Contains(out, `"public_id": "cli"`) ||
		!strings.Contains(out, `"alt": "cli"`) {
		t.Errorf("edgepix upload:\n%s", out)
	}
	link := run("url", "cli", "-tx", "c_scale,w_40", "-format", "jpg", "-sign")
	if resp, _ := get(t, link); resp.StatusCode != 200 {
		t.Errorf("edgepix url %s: %d", link, resp.StatusCode)
	}
	if out := run("call", "tags", "command=add", "tag=c", "public_ids=cli"); !strings.Contains(out, `"cli"`) {
		t.Errorf("edgepix call tags:\n%s", out)
	}
}
