package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/admin"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/nats-io/nats-server/v2/server"
)

// shutdownTimeout is the --shutdown-timeout of these tests; a process
// must exit within it plus one second of margin.
const shutdownTimeout = 3 * time.Second

var timeoutFlag = []string{"--shutdown-timeout", shutdownTimeout.String()}

// hookRecv receives webhooks, keeping each one's webhook-id and body;
// while holding, it answers nothing until the sender goes away.
type hookRecv struct {
	mu      sync.Mutex
	got     []hookSeen
	holding bool
	arrived chan hookSeen
	srv     *httptest.Server
}

type hookSeen struct {
	id   string
	body map[string]any
}

// newHookRecv starts a receiver; make it before the process that sends
// to it, so that it is closed after that process is gone.
func newHookRecv(t *testing.T, holding bool) *hookRecv {
	r := &hookRecv{holding: holding, arrived: make(chan hookSeen, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		h := hookSeen{id: req.Header.Get("webhook-id")}
		json.Unmarshal(b, &h.body)
		r.mu.Lock()
		r.got = append(r.got, h)
		hold := r.holding
		r.mu.Unlock()
		r.arrived <- h
		if hold {
			<-req.Context().Done() // the sender gave up or exited
			return
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookRecv) url() string { return r.srv.URL + "/hook" }

func (r *hookRecv) hold(on bool) {
	r.mu.Lock()
	r.holding = on
	r.mu.Unlock()
}

// next returns the next notification to arrive (held or not).
func (r *hookRecv) next(t *testing.T, what string) hookSeen {
	t.Helper()
	select {
	case h := <-r.arrived:
		return h
	case <-time.After(60 * time.Second):
		t.Fatalf("no %s notification within 60 s", what)
		return hookSeen{}
	}
}

// checkExit asserts that the process exited within the deadline plus a
// second, and that its log names what it abandoned or handed back.
func checkExit(t *testing.T, p *proc, took time.Duration, names ...string) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(p.log.String(), "\n") {
		if strings.Contains(l, "shut") || strings.Contains(l, "abandoned") || strings.Contains(l, "interrupted") {
			lines = append(lines, l)
		}
	}
	t.Logf("exit %v after SIGTERM:\n%s", took, strings.Join(lines, "\n"))
	// The bound the process keeps is its own account of the shutdown (from
	// the signal to the last step, which its phases' deadlines enforce);
	// the exit itself (freeing mapped memory, reaping) may come later on a
	// loaded machine, and p.stop fails a process that never exits.
	ended := p.logLines(`"msg":"shutdown `)
	var rec struct{ Took time.Duration }
	if len(ended) == 0 || json.Unmarshal([]byte(ended[len(ended)-1]), &rec) != nil {
		t.Errorf("no shutdown record with its duration in the log")
	} else if rec.Took > shutdownTimeout+time.Second {
		t.Errorf("shutdown took %v, deadline %v", rec.Took, shutdownTimeout)
	}
	for _, n := range names {
		if len(p.logLines(n)) == 0 {
			t.Errorf("no log line %q; shutdown log:\n%s", n, strings.Join(p.logLines("shut"), "\n"))
		}
	}
}

// TestShutdown stops `edgepix serve` with SIGTERM in the states of issue
// 15: it always exits within --shutdown-timeout (+1 s), says what it
// abandoned, and loses nothing it had acknowledged.
func TestShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")

	// The data folder removed under a running process: Badger's memtable
	// flush retries forever; the edge cache is abandoned.
	t.Run("data folder deleted", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		p := launch(t, bin, data, nil, nil, timeoutFlag...)
		cld := p.sdk()
		upload(t, cld, snake, uploadParams("gone"))
		for _, w := range []int{10, 20, 30, 40} {
			if resp, _ := get(t, deliveryURL(t, cld, "gone", fmt.Sprintf("c_scale,w_%d", w), false)); resp.StatusCode != 200 {
				t.Fatalf("delivery: %d", resp.StatusCode)
			}
		}
		if err := os.RemoveAll(data); err != nil {
			t.Fatal(err)
		}
		took, err := p.stop(syscall.SIGTERM, shutdownTimeout+10*time.Second)
		// The cache is left behind either by the close step's deadline
		// ("abandoned edge cache") or, when a write already found the folder
		// gone, by the cache itself ("edge cache abandoned").
		checkExit(t, p, took)
		if len(p.logLines(`"abandoned edge cache"`))+len(p.logLines("edge cache abandoned")) == 0 {
			t.Errorf("no log line says the edge cache was abandoned:\n%s", strings.Join(p.logLines("shut"), "\n"))
		}
		if err == nil {
			t.Error("exit status 0 after abandoning the cache")
		}
		launch(t, bin, data, p, nil, timeoutFlag...).stop(syscall.SIGTERM, shutdownTimeout+10*time.Second)
	})

	// A webhook receiver that never answers and an eager job rendering:
	// both are handed back to their queues at the drain deadline (or the
	// job is abandoned), and after a restart the notification comes again
	// with the same webhook-id and the job completes.
	t.Run("slow webhook and job in flight", func(t *testing.T) {
		rcv := newHookRecv(t, true)
		data := t.TempDir()
		flags := append([]string{"--webhook-timeout", "1m"}, timeoutFlag...)
		p := launch(t, bin, data, nil, nil, flags...)
		cld := p.sdk()
		upload(t, cld, snake, uploader.UploadParams{PublicID: "hooked", NotificationURL: rcv.url()})
		held := rcv.next(t, "upload (held)")
		res := upload(t, cld, fixtures.Path(t, "photo-flower-1600x1203-progressive.jpg"), uploader.UploadParams{
			PublicID: "heavy", Eager: "e_blur:2000|e_blur:1999", EagerAsync: api.Bool(true),
			EagerNotificationURL: rcv.url()})
		batch := raw(res.Response)["eager"].([]any)[0].(map[string]any)["batch_id"].(string)
		eventually(t, "the eager job runs", func() bool { return batchStatusAt(t, "http://"+p.origin, batch)["status"] == "processing" })
		took, _ := p.stop(syscall.SIGTERM, shutdownTimeout+10*time.Second)
		checkExit(t, p, took, "interrupted webhook deliveries")
		if len(p.logLines("interrupted jobs")) == 0 && len(p.logLines(`"abandoned jobs"`)) == 0 {
			t.Errorf("the running job is neither handed back nor abandoned in the log")
		}

		rcv.hold(false)
		p = launch(t, bin, data, p, nil, flags...)
		defer p.stop(syscall.SIGTERM, shutdownTimeout+10*time.Second)
		var again, eager bool
		for !again || !eager {
			h := rcv.next(t, "redelivered")
			switch h.body["notification_type"] {
			case "upload":
				if h.body["public_id"] == "hooked" {
					again = true
					if h.id != held.id {
						t.Errorf("redelivered under webhook-id %s, first %s", h.id, held.id)
					}
				}
			case "eager":
				eager = h.body["batch_id"] == batch
			}
		}
		if st := batchStatusAt(t, "http://"+p.origin, batch); st["status"] != "complete" {
			t.Errorf("eager batch after restart: %v", st)
		}
	})

	// NATS (external, --nats) gone before the signal.
	t.Run("nats unreachable", func(t *testing.T) {
		port := freeAddr(t)[len("127.0.0.1:"):]
		store := t.TempDir()
		startNATS := func() *server.Server {
			n, _ := strconv.Atoi(port)
			ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: n, JetStream: true, StoreDir: store,
				NoSigs: true, NoLog: true})
			if err != nil {
				t.Fatal(err)
			}
			ns.Start()
			if !ns.ReadyForConnections(10 * time.Second) {
				t.Fatal("nats did not start")
			}
			return ns
		}
		ns := startNATS()
		rcv := newHookRecv(t, false)
		data := t.TempDir()
		flags := append([]string{"--nats", "nats://127.0.0.1:" + port}, timeoutFlag...)
		p := launch(t, bin, data, nil, nil, flags...)
		cld := p.sdk()
		upload(t, cld, snake, uploadParams("kept"))
		res := upload(t, cld, snake, uploader.UploadParams{PublicID: "queued", Eager: "c_scale,w_50",
			EagerAsync: api.Bool(true), EagerNotificationURL: rcv.url()})
		batch := raw(res.Response)["eager"].([]any)[0].(map[string]any)["batch_id"].(string)
		ns.Shutdown()
		ns.WaitForShutdown()
		took, _ := p.stop(syscall.SIGTERM, shutdownTimeout+10*time.Second)
		checkExit(t, p, took, "shutdown")

		ns = startNATS()
		defer ns.Shutdown()
		p = launch(t, bin, data, p, nil, flags...)
		defer p.stop(syscall.SIGTERM, shutdownTimeout+10*time.Second)
		for _, id := range []string{"kept", "queued"} {
			if resp, _ := get(t, deliveryURL(t, cld, id, "c_scale,w_20", false)); resp.StatusCode != 200 {
				t.Errorf("%s after restart: %d", id, resp.StatusCode)
			}
		}
		for h := rcv.next(t, "eager"); h.body["batch_id"] != batch; h = rcv.next(t, "eager") {
		}
		if st := batchStatusAt(t, "http://"+p.origin, batch); st["status"] != "complete" {
			t.Errorf("eager batch after restart: %v", st)
		}
	})

	// A second signal ends the process at once, here while the drain waits
	// for an upload whose body never comes.
	t.Run("second signal", func(t *testing.T) {
		p := launch(t, bin, t.TempDir(), nil, nil, "--shutdown-timeout", "2m")
		c, err := net.Dial("tcp", p.origin)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprint(c, "POST /v1_1/demo/image/upload HTTP/1.1\r\nHost: x\r\n"+
			"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n--b\r\n")
		p.cmd.Process.Signal(syscall.SIGTERM)
		if !p.waitLog("shutting down", 30*time.Second) {
			t.Fatal("no shutdown after SIGTERM")
		}
		time.Sleep(time.Second)
		if !p.alive() {
			t.Fatal("the first signal did not wait for the upload in flight")
		}
		took, err := p.stop(syscall.SIGTERM, 10*time.Second)
		t.Logf("exit %v after the second signal", took)
		if err == nil || len(p.logLines("second signal")) == 0 {
			t.Errorf("after a second signal: exit %v, log %q", err, p.logLines("second signal"))
		}
	})

	// A full disk (a small tmpfs): the edge cache, NATS's file store and
	// the blob store cannot write.
	t.Run("disk full", func(t *testing.T) {
		mnt := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mnt).CombinedOutput(); err != nil {
			t.Skipf("cannot mount a tmpfs: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
		data := filepath.Join(mnt, "data")
		p := launch(t, bin, data, nil, nil, timeoutFlag...)
		cld := p.sdk()
		upload(t, cld, snake, uploadParams("before"))
		get(t, deliveryURL(t, cld, "before", "c_scale,w_30", false))
		filler, err := os.Create(filepath.Join(mnt, "filler"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(filler, zeros{}) // until ENOSPC
		filler.Close()
		during, err := cld.Upload.Upload(bg, snake, uploadParams("during"))
		acked := err == nil && during.Error.Message == ""
		t.Logf("upload on a full disk: acknowledged %v (%v %s)", acked, err, during.Error.Message)
		for _, w := range []int{40, 50} { // cache writes on a full disk
			get(t, deliveryURL(t, cld, "before", fmt.Sprintf("c_scale,w_%d", w), false))
		}
		if !p.alive() {
			t.Fatalf("died on a full disk: %v", p.err)
		}
		took, _ := p.stop(syscall.SIGTERM, shutdownTimeout+10*time.Second)
		checkExit(t, p, took, "shutdown")

		os.Remove(filepath.Join(mnt, "filler"))
		p = launch(t, bin, data, p, nil, timeoutFlag...)
		defer p.stop(syscall.SIGTERM, shutdownTimeout+10*time.Second)
		want := []string{"before"}
		if acked {
			want = append(want, "during")
		}
		list, err := cld.Admin.Assets(bg, admin.AssetsParams{AssetType: api.Image})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, a := range list.Assets {
			got[a.PublicID] = true
		}
		for _, id := range want {
			if resp, _ := get(t, deliveryURL(t, cld, id, "c_scale,w_20", false)); !got[id] || resp.StatusCode != 200 {
				t.Errorf("%s, acknowledged before the disk filled, after restart: listed %v, delivery %d", id, got[id], resp.StatusCode)
			}
		}
	})
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}
