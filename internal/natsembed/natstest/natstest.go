// Package natstest runs real NATS JetStream servers on loopback ports for
// tests: one server, or a cluster of several, each of which can be
// stopped (as a crash would) and restarted on the same port and data.
package natstest

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/testport"
	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is one or more JetStream servers routed together.
type Cluster struct {
	tb    testing.TB
	mu    sync.Mutex
	nodes []*node
}

type node struct {
	opts *server.Options
	srv  *server.Server // nil while stopped
}

// Start runs a single JetStream server (not clustered: streams are R1)
// until the test ends.
func Start(tb testing.TB) *Cluster { return StartCluster(tb, 1) }

// StartCluster runs n servers (n > 1: a JetStream cluster, so streams
// may have up to n replicas) until the test ends, and waits until they
// have a JetStream meta leader.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	c := &Cluster{tb: tb}
	dir := tb.TempDir()
	var routes []string
	ports := make([][2]int, n)
	for i := range n {
		ports[i] = [2]int{testport.Free(tb), testport.Free(tb)}
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[i][1]))
	}
	for i := range n {
		o := &server.Options{ServerName: fmt.Sprintf("n%d", i), Host: "127.0.0.1", Port: ports[i][0],
			JetStream: true, StoreDir: filepath.Join(dir, fmt.Sprintf("n%d", i)), NoSigs: true, NoLog: true}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "edgepix-test", Host: "127.0.0.1", Port: ports[i][1]}
			o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		}
		c.nodes = append(c.nodes, &node{opts: o})
	}
	for i := range n {
		c.Restart(i)
	}
	tb.Cleanup(func() {
		for i := range c.nodes {
			c.Stop(i)
		}
	})
	c.WaitReady()
	return c
}

// URL is the client URL of every node, comma-separated (nats.Connect
// takes it as a server list).
func (c *Cluster) URL() string {
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", n.opts.Port))
	}
	return strings.Join(urls, ",")
}

// NodeURL is the client URL of node i alone.
func (c *Cluster) NodeURL(i int) string {
	return fmt.Sprintf("nats://127.0.0.1:%d", c.nodes[i].opts.Port)
}

// Stop shuts node i down (its data stays); a stopped node is left alone.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	n := c.nodes[i]
	srv := n.srv
	n.srv = nil
	c.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// Restart starts node i again on its port and data (or for the first
// time) and waits until it accepts connections.
func (c *Cluster) Restart(i int) {
	c.tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nodes[i]
	if n.srv != nil {
		return
	}
	o := *n.opts
	srv, err := server.NewServer(&o)
	if err != nil {
		c.tb.Fatalf("nats node %d: %v", i, err)
	}
	srv.Start()
	if !srv.ReadyForConnections(20 * time.Second) {
		srv.Shutdown()
		c.tb.Fatalf("nats node %d did not start", i)
	}
	n.srv = srv
}

// WaitReady waits until the running nodes have a JetStream meta leader
// that sees every running node online, and every running node is current
// with it.
func (c *Cluster) WaitReady() {
	c.tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c.ready() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.tb.Fatal("nats: no JetStream meta leader within 30 s")
}

func (c *Cluster) ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	running, online := 0, -1
	for _, n := range c.nodes {
		if n.srv == nil {
			continue
		}
		if len(c.nodes) == 1 {
			return n.srv.JetStreamEnabled()
		}
		if !n.srv.JetStreamIsCurrent() {
			return false
		}
		running++
		if n.srv.JetStreamIsLeader() {
			online = len(n.srv.JetStreamClusterPeers())
		}
	}
	return online == running
}
