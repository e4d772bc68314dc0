package e2e

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/origin"
	"github.com/nats-io/nats-server/v2/server"
)

// TestOriginsShareTheQueue runs two `edgepix origin` processes on one
// external NATS and one data directory: jobs queued through the first are
// finished by the second after the first stops, and an edge started
// with --nats receives the purges of either.
func TestOriginsShareTheQueue(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: filepath.Join(t.TempDir(), "js"), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	data := t.TempDir()
	cfg := func() app.Config {
		return app.Config{Mode: app.Origin, DataDir: data, OriginAddr: "127.0.0.1:0", NATSURL: ns.ClientURL(),
			Accounts: []origin.Account{testAccount}, AllowPrivateHooks: true, DeriveToken: "tok",
			WebhookRetries: []time.Duration{0, 100 * time.Millisecond}}
	}
	first, err := app.Start(cfg(), log)
	if err != nil {
		t.Fatal(err)
	}
	second, err := app.Start(cfg(), log)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	e, err := app.Start(app.Config{Mode: app.Edge, DataDir: t.TempDir(), EdgeAddr: "127.0.0.1:0", NATSURL: ns.ClientURL(),
		OriginURL: second.OriginURL, DeriveToken: "tok", Accounts: []origin.Account{testAccount},
		MetricsAddr: "127.0.0.1:0"}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	cld := sdkForURL(t, first.OriginURL, e.EdgeURL[len("http://"):])
	rcv := newReceiver(t, cld)
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	for i := range 6 {
		upload(t, cld, snake, uploader.UploadParams{PublicID: fmt.Sprintf("shared%d", i),
			Eager: "c_fill,w_90,h_90|c_scale,w_45", EagerAsync: api.Bool(true), EagerNotificationURL: rcv.URL()})
	}
	first.Close() // whatever it had not finished goes back to the queue
	seen := map[string]bool{}
	for len(seen) < 6 {
		h := rcv.wait("eager (shared queue)")
		seen[h.Body["public_id"].(string)] = true
	}

	// Purges cross processes: destroy on the second origin empties the edge.
	u := e.EdgeURL + "/demo/image/upload/c_scale,w_45/shared0.jpg"
	if resp, _ := get(t, u); resp.StatusCode != 200 {
		t.Fatalf("delivery through the separate edge: %d", resp.StatusCode)
	}
	cld2 := sdkForURL(t, second.OriginURL, e.EdgeURL[len("http://"):])
	if r, err := cld2.Upload.Destroy(bg, uploader.DestroyParams{PublicID: "shared0"}); err != nil || r.Result != "ok" {
		t.Fatalf("destroy: %v %+v", err, r)
	}
	eventually(t, "the separate edge drops a destroyed asset", func() bool {
		resp, _ := get(t, u)
		return resp.StatusCode == 404
	})
	if t.Failed() {
		_, m := get(t, e.MetricsURL)
		for _, l := range strings.Split(string(m), "\n") {
			if strings.HasPrefix(l, "edgepix_edge") {
				t.Log(l)
			}
		}
		resp, _ := get(t, u)
		t.Log(resp.StatusCode, resp.Header.Get("X-Cache"), resp.Header.Get("X-Cld-Error"))
	}
}
