package e2e

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgepix/edgepix/blob"
	"github.com/edgepix/edgepix/edge"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/internal/natsembed"
	"github.com/edgepix/edgepix/origin"
	"github.com/valyala/fasthttp"
)

// With the origin gone, the edge keeps serving what it has cached and
// answers misses with 502 and X-Cld-Error; HEAD and fl_attachment work.
func TestEdgeWithOriginDown(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	nc, err := natsembed.Start("", filepath.Join(dir, "nats"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	assets, err := origin.NewAssetStore(context.Background(), nc.JS)
	if err != nil {
		t.Fatal(err)
	}
	blobs, _ := blob.NewFS(filepath.Join(dir, "blobs"))
	o := origin.New(origin.Config{PublicURL: "http://edge", DeriveToken: "tok"}, []origin.Account{testAccount}, assets, blobs, log)
	oln, _ := net.Listen("tcp", "127.0.0.1:0")
	osrv := &fasthttp.Server{Handler: o.Handler, MaxRequestBodySize: o.MaxRequestBody()}
	go osrv.Serve(oln)

	e, err := edge.New(edge.Config{OriginURL: "http://" + oln.Addr().String(), DeriveToken: "tok",
		CacheDir: filepath.Join(dir, "cache"), Secrets: map[string]string{"demo": testAccount.APISecret}}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	eln, _ := net.Listen("tcp", "127.0.0.1:0")
	esrv := &fasthttp.Server{Handler: e.Handler}
	go esrv.Serve(eln)
	defer esrv.Shutdown()
	base := "http://" + eln.Addr().String() + "/demo/image/upload/"

	// Upload through the real API with the SDK.
	cld := sdkForURL(t, "http://"+oln.Addr().String(), eln.Addr().String())
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("snake"))

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

	osrv.Shutdown()
	time.Sleep(50 * time.Millisecond)
	if resp, _ := get(t, base+"c_scale,w_60,fl_attachment/snake.jpg"); resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("cached entry with the origin down: %d", resp.StatusCode)
	}
	resp, _ = get(t, base+"c_scale,w_61/snake.jpg")
	if resp.StatusCode != 502 || resp.Header.Get("X-Cld-Error") == "" {
		t.Fatalf("miss with the origin down: %d %q", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
}
