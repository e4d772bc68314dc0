// Package natsembed runs a NATS server with JetStream inside the process
// (file storage under a directory), or connects to an external one.
package natsembed

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Conn is a JetStream connection and, when embedded, its server.
type Conn struct {
	NC     *nats.Conn
	JS     jetstream.JetStream
	server *server.Server
}

// Start connects to url, or when url is empty starts an embedded server that
// keeps its JetStream data in storeDir and listens on no port.
func Start(url, storeDir string) (*Conn, error) {
	c := &Conn{}
	if url == "" {
		ns, err := server.NewServer(&server.Options{
			JetStream: true, StoreDir: storeDir, DontListen: true, NoSigs: true, NoLog: true,
		})
		if err != nil {
			return nil, fmt.Errorf("nats: %w", err)
		}
		ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			ns.Shutdown()
			return nil, fmt.Errorf("nats: embedded server did not start")
		}
		c.server = ns
		nc, err := nats.Connect("", nats.InProcessServer(ns))
		if err != nil {
			ns.Shutdown()
			return nil, fmt.Errorf("nats: %w", err)
		}
		c.NC = nc
	} else {
		nc, err := nats.Connect(url)
		if err != nil {
			return nil, fmt.Errorf("nats: %w", err)
		}
		c.NC = nc
	}
	js, err := jetstream.New(c.NC)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.JS = js
	return c, nil
}

// Close drains the connection and stops the embedded server.
func (c *Conn) Close() {
	if c.NC != nil {
		c.NC.Drain()
		c.NC.Close()
	}
	if c.server != nil {
		c.server.Shutdown()
		c.server.WaitForShutdown()
	}
}
