package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// freePort returns a loopback address nothing listens on now.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// server is a peer's process (and its children, for nginx's workers).
type server struct {
	name string
	cmd  *exec.Cmd
}

// start runs name with args and env, its output in dir/name.log.
func start(dir, name string, env []string, bin string, args ...string) (*server, error) {
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &server{name: name, cmd: cmd}, nil
}

// stop ends the process group it started.
func (s *server) stop() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// pids are the process and its children.
func (s *server) pids() []int {
	root := s.cmd.Process.Pid
	out := []int{root}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(pid); len(f) > 1 && f[1] == strconv.Itoa(root) {
			out = append(out, pid)
		}
	}
	return out
}

// statFields are the fields of /proc/PID/stat after the command name,
// from the state on (ppid is [1], utime [11], stime [12]).
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// cpu is the CPU time (user and system) of the process and its children.
func (s *server) cpu() time.Duration {
	var ticks int64
	for _, pid := range s.pids() {
		if f := statFields(pid); len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			k, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + k
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// memory returns VmRSS and VmHWM of the process (not its children), in bytes.
func (s *server) memory() (rss, hwm int64) {
	m := s.status()
	return m["VmRSS:"], m["VmHWM:"]
}

// sampleRSS samples the process's VmRSS every period until the function
// it returns is called, which returns the highest sample.
func (s *server) sampleRSS(period time.Duration) func() int64 {
	stop, done := make(chan struct{}), make(chan int64)
	go func() {
		var peak int64
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			if rss, _ := s.memory(); rss > peak {
				peak = rss
			}
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { close(stop); return <-done }
}

// status returns the sizes of /proc/PID/status (VmRSS:, RssAnon:...), in bytes.
func (s *server) status() map[string]int64 {
	out := map[string]int64{}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if len(f) == 3 && f[2] == "kB" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			out[f[0]] = v << 10
		}
	}
	return out
}

// waitHTTP waits until url answers 200.
func waitHTTP(url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		status, _, err := fasthttp.GetTimeout(nil, url, 5*time.Second)
		if err == nil && status == 200 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 within %s (last: %d %v)", url, d, status, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// nginxConf serves root on addr as Debian's nginx.conf would (sendfile,
// tcp_nopush, a worker per core), without an access log, and keeps
// connections open as long as wrk wants (edgepix does).
func nginxConf(dir, addr, root string) string {
	return fmt.Sprintf(`worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000000;
  keepalive_timeout 65;
  types { image/jpeg jpg; }
  client_body_temp_path %[1]s/nginx-tmp;
  proxy_temp_path %[1]s/nginx-tmp;
  fastcgi_temp_path %[1]s/nginx-tmp;
  uwsgi_temp_path %[1]s/nginx-tmp;
  scgi_temp_path %[1]s/nginx-tmp;
  server { listen %[2]s; root %[3]s; }
}
`, dir, addr, root)
}
