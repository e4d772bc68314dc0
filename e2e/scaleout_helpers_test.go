package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/health"
	"github.com/edgepix/edgepix/internal/testport"
)

// The helpers of TestScaleOut: a NATS cluster of real nats-server child
// processes (so that a node can be killed with SIGKILL), `edgepix origin`
// child processes, and waits and requests that tolerate a server that
// is down.

const natsServerPkg = "github.com/nats-io/nats-server/v2"

// natsServerBinary returns a nats-server built from the module cache at
// the version go.mod requires (no download: it is a dependency), kept in
// the user cache dir like the S3 test server so that later runs reuse it.
func natsServerBinary(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..") // the module that requires it
	list := exec.Command("go", "list", "-m", "-f", "{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}", natsServerPkg)
	list.Dir = root
	out, err := list.Output()
	version := strings.TrimSpace(string(out))
	if err != nil || version == "" {
		t.Fatalf("the nats-server version go.mod requires: %v %s", err, out)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "edgepix", "tools", "nats-server-"+version)
	bin := filepath.Join(dir, "nats-server")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err == nil { // built by another test binary meanwhile
		return bin
	}
	tmp := filepath.Join(dir, fmt.Sprintf("build-%d", os.Getpid()))
	defer os.Remove(tmp)
	cmd := exec.Command("go", "build", "-o", tmp, natsServerPkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building nats-server %s: %v\n%s", version, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// natsNodes is a JetStream cluster of nats-server processes on loopback.
type natsNodes struct {
	t     *testing.T
	bin   string
	dir   string
	ports [][3]int // client, route, monitoring
	mu    sync.Mutex
	cmds  []*exec.Cmd // nil while a node is down
	done  []chan struct{}
}

// startNATSNodes runs n nats-server processes routed together and waits
// until every one says it is healthy (JetStream meta leader known and
// current). They are killed at the end of the test.
func startNATSNodes(t *testing.T, bin string, n int) *natsNodes {
	t.Helper()
	c := &natsNodes{t: t, bin: bin, dir: t.TempDir(), cmds: make([]*exec.Cmd, n), done: make([]chan struct{}, n)}
	for range n {
		c.ports = append(c.ports, [3]int{testport.Free(t), testport.Free(t), testport.Free(t)})
	}
	for i := range n {
		c.start(i)
	}
	t.Cleanup(func() {
		for i := range n {
			c.kill(i)
		}
		if t.Failed() {
			c.logs()
		}
	})
	c.waitHealthy(60 * time.Second)
	return c
}

// start runs node i (again: same ports, same store).
func (c *natsNodes) start(i int) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmds[i] != nil {
		return
	}
	var routes []string
	for _, p := range c.ports {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p[1]))
	}
	p := c.ports[i]
	node := filepath.Join(c.dir, fmt.Sprintf("n%d", i))
	cmd := exec.Command(c.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(p[0]), "-m", strconv.Itoa(p[2]),
		"-n", fmt.Sprintf("n%d", i), "-js", "-sd", node, "--cluster_name", "edgepix-scaleout",
		"--cluster", fmt.Sprintf("nats://127.0.0.1:%d", p[1]), "--routes", strings.Join(routes, ","),
		"-l", node+".log")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	c.cmds[i], c.done[i] = cmd, done
}

// kill sends SIGKILL to node i and waits for it to exit.
func (c *natsNodes) kill(i int) {
	c.mu.Lock()
	cmd, done := c.cmds[i], c.done[i]
	c.cmds[i] = nil
	c.mu.Unlock()
	if cmd != nil {
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

// url lists every node's client URL (a client takes it as its server list).
func (c *natsNodes) url() string {
	var urls []string
	for _, p := range c.ports {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", p[0]))
	}
	return strings.Join(urls, ",")
}

// healthy reports whether node i's monitoring /healthz answers 200 (for
// a clustered node: JetStream has a meta leader and its assets are
// current).
func (c *natsNodes) healthy(i int) bool {
	cl := &http.Client{Timeout: 3 * time.Second}
	resp, err := cl.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", c.ports[i][2]))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// waitHealthy waits until every running node is healthy.
func (c *natsNodes) waitHealthy(d time.Duration) {
	c.t.Helper()
	if !waitFor(c.t, "the NATS nodes are healthy", d, func() bool {
		for i := range c.ports {
			c.mu.Lock()
			up := c.cmds[i] != nil
			c.mu.Unlock()
			if up && !c.healthy(i) {
				return false
			}
		}
		return true
	}) {
		c.t.FailNow() // the cleanup shows the logs
	}
}

// logs shows the end of every node's log.
func (c *natsNodes) logs() {
	for i := range c.ports {
		log, _ := os.ReadFile(filepath.Join(c.dir, fmt.Sprintf("n%d.log", i)))
		c.t.Logf("nats node n%d log:\n%s", i, tail(string(log), 40))
	}
}

// waitFor polls cond every 100 ms for up to d and reports whether it
// held; a failure is reported with Errorf (the caller decides whether to
// go on).
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) bool {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(100 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			t.Errorf("not within %v: %s", d, what)
			return false
		}
	}
}

// launchOrigin runs `edgepix origin` on data, listening on addr, and
// waits until it answers /healthz. It is killed at the end of the test.
func launchOrigin(t *testing.T, bin, data, addr string, flags ...string) *proc {
	t.Helper()
	p := &proc{t: t, log: &logBuf{}, exited: make(chan struct{}), origin: addr}
	p.start(append([]string{bin, "origin", "--data", data, "--origin-addr", addr, "--log-level", "info"}, flags...),
		"edgepix origin "+addr)
	deadline := time.Now().Add(90 * time.Second)
	for !p.healthy(addr) {
		if !p.alive() {
			t.Fatalf("edgepix origin exited at start: %v\n%s", p.err, tail(p.log.String(), 20))
		}
		if time.Now().After(deadline) {
			t.Fatalf("edgepix origin did not come up on %s\n%s", addr, tail(p.log.String(), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p
}

// readyzAt returns base's /readyz status and report; err when the server
// does not answer.
func readyzAt(base string) (int, health.Report, error) {
	var r health.Report
	cl := &http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Get(base + "/readyz")
	if err != nil {
		return 0, r, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return resp.StatusCode, r, err
	}
	return resp.StatusCode, r, nil
}

// awaitReadyWithin is awaitReady with a deadline of d: until base's
// /readyz says ready (no failing given), or unready with every part in
// failing named.
func awaitReadyWithin(t *testing.T, what, base string, d time.Duration, failing ...string) health.Report {
	t.Helper()
	var r health.Report
	var code int
	var err error
	if !waitFor(t, what, d, func() bool {
		code, r, err = readyzAt(base)
		if err != nil {
			return false
		}
		if len(failing) == 0 {
			return code == 200 && r.Status == "ready"
		}
		for _, f := range failing {
			if !strings.Contains(","+strings.Join(r.Failing, ",")+",", ","+f+",") {
				return false
			}
		}
		return code == 503 && r.Status == "unready"
	}) {
		t.Fatalf("%s: %d %+v %v", what, code, r, err)
	}
	return r
}

// uploadAnswer is the outcome of one signed upload request.
type uploadAnswer struct {
	status     int // 0: no answer (err)
	retryAfter string
	body       map[string]any
	err        error
}

// tryUpload sends a signed upload, as the SDK does, and returns whatever
// happened, a dead origin included.
func tryUpload(originURL string, params url.Values, file []byte) uploadAnswer {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	req := signedUpload(ctx, originURL, params, file)
	cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := cl.Do(req)
	if err != nil {
		return uploadAnswer{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	a := uploadAnswer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), err: err}
	if err == nil {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			a.err = fmt.Errorf("answer %d: %q", resp.StatusCode, raw)
		}
	}
	return a
}

// acknowledged reports whether the upload was taken: 200 with the asset
// and, when eager work was asked for, its batch.
func (a uploadAnswer) acknowledged() bool {
	return a.err == nil && a.status == 200 && a.body["public_id"] != nil
}

// refusal says what is wrong with a refused upload, or "" if it was
// refused as a client may expect during a fault: no answer (the origin
// died) or 503 with Retry-After.
func (a uploadAnswer) refusal() string {
	switch {
	case a.err != nil && a.status == 0:
		var ne interface{ Timeout() bool }
		if errors.As(a.err, &ne) && ne.Timeout() {
			return "no answer within 90 s: " + a.err.Error()
		}
		return ""
	case a.status == 503 && a.retryAfter != "":
		return ""
	default:
		return fmt.Sprintf("%d (Retry-After %q) %v %v", a.status, a.retryAfter, a.body, a.err)
	}
}

// batchOf is the eager batch id of an acknowledged eager_async upload.
func (a uploadAnswer) batchOf() string {
	eager, _ := a.body["eager"].([]any)
	if len(eager) == 0 {
		return ""
	}
	m, _ := eager[0].(map[string]any)
	id, _ := m["batch_id"].(string)
	return id
}
