package e2e

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/origin"
)

// With the origin gone, the edge keeps serving what it has cached and
// answers misses with 502 and X-Cld-Error; HEAD and fl_attachment work.
// `edgepix origin` and `edgepix edge` run apart: with the origin gone, the
// edge keeps serving what it has cached and answers misses with 502 and
// X-Cld-Error; HEAD and fl_attachment work.
func TestEdgeWithOriginDown(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	accts := []origin.Account{testAccount}
	o, err := app.Start(app.Config{Mode: app.Origin, DataDir: t.TempDir(), OriginAddr: "127.0.0.1:0",
		DeriveToken: "tok", PublicURL: "http://edge", Accounts: accts}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	e, err := app.Start(app.Config{Mode: app.Edge, DataDir: t.TempDir(), EdgeAddr: "127.0.0.1:0",
		OriginURL: o.OriginURL, DeriveToken: "tok", Accounts: accts}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := app.Start(app.Config{Mode: app.Edge, DataDir: t.TempDir(), EdgeAddr: "127.0.0.1:0",
		OriginURL: o.OriginURL, Accounts: accts}, log); err == nil {
		t.Error("an edge without a derive token must not start")
	}
	bad, err := app.Start(app.Config{Mode: app.Edge, DataDir: t.TempDir(), EdgeAddr: "127.0.0.1:0",
		OriginURL: o.OriginURL, DeriveToken: "wrong", Accounts: accts}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	base := e.EdgeURL + "/demo/image/upload/"

	// Upload through the real API with the SDK.
	cld := sdkForURL(t, o.OriginURL, strings.TrimPrefix(e.EdgeURL, "http://"))
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("snake"))
	if resp, _ := get(t, bad.EdgeURL+"/demo/image/upload/c_scale,w_60/snake.jpg"); resp.StatusCode != 401 {
		t.Errorf("an edge with the wrong derive token got %d from the origin, want 401", resp.StatusCode)
	}

	resp, body := get(t, base+"c_scale,w_60,fl_attachment/snake.jpg")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Disposition") != `attachment; filename=snake.jpg` {
		t.Fatalf("attachment: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	req, _ := http.NewRequest(http.MethodHead, base+"c_scale,w_60,fl_attachment/snake.jpg", nil)
	hr, err := http.DefaultClient.Do(req)
	if err != nil || hr.StatusCode != 200 || hr.ContentLength != int64(len(body)) || hr.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("HEAD: %v %+v", err, hr)
	}
	hr.Body.Close()

	o.Close()
	if resp, _ := get(t, base+"c_scale,w_60,fl_attachment/snake.jpg"); resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("cached entry with the origin down: %d", resp.StatusCode)
	}
	resp, _ = get(t, base+"c_scale,w_61/snake.jpg")
	if resp.StatusCode != 502 || resp.Header.Get("X-Cld-Error") == "" {
		t.Fatalf("miss with the origin down: %d %q", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
}

// An origin started with --nats-listen lets separate edges receive purges
// through its embedded NATS, with the derive token as credentials.
func TestEdgePurgesThroughOriginNATS(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	accts := []origin.Account{testAccount}
	o, err := app.Start(app.Config{Mode: app.Origin, DataDir: t.TempDir(), OriginAddr: "127.0.0.1:0",
		NATSListen: "127.0.0.1:0", DeriveToken: "tok", Accounts: accts}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.NATSURL == "" {
		t.Fatal("no NATS URL for edges")
	}
	if _, err := app.Start(app.Config{Mode: app.Edge, DataDir: t.TempDir(), EdgeAddr: "127.0.0.1:0",
		OriginURL: o.OriginURL, DeriveToken: "wrong", NATSURL: o.NATSURL, Accounts: accts}, log); err == nil {
		t.Error("an edge with the wrong token connected to the origin's NATS")
	}
	e, err := app.Start(app.Config{Mode: app.Edge, DataDir: t.TempDir(), EdgeAddr: "127.0.0.1:0",
		OriginURL: o.OriginURL, DeriveToken: "tok", NATSURL: o.NATSURL, Accounts: accts}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cld := sdkForURL(t, o.OriginURL, strings.TrimPrefix(e.EdgeURL, "http://"))
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("p"))
	u := e.EdgeURL + "/demo/image/upload/c_scale,w_50/p.jpg"
	if resp, _ := get(t, u); resp.StatusCode != 200 {
		t.Fatalf("%d", resp.StatusCode)
	}
	if _, err := cld.Upload.Destroy(bg, uploader.DestroyParams{PublicID: "p"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the separate edge got the purge through the origin's NATS", func() bool {
		resp, _ := get(t, u)
		return resp.StatusCode == 404
	})
}
