package bench

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// Binary is the real edgepix binary running `serve` on loopback ports.
type Binary struct {
	Cmd                *exec.Cmd
	EdgeURL, OriginURL string
	dir                string
	exited             chan struct{}
}

// BuildBinary compiles cmd/edgepix into dir and returns its path.
func BuildBinary(dir string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(dir, "edgepix")
	cmd := exec.Command("go", "build", "-tags", "nodynamic", "-o", bin, "./cmd/edgepix")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build: %v\n%s", err, out)
	}
	return bin, nil
}

// StartBinary runs `bin serve` with a fresh data directory for the bench
// account, plus extra flags, and waits until both servers answer.
func StartBinary(bin string, extra ...string) (*Binary, error) {
	dir, err := os.MkdirTemp("", "edgepix-bin-*")
	if err != nil {
		return nil, err
	}
	edge, origin := freePort(), freePort()
	cmd := exec.Command(bin, append([]string{"serve", "--data", filepath.Join(dir, "data"), "--edge-addr", edge,
		"--origin-addr", origin, "--log-level", "error"}, extra...)...)
	cmd.Env = append(os.Environ(), "CLOUDINARY_URL=cloudinary://"+benchAccount.APIKey+":"+benchAccount.APISecret+"@"+benchAccount.Cloud)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	b := &Binary{Cmd: cmd, EdgeURL: "http://" + edge, OriginURL: "http://" + origin, dir: dir, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(b.exited) }()
	for _, u := range []string{b.EdgeURL, b.OriginURL} {
		deadline := time.Now().Add(60 * time.Second)
		for {
			resp, err := http.Get(u + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				b.Stop()
				return nil, fmt.Errorf("%s did not come up", u)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return b, nil
}

// Hostile returns a run description against this server for the bench
// account.
func (b *Binary) Hostile(fixtures string, d time.Duration, attack bool) Hostile {
	return Hostile{EdgeURL: b.EdgeURL, OriginURL: b.OriginURL, Cloud: benchAccount.Cloud, Key: benchAccount.APIKey,
		Secret: benchAccount.APISecret, Fixtures: fixtures, Duration: d, Attack: attack, PID: b.Cmd.Process.Pid}
}

// Alive reports whether the process is still running.
func (b *Binary) Alive() bool {
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// Stop ends the process (SIGTERM, then SIGKILL after 30 s) and removes its data.
func (b *Binary) Stop() {
	b.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(30 * time.Second):
		b.Cmd.Process.Kill()
		<-b.exited
	}
	os.RemoveAll(b.dir)
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}
