package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/admin"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/blob/s3test"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestScaleOut runs the scale-out topology of docs/deploy.md on loopback
// and breaks it: a 3-node JetStream cluster of real nats-server processes
// (built from the module cache, so a node dies by SIGKILL), everything at
// --nats-replicas 3; an S3 server (versitygw); two `edgepix origin`
// processes with data directories of their own; two edges (in-process,
// each given both origins).
//
//   - An upload through origin A is delivered through edge B.
//   - eager_async uploads go alternately to A and B while both take jobs.
//     Mid-way, origin A and the NATS node leading the JOBS stream are
//     killed with SIGKILL while uploads go on, then both restart (A on
//     its data directory and address). Every upload that was
//     acknowledged (200 with its batch) is listed by the Admin API and
//     delivered, original and eager derivative, through the edges; every
//     batch completes; every notification arrives with status complete
//     (a repeated one keeps its webhook-id). Uploads that were not
//     acknowledged got no answer (their origin died) or 503 with
//     Retry-After, never another error (they are signed HTTP posts, as
//     the SDK sends them, so that the test sees each status); one that
//     was stored all the same has its eager work done too.
//   - An asset cached by edge A is destroyed through origin B while edge
//     A is stopped: restarted on its cache, edge A answers 404 for it,
//     and still serves what no purge named from its cache.
//   - /readyz: with 2 of 3 NATS nodes killed (no JetStream quorum) origins
//     and edges are unready naming jetstream, and an upload answers 503
//     with Retry-After; with S3 stopped, the origins name the blob store;
//     all are ready again once the parts are back, and an upload
//     through B is delivered through A's edge.
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs edgepix, nats-server and an S3 server")
	}
	began := time.Now()
	step := func(format string, args ...any) {
		t.Helper()
		t.Logf("%5.1fs %s", time.Since(began).Seconds(), fmt.Sprintf(format, args...))
	}
	bin := buildBinary(t)
	natsBin := natsServerBinary(t)
	step("binaries built")

	s3 := s3test.Start(t)
	blobURL := s3.Bucket(t, "edgepix", "scaleout")
	for _, kv := range s3.Env() { // the origins inherit them
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ns := startNATSNodes(t, natsBin, 3)
	flags := []string{"--nats", ns.url(), "--nats-replicas", "3", "--blob", blobURL, "--derive-token", "tok",
		"--allow-private-webhooks", "--webhook-timeout", "2s",
		"--webhook-retries", "0s,300ms,500ms,1s,1s,2s,2s,2s,3s,3s,3s,5s,5s,5s,5s,5s,5s,5s,5s"}
	addrA, addrB := freeAddr(t), freeAddr(t)
	dataA := t.TempDir()
	originA := launchOrigin(t, bin, dataA, addrA, flags...)
	launchOrigin(t, bin, t.TempDir(), addrB, flags...)
	urlA, urlB := "http://"+addrA, "http://"+addrB
	edgeCfg := func(c *app.Config) {
		c.OriginURL, c.NATSReplicas, c.HealthInterval = urlA+","+urlB, 3, 500*time.Millisecond
	}
	dataEdgeA := t.TempDir()
	edgeA := startApp(t, app.Edge, ns.url(), dataEdgeA, edgeCfg)
	edgeB := startApp(t, app.Edge, ns.url(), t.TempDir(), edgeCfg)
	bases := func() []string { return []string{urlA, urlB, edgeA.EdgeURL, edgeB.EdgeURL} }
	for _, b := range bases() {
		awaitReadyWithin(t, b+" is ready", b, 90*time.Second)
	}
	// The SDK of origin A delivers through edge B, and B's through edge A.
	cldA := sdkForURL(t, urlA, strings.TrimPrefix(edgeB.EdgeURL, "http://"))
	cldB := sdkForURL(t, urlB, strings.TrimPrefix(edgeA.EdgeURL, "http://"))
	step("cluster up: 3 NATS nodes, S3, origins %s and %s, two edges", addrA, addrB)

	// Uploaded through origin A, delivered through edge B; cached by edge A.
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	upload(t, cldA, snake, uploader.UploadParams{PublicID: "scale/first"})
	for _, tx := range []string{"", "c_scale,w_120"} {
		resp, body := get(t, deliveryURL(t, cldA, "scale/first", tx, false))
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") || len(body) == 0 {
			t.Fatalf("delivery %q through edge B: %d %s", tx, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
		}
	}
	const doomed, kept = "/demo/image/upload/c_scale,w_120/scale/first.jpg", "/demo/image/upload/c_scale,w_90/scale/b00.jpg"
	cachedTwice(t, edgeA.EdgeURL+doomed)

	// eager_async uploads through both origins; origin A and the JOBS
	// stream's leader killed mid-way.
	rcv := newReceiver(t, cldA)
	storm := fixtures.Read(t, "photo-storm-1920x1280.jpg")
	const eager = "c_fill,w_400,h_300|c_scale,w_640/webp|e_grayscale,c_scale,w_240"
	var mu sync.Mutex
	acked := map[string]string{} // batch → public_id
	var refused []string
	send := func(i int) uploadAnswer {
		via := []string{urlA, urlB}[i%2]
		id := fmt.Sprintf("scale/b%02d", i)
		a := tryUpload(via, url.Values{"public_id": {id}, "eager": {eager}, "eager_async": {"true"},
			"eager_notification_url": {rcv.URL()}, "tags": {"scaleout"}}, storm)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case a.acknowledged() && a.batchOf() != "":
			acked[a.batchOf()] = id
		case a.acknowledged():
			t.Errorf("upload %s acknowledged without an eager batch: %v", id, a.body)
		case a.refusal() != "":
			t.Errorf("upload %s through %s refused wrongly: %s", id, via, a.refusal())
		default:
			refused = append(refused, fmt.Sprintf("%s via %s: %d %v", id, via, a.status, a.err))
		}
		return a
	}
	rendersA := metricValue(urlA, `edgepix_origin_renders_total{result="ok"}`)
	const before = 10
	acknowledge := func(i int, what string) { // a 503 (a busy machine) is retried
		t.Helper()
		var a uploadAnswer
		if !waitFor(t, fmt.Sprintf("upload %d %s", i, what), 90*time.Second, func() bool {
			a = send(i)
			return a.acknowledged()
		}) {
			t.Fatalf("upload %d %s: %d %v %v", i, what, a.status, a.body, a.err)
		}
	}
	for i := range before {
		acknowledge(i, "on a healthy cluster")
	}
	// Killed mid-batch: once A has begun rendering eager work.
	if !waitFor(t, "origin A renders eager work", 60*time.Second, func() bool {
		return metricValue(urlA, `edgepix_origin_renders_total{result="ok"}`) > rendersA
	}) {
		t.FailNow()
	}
	eagerJobs := func(base string) string { // for the log
		return strings.ReplaceAll(strings.Join(metricLines(base, `edgepix_jobs_total{kind="eager"`), " "), "edgepix_jobs_total", "")
	}
	jobsA, rendered := eagerJobs(urlA), metricValue(urlA, `edgepix_origin_renders_total{result="ok"}`)-rendersA

	// Uploads go on, alternately to both origins, through the kills.
	stop, attempts := make(chan struct{}), make(chan int, 100)
	var flow sync.WaitGroup
	flow.Go(func() {
		for i := before; i < before+40; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if a := send(i); !a.acknowledged() {
				time.Sleep(200 * time.Millisecond)
			}
			attempts <- i
		}
	})
	leader := streamLeader(t, ns.url(), "JOBS")
	if _, err := originA.stop(syscall.SIGKILL, 30*time.Second); err == nil {
		t.Fatal("origin A exited cleanly on SIGKILL")
	}
	ns.kill(leader)
	mu.Lock()
	step("kill -9 of origin A (%v renders of eager work done) and of NATS node n%d (JOBS leader): %d uploads acknowledged, %d eager notifications in",
		rendered, leader, len(acked), len(rcv.attempts()))
	mu.Unlock()
	for len(attempts) > 0 {
		<-attempts
	}
	// Let some uploads meet the outage (each origin at least once).
	for seen, deadline := 0, time.After(60*time.Second); seen < 4; {
		select {
		case <-attempts:
			seen++
		case <-deadline:
			t.Fatalf("the uploads stalled during the outage (%d attempts)", seen)
		}
	}
	// Meanwhile both edges deliver a miss, through origin B.
	for i, e := range []*app.App{edgeA, edgeB} {
		u := fmt.Sprintf("%s/demo/image/upload/c_scale,w_%d/scale/first.jpg", e.EdgeURL, 61+i)
		var resp *http.Response
		if !waitFor(t, "a miss delivered with origin A dead", 90*time.Second, func() bool {
			resp, _ = get(t, u)
			return resp.StatusCode == 200
		}) {
			t.Fatalf("%s with origin A dead: %d %s", u, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
		}
	}
	ns.start(leader)
	launchOrigin(t, bin, dataA, addrA, flags...) // on its data directory and address
	ns.waitHealthy(120 * time.Second)
	for _, b := range bases() {
		awaitReadyWithin(t, b+" is ready after the kills", b, 120*time.Second)
	}
	close(stop)
	flow.Wait()
	step("origin A and node n%d back: %d uploads acknowledged, %d not (%v)", leader, len(acked), len(refused), refused)
	// Once all is back, every upload is taken (after a 503, a retry).
	for i := before + 40; i < before+46; i++ {
		acknowledge(i, "after recovery")
	}

	// Every acknowledged batch completes and notifies; repeats keep the id.
	hookIDs := map[string]string{} // batch → webhook-id
	unacked := map[string]any{}    // public_id → status, of batches no upload acknowledged
	notified := 0                  // acknowledged batches notified
	deadline := time.After(240 * time.Second)
	for notified < len(acked) {
		select {
		case h := <-rcv.arrived:
			b, _ := h.Body["batch_id"].(string)
			if prev, ok := hookIDs[b]; ok && prev != h.ID {
				t.Errorf("batch %s notified under two webhook-ids: %s and %s", b, prev, h.ID)
			} else if !ok && acked[b] != "" {
				notified++
			}
			hookIDs[b] = h.ID
			id, ok := acked[b]
			if !ok { // an upload whose answer was lost in the kill
				unacked[fmt.Sprint(h.Body["public_id"])] = h.Body["status"]
				continue
			}
			if h.Body["notification_type"] != "eager" || h.Body["status"] != "complete" || h.Body["public_id"] != id {
				t.Errorf("eager notification of %s: %s", id, h.Raw)
			} else if eager, _ := h.Body["eager"].([]any); len(eager) != 3 {
				t.Errorf("eager notification of %s with %d results: %s", id, len(eager), h.Raw)
			}
		case <-deadline:
			var missing []string
			for b, id := range acked {
				if _, ok := hookIDs[b]; !ok {
					missing = append(missing, id+" "+fmt.Sprint(batchStatusAt(t, urlB, b)))
				}
			}
			t.Fatalf("%d of %d acknowledged batches notified within 240 s; missing: %v", notified, len(acked), missing)
		}
	}
	for _, h := range rcv.attempts() {
		if b, _ := h.Body["batch_id"].(string); hookIDs[b] != "" && hookIDs[b] != h.ID {
			t.Errorf("batch %s notified under two webhook-ids: %s and %s", b, h.ID, hookIDs[b])
		}
	}
	step("%d acknowledged batches complete and notified (%d attempts in all; unacknowledged uploads notified: %v); eager jobs done by A before its kill [%s], by A since [%s], by B [%s]",
		notified, len(rcv.attempts()), unacked, jobsA, eagerJobs(urlA), eagerJobs(urlB))
	for b, id := range acked {
		for _, o := range []string{urlA, urlB} {
			if st := batchStatusAt(t, o, b); st["status"] != "complete" {
				t.Errorf("batch of %s through %s: %v", id, o, st)
			}
		}
	}

	// Every acknowledged upload is listed and delivered through both edges.
	listed := map[string]bool{}
	for cursor := ""; ; {
		res, err := cldB.Admin.Assets(bg, admin.AssetsParams{AssetType: api.Image, DeliveryType: "upload",
			Prefix: "scale/b", MaxResults: 100, NextCursor: cursor})
		if err != nil || res.Error.Message != "" {
			t.Fatalf("listing: %v %+v", err, res.Error)
		}
		for _, a := range res.Assets {
			listed[a.PublicID] = true
		}
		if cursor = res.NextCursor; cursor == "" {
			break
		}
	}
	for _, id := range sortedValues(acked) {
		if !listed[id] {
			t.Errorf("acknowledged upload %s is not listed", id)
		}
		for _, u := range []string{deliveryURL(t, cldA, id, "", false), deliveryURL(t, cldB, id, "c_fill,w_400,h_300", false)} {
			if resp, body := get(t, u); resp.StatusCode != 200 || len(body) == 0 {
				t.Errorf("acknowledged upload %s: %s answers %d %s", id, u, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
			}
		}
	}
	// An upload whose answer was lost yet which was stored has its work
	// done too: never an asset without the work it was taken for.
	ackedIDs := map[string]bool{}
	for _, id := range acked {
		ackedIDs[id] = true
	}
	for id := range listed {
		if ackedIDs[id] {
			continue
		}
		waitFor(t, "the eager work of "+id+", stored though its upload was not acknowledged", 120*time.Second, func() bool {
			for _, h := range rcv.attempts() {
				if h.Body["public_id"] == id && h.Body["status"] == "complete" {
					return true
				}
			}
			return false
		})
	}
	step("%d acknowledged uploads listed (%d listed in all) and delivered", len(acked), len(listed))
	if t.Failed() {
		t.FailNow()
	}

	// Destroyed through origin B while edge A is stopped: gone from edge A
	// once it is back, while what no purge named is still cached.
	cachedTwice(t, edgeA.EdgeURL+kept)
	if resp, _ := get(t, edgeA.EdgeURL+doomed); resp.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("edge A does not hold %s: X-Cache %q", doomed, resp.Header.Get("X-Cache"))
	}
	if err := edgeA.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err := cldB.Upload.Destroy(bg, uploader.DestroyParams{PublicID: "scale/first"}); err != nil || r.Result != "ok" {
		t.Fatalf("destroy through origin B: %v %+v", err, r)
	}
	edgeA = startApp(t, app.Edge, ns.url(), dataEdgeA, edgeCfg)
	awaitReadyWithin(t, "edge A is ready after its restart", edgeA.EdgeURL, 90*time.Second)
	cldB = sdkForURL(t, urlB, strings.TrimPrefix(edgeA.EdgeURL, "http://")) // on a new port
	if resp, _ := get(t, edgeA.EdgeURL+doomed); resp.StatusCode != 404 || resp.Header.Get("X-Cache") == "HIT" {
		t.Errorf("restarted edge A serves the asset destroyed while it was down: %d, X-Cache %q", resp.StatusCode, resp.Header.Get("X-Cache"))
	}
	if resp, _ := get(t, edgeA.EdgeURL+kept); resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "HIT" {
		t.Errorf("restarted edge A lost what no purge named: %d, X-Cache %q", resp.StatusCode, resp.Header.Get("X-Cache"))
	}
	step("destroyed while edge A was down: gone from it after its restart")

	// /readyz: JetStream without quorum, then the blob store down.
	ns.kill((leader + 1) % 3)
	ns.kill((leader + 2) % 3)
	for _, b := range bases() {
		r := awaitReadyWithin(t, b+" is unready without a JetStream quorum", b, 90*time.Second, "jetstream")
		step("%s without quorum: failing %v", b, r.Failing)
	}
	if a := tryUpload(urlB, url.Values{"public_id": {"scale/noquorum"}}, storm); a.status != 503 || a.retryAfter == "" {
		t.Errorf("upload without a JetStream quorum: %d (Retry-After %q) %v %v; want 503 with Retry-After", a.status, a.retryAfter, a.body, a.err)
	}
	ns.start((leader + 1) % 3)
	ns.start((leader + 2) % 3)
	ns.waitHealthy(120 * time.Second)
	for _, b := range bases() {
		awaitReadyWithin(t, b+" is ready with the quorum back", b, 120*time.Second)
	}
	step("quorum back: all ready")
	s3.Stop()
	for _, b := range []string{urlA, urlB} {
		if r := awaitReadyWithin(t, b+" is unready without S3", b, 90*time.Second, "blob"); slices.Contains(r.Failing, "jetstream") {
			t.Errorf("%s blames JetStream for S3: %+v", b, r)
		}
	}
	if err := s3.Restart(); err != nil {
		t.Fatal(err)
	}
	for _, b := range bases() {
		awaitReadyWithin(t, b+" is ready with S3 back", b, 90*time.Second)
	}
	upload(t, cldB, snake, uploader.UploadParams{PublicID: "scale/last"})
	if resp, _ := get(t, deliveryURL(t, cldB, "scale/last", "c_scale,w_70", false)); resp.StatusCode != 200 {
		t.Errorf("after it all, an upload through B delivered through edge A: %d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	step("S3 back: all ready; the scale-out test took %v", time.Since(began).Round(time.Second))
}

// streamLeader is the index of the NATS node (named n<i>) leading stream.
func streamLeader(t *testing.T, natsURL, stream string) int {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info := s.CachedInfo()
	if info.Cluster == nil || info.Config.Replicas != 3 {
		t.Fatalf("stream %s: %d replicas, cluster %+v; want 3", stream, info.Config.Replicas, info.Cluster)
	}
	var i int
	if _, err := fmt.Sscanf(info.Cluster.Leader, "n%d", &i); err != nil {
		t.Fatalf("stream %s leader %q", stream, info.Cluster.Leader)
	}
	return i
}

// metricValue returns the value of a /metrics line (0 if none or the
// server does not answer).
func metricValue(base, series string) float64 {
	var v float64
	for _, l := range metricLines(base, series+" ") {
		fmt.Sscan(strings.TrimSpace(strings.TrimPrefix(l, series)), &v)
	}
	return v
}

// metricLines returns the lines of base's /metrics starting with prefix
// (nil if it does not answer).
func metricLines(base, prefix string) []string {
	cl := &http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Get(base + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func sortedValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
