// Package natsembed runs a NATS server with JetStream inside the process
// (file storage under a directory), or connects to an external one.
package natsembed

import (
	"fmt"
	"net"
	"strconv"
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

// Options shape the connection.
type Options struct {
	// Listen, for the embedded server, is a host:port on which other
	// processes (separate edges, for purges) may connect; empty listens
	// on no port.
	Listen string
	// Token authenticates connections to the embedded server when it
	// listens, and is offered to an external server.
	Token string
}

// Start connects to url, or when url is empty starts an embedded server that
// keeps its JetStream data in storeDir.
func Start(url, storeDir string, o ...Options) (*Conn, error) {
	var opt Options
	if len(o) > 0 {
		opt = o[0]
	}
	c := &Conn{}
	if url == "" {
		so := &server.Options{JetStream: true, StoreDir: storeDir, DontListen: true, NoSigs: true, NoLog: true}
		if opt.Listen != "" {
			host, port, err := net.SplitHostPort(opt.Listen)
			if err != nil {
				return nil, fmt.Errorf("nats listen address %q: %w", opt.Listen, err)
			}
			so.DontListen, so.Host = false, host
			if so.Port, err = strconv.Atoi(port); err != nil {
				return nil, fmt.Errorf("nats listen address %q: %w", opt.Listen, err)
			}
			if so.Port == 0 {
				so.Port = server.RANDOM_PORT
			}
			so.Authorization = opt.Token
		}
		ns, err := server.NewServer(so)
		if err != nil {
			return nil, fmt.Errorf("nats: %w", err)
		}
		ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			ns.Shutdown()
			return nil, fmt.Errorf("nats: embedded server did not start")
		}
		c.server = ns
		nc, err := nats.Connect("", nats.InProcessServer(ns), nats.Token(opt.Token))
		if err != nil {
			ns.Shutdown()
			return nil, fmt.Errorf("nats: %w", err)
		}
		c.NC = nc
	} else {
		// Keep reconnecting for as long as the process runs: a NATS
		// outage must not outlive its cause (the default gives up after
		// two minutes, and the connection stays closed).
		opts := []nats.Option{nats.MaxReconnects(-1)}
		if opt.Token != "" {
			opts = append(opts, nats.Token(opt.Token))
		}
		nc, err := nats.Connect(url, opts...)
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

// Close drains the connection (pending messages are handled, pending
// publishes sent; at most nats' drain timeout) and stops the embedded
// server. Callers bound it if the server may be unreachable.
func (c *Conn) Close() {
	if c.NC != nil {
		closed := make(chan struct{})
		c.NC.SetClosedHandler(func(*nats.Conn) { close(closed) })
		if c.NC.Drain() == nil {
			<-closed
		}
		c.NC.Close()
	}
	if c.server != nil {
		c.server.Shutdown()
		c.server.WaitForShutdown()
	}
}

// ClientURL is where other processes reach the embedded server ("" when it
// does not listen or is not embedded).
func (c *Conn) ClientURL() string {
	if c.server == nil || c.server.Addr() == nil {
		return ""
	}
	return c.server.ClientURL()
}
