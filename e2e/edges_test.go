package e2e

import (
	"context"
	"fmt"
	"image"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/internal/purge"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// cachedTwice fetches u twice and fails unless the second answer is a
// cache HIT.
func cachedTwice(t *testing.T, u string) {
	t.Helper()
	if resp, _ := get(t, u); resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", u, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	if resp, _ := get(t, u); resp.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("%s: second fetch not a HIT", u)
	}
}

// An edge that was stopped while assets were destroyed, renamed and
// overwritten with invalidate replays those purges when it starts again:
// none of them is served from its cache, while what was not purged still
// is.
func TestEdgeReplaysPurgesMissedWhileDown(t *testing.T) {
	ns := startNATSServer(t)
	o := startApp(t, app.Origin, ns.url(), t.TempDir())
	edgeData := t.TempDir()
	e := startApp(t, app.Edge, ns.url(), edgeData, func(c *app.Config) { c.OriginURL = o.OriginURL })
	cld := sdkForURL(t, o.OriginURL, strings.TrimPrefix(e.EdgeURL, "http://"))
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	for _, id := range []string{"gone", "moved", "over", "kept"} {
		upload(t, cld, snake, uploadParams(id))
	}
	path := func(id string) string { return "/demo/image/upload/c_scale,w_100/" + id + ".jpg" }
	awaitReady(t, "the edge is ready", e.EdgeURL)
	for _, id := range []string{"gone", "moved", "over", "kept"} {
		cachedTwice(t, e.EdgeURL+path(id))
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	if r, err := cld.Upload.Destroy(bg, uploader.DestroyParams{PublicID: "gone"}); err != nil || r.Result != "ok" {
		t.Fatalf("destroy: %v %+v", err, r)
	}
	if r, err := cld.Upload.Rename(bg, uploader.RenameParams{FromPublicID: "moved", ToPublicID: "moved2"}); err != nil || r.PublicID != "moved2" {
		t.Fatalf("rename: %v %+v", err, r)
	}
	upload(t, cld, fixtures.Path(t, "exif-orient1-synthetic-50x70.jpg"), uploader.UploadParams{PublicID: "over",
		Overwrite: api.Bool(true), Invalidate: api.Bool(true)})

	e = startApp(t, app.Edge, ns.url(), edgeData, func(c *app.Config) { c.OriginURL = o.OriginURL })
	awaitReady(t, "the restarted edge is ready", e.EdgeURL)
	for _, id := range []string{"gone", "moved"} {
		resp, _ := get(t, e.EdgeURL+path(id))
		if resp.StatusCode != 404 || resp.Header.Get("X-Cache") == "HIT" {
			t.Errorf("%s after a restart: %d, X-Cache %q; want 404 from the origin", id, resp.StatusCode, resp.Header.Get("X-Cache"))
		}
	}
	resp, body := get(t, e.EdgeURL+path("over"))
	cfg, _, _ := image.DecodeConfig(strings.NewReader(string(body)))
	if resp.Header.Get("X-Cache") == "HIT" || cfg.Height != 140 {
		t.Errorf("overwritten with invalidate: X-Cache %q, %dx%d; want the new 50x70 image scaled to 100x140",
			resp.Header.Get("X-Cache"), cfg.Width, cfg.Height)
	}
	if resp, _ := get(t, e.EdgeURL+path("kept")); resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "HIT" {
		t.Errorf("an asset no purge named: %d, X-Cache %q; want a HIT (the cache replays, it is not dropped)",
			resp.StatusCode, resp.Header.Get("X-Cache"))
	}
}

// An edge stopped for longer than the purge stream keeps purges cannot
// know what it missed: it drops its whole cache when it starts.
func TestEdgeDropsCacheAfterRetentionGap(t *testing.T) {
	ns := startNATSServer(t)
	o := startApp(t, app.Origin, ns.url(), t.TempDir(), func(c *app.Config) { c.PurgeRetention = 500 * time.Millisecond })
	edgeData := t.TempDir()
	e := startApp(t, app.Edge, ns.url(), edgeData, func(c *app.Config) { c.OriginURL = o.OriginURL })
	cld := sdkForURL(t, o.OriginURL, strings.TrimPrefix(e.EdgeURL, "http://"))
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	upload(t, cld, snake, uploadParams("a"))
	upload(t, cld, snake, uploadParams("b"))
	awaitReady(t, "the edge is ready", e.EdgeURL)
	pa, pb := "/demo/image/upload/c_scale,w_90/a.jpg", "/demo/image/upload/c_scale,w_90/b.jpg"
	cachedTwice(t, e.EdgeURL+pa)
	cachedTwice(t, e.EdgeURL+pb)
	e.Close()

	if _, err := cld.Upload.Destroy(bg, uploader.DestroyParams{PublicID: "a"}); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(ns.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	eventually(t, "the purge expires from the stream", func() bool {
		s, err := js.Stream(context.Background(), purge.Stream)
		if err != nil {
			return false
		}
		st := s.CachedInfo().State
		return st.LastSeq >= 1 && st.Msgs == 0
	})

	e = startApp(t, app.Edge, ns.url(), edgeData, func(c *app.Config) { c.OriginURL = o.OriginURL })
	awaitReady(t, "the restarted edge is ready", e.EdgeURL)
	if resp, _ := get(t, e.EdgeURL+pa); resp.StatusCode != 404 {
		t.Errorf("destroyed asset after the gap: %d %q", resp.StatusCode, resp.Header.Get("X-Cache"))
	}
	if resp, _ := get(t, e.EdgeURL+pb); resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "MISS" {
		t.Errorf("kept asset after the gap: %d, X-Cache %q; want a MISS (the whole cache dropped)", resp.StatusCode, resp.Header.Get("X-Cache"))
	}
}

// An edge given a DNS name resolving to two origins and a comma-separated
// second URL spreads its misses over both; with one killed, misses go on
// through the other at once; with both down the edge is unready, naming
// the origin, and ready again when one is back.
func TestEdgeWithSeveralOrigins(t *testing.T) {
	ns := startNATSServer(t)
	data := t.TempDir() // shared: both origins see every original
	o1 := startApp(t, app.Origin, ns.url(), data)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(o1.OriginURL, "http://"))
	addr2 := "127.0.0.2:" + port
	o2 := startApp(t, app.Origin, ns.url(), data, func(c *app.Config) { c.OriginAddr = addr2 })
	resolver := serveDNS(t, "origins.test", "127.0.0.1", "127.0.0.2")
	e := startApp(t, app.Edge, ns.url(), t.TempDir(), func(c *app.Config) {
		c.OriginURL = "http://origins.test:" + port + "," + o2.OriginURL
		c.Resolver = resolver
		c.HealthInterval = 2 * time.Second // failover, not the health check, moves misses off a dead origin
	})
	cld := sdkForURL(t, o1.OriginURL, strings.TrimPrefix(e.EdgeURL, "http://"))
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("s"))
	awaitReady(t, "the edge is ready", e.EdgeURL)
	miss := func(w int) int {
		resp, _ := get(t, fmt.Sprintf("%s/demo/image/upload/c_scale,w_%d/s.jpg", e.EdgeURL, w))
		if resp.StatusCode == 200 && resp.Header.Get("X-Cache") != "MISS" {
			t.Fatalf("w_%d: a HIT for a new URL", w)
		}
		return resp.StatusCode
	}
	for w := 10; w < 20; w++ {
		if st := miss(w); st != 200 {
			t.Fatalf("miss w_%d through two origins: %d", w, st)
		}
	}
	for i, o := range []*app.App{o1, o2} {
		if l := rendersTotal(t, o); l == "" || strings.HasSuffix(l, " 0") {
			t.Errorf("origin %d rendered nothing of 10 misses (%q): misses are not spread", i+1, l)
		}
	}

	o1.Close()
	for w := 20; w < 40; w++ {
		if st := miss(w); st != 200 {
			t.Fatalf("miss w_%d with the first origin killed: %d", w, st)
		}
	}
	if code, r := readyz(t, e.EdgeURL); code != 200 {
		t.Errorf("edge with one origin of two: %d %+v", code, r)
	}

	o2.Close()
	if st := miss(40); st != 502 {
		t.Errorf("miss with both origins down: %d, want 502", st)
	}
	r := awaitReady(t, "the edge is unready with no origin", e.EdgeURL, "origin")
	if len(r.Failing) != 1 || r.Checks["purges"] != "ok" {
		t.Errorf("only the origin should fail: %+v", r)
	}
	startApp(t, app.Origin, ns.url(), data, func(c *app.Config) { c.OriginAddr = addr2 })
	awaitReady(t, "the edge is ready again with an origin back", e.EdgeURL)
	if st := miss(41); st != 200 {
		t.Errorf("miss with the second origin back: %d", st)
	}
}

// /readyz on both servers names what is not ready: NATS stopped (and
// with it JetStream and the purge follower), the blob store gone; both
// come back.
func TestReadyzNamesTheFailingPart(t *testing.T) {
	ns := startNATSServer(t)
	data := t.TempDir()
	o := startApp(t, app.Origin, ns.url(), data)
	e := startApp(t, app.Edge, ns.url(), t.TempDir(), func(c *app.Config) {
		c.OriginURL = o.OriginURL
		c.MetricsAddr = "127.0.0.1:0"
	})
	metricsBase := strings.TrimSuffix(e.MetricsURL, "/metrics")
	ro := awaitReady(t, "the origin is ready", o.OriginURL)
	re := awaitReady(t, "the edge is ready", e.EdgeURL)
	if rm := awaitReady(t, "the edge's metrics listener says ready", metricsBase); rm.Checks["edge.purges"] != "ok" || rm.Checks["edge.origin"] != "ok" {
		t.Errorf("the metrics listener's /readyz: %+v", rm)
	}
	for _, c := range []struct {
		r    map[string]string
		want []string
	}{{ro.Checks, []string{"blob", "jetstream", "nats", "purges"}}, {re.Checks, []string{"jetstream", "nats", "origin", "purges"}}} {
		var got []string
		for k := range c.r {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("checks %v, want %v", got, c.want)
		}
	}
	if resp, body := get(t, e.EdgeURL+"/healthz"); resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}

	ns.stop()
	awaitReady(t, "the origin is unready without NATS", o.OriginURL, "nats", "jetstream")
	r := awaitReady(t, "the edge is unready without NATS", e.EdgeURL, "nats", "jetstream", "purges")
	if r.Checks["origin"] != "ok" {
		t.Errorf("an origin that answers, unready, still counts for the edge: %+v", r)
	}
	awaitReady(t, "the metrics listener is unready without NATS", metricsBase, "nats", "edge.purges")
	if resp, _ := get(t, e.EdgeURL+"/healthz"); resp.StatusCode != 200 {
		t.Errorf("/healthz is liveness, not readiness: %d", resp.StatusCode)
	}
	ns.start()
	awaitReady(t, "the origin is ready again with NATS back", o.OriginURL)
	awaitReady(t, "the edge is ready again with NATS back", e.EdgeURL)

	blobs := filepath.Join(data, "blobs")
	if err := os.Rename(blobs, blobs+".away"); err != nil {
		t.Fatal(err)
	}
	r = awaitReady(t, "the origin is unready without its blob store", o.OriginURL, "blob")
	if len(r.Failing) != 1 || strings.Contains(r.Checks["blob"], data) {
		t.Errorf("blob failure: %+v (only the blob store, and no path in the body)", r)
	}
	os.Rename(blobs+".away", blobs)
	awaitReady(t, "the origin is ready again with its blob store", o.OriginURL)
}

// The position an edge keeps in its cache survives kill -9 with the
// deletes before it: after the crash the cache is neither dropped nor
// serving a purged asset.
func TestEdgePositionSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	edgeAddr, originAddr := freeAddr(t), freeAddr(t)
	child := startChild(t, bin, data, edgeAddr, originAddr)
	cld := sdkForURL(t, "http://"+originAddr, edgeAddr)
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	upload(t, cld, snake, uploadParams("a"))
	upload(t, cld, snake, uploadParams("b"))
	awaitReady(t, "serve is ready", "http://"+edgeAddr)
	ua, ub := "http://"+edgeAddr+"/demo/image/upload/c_scale,w_80/a.jpg", "http://"+edgeAddr+"/demo/image/upload/c_scale,w_80/b.jpg"
	cachedTwice(t, ua)
	cachedTwice(t, ub)
	if _, err := cld.Upload.Destroy(bg, uploader.DestroyParams{PublicID: "a"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the destroyed asset leaves the edge", func() bool {
		resp, _ := get(t, ua)
		return resp.StatusCode == 404
	})
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()

	child = startChild(t, bin, data, edgeAddr, originAddr)
	defer func() {
		child.Process.Signal(syscall.SIGTERM)
		child.Wait()
	}()
	awaitReady(t, "serve is ready after kill -9", "http://"+edgeAddr)
	if resp, _ := get(t, ua); resp.StatusCode != 404 {
		t.Errorf("purged asset after kill -9: %d, X-Cache %q", resp.StatusCode, resp.Header.Get("X-Cache"))
	}
	if resp, _ := get(t, ub); resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "HIT" {
		t.Errorf("kept asset after kill -9: %d, X-Cache %q; want a HIT (position kept)", resp.StatusCode, resp.Header.Get("X-Cache"))
	}
}
