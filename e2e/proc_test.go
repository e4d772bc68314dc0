package e2e

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudinary/cloudinary-go/v2"
)

// proc is an edgepix child process (serve mode) whose log is kept.
type proc struct {
	t            *testing.T
	cmd          *exec.Cmd
	edge, origin string // host:port
	log          *logBuf
	exited       chan struct{}
	err          error // how it exited, once exited is closed
}

// logBuf collects a child's stderr (JSON log lines).
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// launch starts `edgepix serve` on data with free ports (or those of
// reuse, to restart on the same addresses) and waits until both servers
// answer /healthz. prefix, if any, is a command the binary runs under
// (such as prlimit).
func launch(t *testing.T, bin, data string, reuse *proc, prefix []string, flags ...string) *proc {
	t.Helper()
	p := &proc{t: t, log: &logBuf{}, exited: make(chan struct{})}
	if reuse != nil {
		p.edge, p.origin = reuse.edge, reuse.origin
	} else {
		p.edge, p.origin = freeAddr(t), freeAddr(t)
	}
	args := append([]string{bin, "serve", "--data", data, "--edge-addr", p.edge, "--origin-addr", p.origin,
		"--log-level", "info", "--allow-private-webhooks"}, flags...)
	args = append(prefix, args...)
	p.start(args, "edgepix serve")
	deadline := time.Now().Add(60 * time.Second)
	for _, addr := range []string{p.edge, p.origin} {
		for !p.healthy(addr) {
			select {
			case <-p.exited:
				t.Fatalf("edgepix exited at start: %v\n%s", p.err, tail(p.log.String(), 20))
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("edgepix did not come up on %s\n%s", addr, tail(p.log.String(), 20))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return p
}

// start runs argv (the account in CLOUDINARY_URL, the log into p.log)
// until the test ends, when it is killed; a failed test logs what it
// wrote, as what.
func (p *proc) start(argv []string, what string) {
	p.t.Helper()
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(os.Environ(), "CLOUDINARY_URL=cloudinary://"+testAccount.APIKey+":"+testAccount.APISecret+"@demo")
	p.cmd.Stderr = p.log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	p.t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if p.t.Failed() {
			p.t.Logf("log of %s (pid %d):\n%s", what, p.cmd.Process.Pid, tail(p.log.String(), 40))
		}
	})
}

// healthy reports whether addr answers /healthz (on a new connection).
func (p *proc) healthy(addr string) bool {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// alive reports whether the process is still running.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// fds counts the process's open file descriptors.
func (p *proc) fds() int {
	p.t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(p.pid()) + "/fd")
	if err != nil {
		p.t.Fatal(err)
	}
	return len(ents)
}

// sdk is the SDK configured for this process.
func (p *proc) sdk() *cloudinary.Cloudinary { return sdkForURL(p.t, "http://"+p.origin, p.edge) }

// stop sends sig and waits for the exit, at most within; it returns how
// long the exit took and the exit error. A process still running then is
// killed and the test fails.
func (p *proc) stop(sig syscall.Signal, within time.Duration) (time.Duration, error) {
	p.t.Helper()
	start := time.Now()
	p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		return time.Since(start), p.err
	case <-time.After(within):
		p.cmd.Process.Kill()
		<-p.exited
		p.t.Fatalf("still running %v after %v\n%s", within, sig, tail(p.log.String(), 30))
		return 0, nil
	}
}

// waitLog waits up to d for a log line containing s.
func (p *proc) waitLog(s string, d time.Duration) bool {
	for end := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(p.log.String(), s) {
			return true
		}
		if !p.alive() || time.Now().After(end) {
			return strings.Contains(p.log.String(), s)
		}
	}
}

// logLines returns the log lines containing s.
func (p *proc) logLines(s string) []string {
	var out []string
	for _, l := range strings.Split(p.log.String(), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
