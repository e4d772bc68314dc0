package httpx

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// serve runs NewServer(h, l) on a loopback port.
func serve(t *testing.T, l Limits, h fasthttp.RequestHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer("test", h, l, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.ShutdownWithContext(ctx)
	})
	return ln.Addr().String()
}

// dialFrom connects from a loopback address of its own (Linux routes all
// of 127/8 to lo), so one test can be several client IPs.
func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ok(ctx *fasthttp.RequestCtx) { ctx.SetBodyString(fmt.Sprintf("read %d", len(ctx.PostBody()))) }

// trickle writes b a piece at a time with a pause before each, and
// reports how much went out before the server closed the connection.
func trickle(c net.Conn, b []byte, piece int, pause time.Duration) int {
	sent := 0
	for sent < len(b) {
		time.Sleep(pause)
		n, err := c.Write(b[sent:min(sent+piece, len(b))])
		sent += n
		if err != nil {
			break
		}
	}
	return sent
}

// answer waits up to wait for the server's status line, or for it to
// close the connection ("closed"); "no answer" if neither came.
func answer(c net.Conn, wait time.Duration) string {
	c.SetReadDeadline(time.Now().Add(wait))
	line, err := bufio.NewReader(c).ReadString('\n')
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "no answer"
	}
	if line == "" && err != nil {
		return "closed"
	}
	return strings.TrimSpace(line)
}

// A client sending its header one byte at a time is cut at HeaderTimeout,
// long before it has sent it all.
func TestHeaderTimeoutCutsSlowHeaders(t *testing.T) {
	addr := serve(t, Limits{HeaderTimeout: time.Second, MinBodyRate: 1 << 10}, ok)
	c := dialFrom(t, "127.0.0.1", addr)
	req := []byte("GET /slow HTTP/1.1\r\nHost: x\r\nUser-Agent: slowloris-test-client\r\n\r\n")
	done := make(chan int)
	go func() { done <- trickle(c, req, 1, 250*time.Millisecond) }()
	status := answer(c, 30*time.Second)
	c.Close()
	if sent := <-done; sent == len(req) || status == "no answer" || strings.Contains(status, "200") {
		t.Fatalf("a header sent at 4 bytes/s was not cut (%d of %d bytes sent): %s", sent, len(req), status)
	}
}

// An upload slower than the header timeout but above MinBodyRate is read
// to the end; one below it is cut.
func TestBodyDeadlineFollowsLength(t *testing.T) {
	addr := serve(t, Limits{HeaderTimeout: time.Second, MinBodyRate: 2 << 10, MaxBody: 4 << 20}, ok)
	body := make([]byte, 128<<10) // 64 s allowed at 2 KiB/s, plus the header's 1 s
	steady := dialFrom(t, "127.0.0.1", addr)
	fmt.Fprintf(steady, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body))
	trickle(steady, body, 8<<10, 150*time.Millisecond) // 16 pieces over 2.4 s or more
	if status := answer(steady, 30*time.Second); !strings.Contains(status, "200") {
		t.Fatalf("a steady 2.4 s upload was refused: %s", status)
	}

	slow := dialFrom(t, "127.0.0.1", addr)
	fmt.Fprintf(slow, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 8<<10) // 5 s allowed
	done := make(chan int)
	go func() { done <- trickle(slow, make([]byte, 8<<10), 16, 100*time.Millisecond) }() // 51 s needed
	status := answer(slow, 40*time.Second)
	slow.Close()
	if sent := <-done; sent == 8<<10 || status == "no answer" || strings.Contains(status, "200") {
		t.Fatalf("a 160 B/s body was read to the end (%d bytes sent): %s", sent, status)
	}
}

// Connections over the per-IP cap are refused at once (429, closed) and
// hold nothing; another client is still served. Over the total cap, one
// more connection is refused with 503.
func TestConnectionCaps(t *testing.T) {
	addr := serve(t, Limits{MaxConns: 10, MaxConnsPerIP: 4, HeaderTimeout: time.Minute}, ok)
	// status opens a connection from ip and sends a request: a refused
	// connection has its answer written before the request is read; an
	// accepted one is answered 200 and stays open (kept alive).
	status := func(ip string) string {
		c := dialFrom(t, ip, addr)
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		return answer(c, 30*time.Second)
	}
	count := map[string]int{}
	for range 12 {
		count[status("127.0.0.2")]++
	}
	if count["HTTP/1.1 200 OK"] != 4 || count["HTTP/1.1 429 Too Many Requests"] != 8 {
		t.Errorf("12 connections from one address with a cap of 4: %v", count)
	}
	if s := status("127.0.0.3"); s != "HTTP/1.1 200 OK" {
		t.Fatalf("another client while one address is at its cap: %s", s)
	}
	// 16 more from four addresses, each within its cap: with 5 open, 5
	// more fit under 10; the other 11 are refused.
	clear(count)
	for i := range 16 {
		count[status(fmt.Sprintf("127.0.0.%d", 4+i/4))]++
	}
	if count["HTTP/1.1 200 OK"] != 5 || count["HTTP/1.1 503 Service Unavailable"] != 11 {
		t.Fatalf("16 more connections with 5 open and a total cap of 10: %v", count)
	}
}
