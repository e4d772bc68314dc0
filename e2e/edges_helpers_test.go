package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/health"
	"github.com/edgepix/edgepix/internal/testport"
	"github.com/edgepix/edgepix/origin"
	"github.com/nats-io/nats-server/v2/server"
)

// natsProc is an external NATS server (in-process) that a test can stop
// and start again on the same port and store.
type natsProc struct {
	t    *testing.T
	dir  string
	port int
	ns   *server.Server
}

func startNATSServer(t *testing.T) *natsProc {
	n := &natsProc{t: t, dir: filepath.Join(t.TempDir(), "js"), port: testport.Free(t)}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *natsProc) start() {
	n.t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: n.port, JetStream: true,
		StoreDir: n.dir, NoSigs: true, NoLog: true})
	if err != nil {
		n.t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		n.t.Fatal("nats did not start")
	}
	n.ns = ns
	n.port = ns.Addr().(*net.TCPAddr).Port
}

func (n *natsProc) stop() {
	if n.ns != nil {
		n.ns.Shutdown()
		n.ns.WaitForShutdown()
		n.ns = nil
	}
}

func (n *natsProc) url() string { return n.ns.ClientURL() }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startApp starts edgepix in a mode on the external NATS; mutate
// adjusts the configuration. Closed at the end of the test.
func startApp(t *testing.T, mode app.Mode, natsURL, data string, mutate ...func(*app.Config)) *app.App {
	t.Helper()
	cfg := app.Config{Mode: mode, DataDir: data, OriginAddr: "127.0.0.1:0", EdgeAddr: "127.0.0.1:0",
		NATSURL: natsURL, DeriveToken: "tok", Accounts: []origin.Account{testAccount}, HealthInterval: 100 * time.Millisecond}
	for _, m := range mutate {
		m(&cfg)
	}
	a, err := app.Start(cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// readyz returns a server's /readyz status and body.
func readyz(t *testing.T, base string) (int, health.Report) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r health.Report
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("/readyz body: %v", err)
	}
	return resp.StatusCode, r
}

// awaitReady waits until base's /readyz says ready, or until 10 s have
// passed with failing (nil: ready) among the parts it names.
func awaitReady(t *testing.T, what, base string, failing ...string) health.Report {
	t.Helper()
	var r health.Report
	var code int
	eventually(t, what, func() bool {
		code, r = readyz(t, base)
		if len(failing) == 0 {
			return code == 200 && r.Status == "ready"
		}
		for _, f := range failing {
			if !strings.Contains(","+strings.Join(r.Failing, ",")+",", ","+f+",") {
				return false
			}
		}
		return code == 503 && r.Status == "unready"
	})
	if t.Failed() {
		t.Fatalf("%s: %d %+v", what, code, r)
	}
	return r
}

// serveDNS answers A queries for name with addrs (and AAAA queries with
// nothing) on a loopback UDP port, and returns a resolver that asks it.
func serveDNS(t *testing.T, name string, addrs ...string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], name, addrs); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", addr)
	}}
}

// dnsAnswer builds the response to one query (RFC 1035 §4): the header
// and question echoed, then an A record per address when the question
// is name's A record.
func dnsAnswer(q []byte, name string, addrs []string) []byte {
	if len(q) < 12 {
		return nil
	}
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	end := i + 5
	out := append([]byte(nil), q[:end]...)
	binary.BigEndian.PutUint16(out[2:], 0x8180) // response, recursion desired and available, no error
	binary.BigEndian.PutUint16(out[6:], 0)      // answers
	binary.BigEndian.PutUint16(out[8:], 0)
	binary.BigEndian.PutUint16(out[10:], 0)
	if !strings.EqualFold(strings.Join(labels, "."), name) {
		binary.BigEndian.PutUint16(out[2:], 0x8183) // NXDOMAIN
		return out
	}
	if qtype != 1 {
		return out
	}
	for _, a := range addrs {
		ip := net.ParseIP(a).To4()
		out = append(out, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4) // name at 12, A, IN, TTL 5 s, 4 bytes
		out = append(out, ip...)
	}
	binary.BigEndian.PutUint16(out[6:], uint16(len(addrs)))
	return out
}
