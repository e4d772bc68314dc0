package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// dialFrom connects to addr from a loopback address of its own: Linux
// routes all of 127/8 to lo, so one test can be many client IPs.
func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// statusLine reads the server's status line until deadline: "closed" if
// it closed the connection first, "no answer" if nothing came.
func statusLine(c net.Conn, deadline time.Time) string {
	c.SetReadDeadline(deadline)
	line, err := bufio.NewReader(c).ReadString('\n')
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "no answer"
	}
	if line == "" && err != nil {
		return "closed"
	}
	return strings.TrimSpace(line)
}

// request opens a connection from ip, sends GET /healthz and returns the
// status line; an accepted connection stays open (kept alive).
func request(t *testing.T, ip, addr string) string {
	c := dialFrom(t, ip, addr)
	fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	return statusLine(c, time.Now().Add(30*time.Second))
}

// TestConnectionLimits runs `edgepix serve` and attacks both ports as
// issue 9 item 9 describes: idle sockets from one address and from many,
// slow headers, and file-descriptor exhaustion.
func TestConnectionLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)

	// Idle connections over the per-IP cap are refused (429) and closed at
	// once: they hold no descriptor, and another client is served. Over the
	// total cap, connections are refused with 503 until some close.
	t.Run("caps", func(t *testing.T) {
		p := launch(t, bin, t.TempDir(), nil, nil, "--max-conns", "24", "--max-conns-per-ip", "6", "--header-timeout", "1m")
		for _, addr := range []string{p.edge, p.origin} {
			before := p.fds()
			for range 6 {
				if s := request(t, "127.0.0.2", addr); s != "HTTP/1.1 200 OK" {
					t.Fatalf("%s: connection within the cap: %s", addr, s)
				}
			}
			idle := make([]net.Conn, 30)
			for i := range idle {
				idle[i] = dialFrom(t, "127.0.0.2", addr)
			}
			refused := 0
			deadline := time.Now().Add(30 * time.Second)
			for _, c := range idle {
				if statusLine(c, deadline) == "HTTP/1.1 429 Too Many Requests" {
					refused++
				}
			}
			if refused != len(idle) {
				t.Errorf("%s: %d of %d idle connections over the per-IP cap refused", addr, refused, len(idle))
			}
			if grew := p.fds() - before; grew > 6+4 {
				t.Errorf("%s: 36 connections from one address with a cap of 6 hold %d descriptors", addr, grew)
			}
			if s := request(t, "127.0.0.3", addr); s != "HTTP/1.1 200 OK" {
				t.Fatalf("%s: a fresh client while another address is at its cap: %s", addr, s)
			}
		}
		// 7 connections are open on the edge; 30 more from five addresses
		// (6 each, within the per-IP cap): 17 fit under 24.
		count := map[string]int{}
		var conns []net.Conn
		for i := range 30 {
			c := dialFrom(t, fmt.Sprintf("127.0.0.%d", 10+i/6), p.edge)
			fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
			count[statusLine(c, time.Now().Add(30*time.Second))]++
			conns = append(conns, c)
		}
		if count["HTTP/1.1 200 OK"] != 17 || count["HTTP/1.1 503 Service Unavailable"] != 13 {
			t.Errorf("30 connections with 7 open and a total cap of 24: %v", count)
		}
		if s := request(t, "127.0.0.20", p.edge); s != "HTTP/1.1 503 Service Unavailable" {
			t.Errorf("at the total cap: %s", s)
		}
		for _, c := range conns {
			c.Close()
		}
		eventually(t, "served again once connections close", func() bool { return p.healthy(p.edge) })
		if !p.alive() {
			t.Fatal("the process exited")
		}
	})

	// A header sent one byte per second is cut at --header-timeout, on
	// both ports.
	t.Run("slowloris", func(t *testing.T) {
		p := launch(t, bin, t.TempDir(), nil, nil, "--header-timeout", "2s")
		req := []byte("GET /demo/image/upload/sample.jpg HTTP/1.1\r\nHost: x\r\nUser-Agent: " +
			strings.Repeat("slow", 20) + "\r\n\r\n")
		var wg sync.WaitGroup
		for _, addr := range []string{p.edge, p.origin} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := dialFrom(t, "127.0.0.1", addr)
				sent := make(chan int, 1)
				go func() {
					n := 0
					for ; n < len(req); n++ {
						if _, err := c.Write(req[n : n+1]); err != nil {
							break
						}
						time.Sleep(time.Second)
					}
					sent <- n
				}()
				status := statusLine(c, time.Now().Add(3*time.Minute))
				c.Close()
				// 2 s allowed: at one byte a second, far fewer than 20 bytes.
				if n := <-sent; n >= 20 || status == "no answer" || strings.Contains(status, "200") {
					t.Errorf("%s: a header at 1 byte/s was not cut: %d of %d bytes sent, %s", addr, n, len(req), status)
				}
			}()
		}
		wg.Wait()
	})

	// Out of file descriptors, the servers wait and retry accepting
	// instead of returning from Serve (which ended the process), and serve
	// again once connections close. The soft limit is raised to the hard.
	t.Run("emfile", func(t *testing.T) {
		const hard = 400
		wrap := []string{"sh", "-c", "ulimit -Sn 200 && ulimit -Hn " + strconv.Itoa(hard) + " && exec \"$@\"", "sh"}
		p := launch(t, bin, t.TempDir(), nil, wrap, "--max-conns-per-ip", "0", "--header-timeout", "1m")
		limits, _ := os.ReadFile("/proc/" + strconv.Itoa(p.pid()) + "/limits")
		for _, l := range strings.Split(string(limits), "\n") {
			if f := strings.Fields(l); strings.HasPrefix(l, "Max open files") && (len(f) < 5 || f[3] != strconv.Itoa(hard)) {
				t.Errorf("soft open-file limit not raised to the hard limit (%d): %s", hard, l)
			}
		}
		if !p.waitLog("open-file limit is below", 0) {
			t.Error("no warning that the open-file limit is below what --max-conns allows")
		}
		var conns []net.Conn
		for range hard + 50 {
			c, err := net.DialTimeout("tcp", p.edge, 10*time.Second)
			if err != nil {
				break // the process is gone: see below
			}
			conns = append(conns, c)
		}
		p.waitLog("too many open files", 60*time.Second)
		time.Sleep(500 * time.Millisecond) // a server returning from Serve ends the process at once
		if !p.alive() || len(p.logLines("server stopped")) > 0 {
			t.Fatalf("out of file descriptors, the server stopped: %q", p.logLines("server stopped"))
		}
		if len(p.logLines("accepting a connection failed; retrying")) == 0 {
			t.Fatal("no EMFILE reported")
		}
		for _, c := range conns {
			c.Close()
		}
		eventually(t, "both ports serve again once the connections close", func() bool {
			return p.healthy(p.edge) && p.healthy(p.origin)
		})
		_, m := get(t, "http://"+p.origin+"/metrics")
		if !strings.Contains(string(m), `edgepix_accept_errors_total{server="edge"}`) ||
			strings.Contains(string(m), `edgepix_accept_errors_total{server="edge"} 0`) {
			t.Error("accept errors not counted in /metrics")
		}
		if _, err := p.stop(syscall.SIGTERM, 40*time.Second); err != nil {
			t.Errorf("shutdown after fd exhaustion: %v", err)
		}
	})
}
