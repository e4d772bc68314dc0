// Package app wires the origin, the edge, the stores and the embedded NATS
// server into one process, as `edgepix serve` runs them (and as end-to-end
// tests start them).
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/edgepix/edgepix/blob"
	"github.com/edgepix/edgepix/edge"
	"github.com/edgepix/edgepix/internal/natsembed"
	"github.com/edgepix/edgepix/origin"
	"github.com/valyala/fasthttp"
)

// Config is the `serve` configuration.
type Config struct {
	DataDir           string
	EdgeAddr          string
	OriginAddr        string
	PublicURL         string // default http://<edge addr>
	AllowPrivateFetch bool
	CacheSize         int64 // edge memory tier bytes
	MaxUploadBytes    int64
	MaxPixels         int64
	Strict            bool
	NATSURL           string
	Accounts          []origin.Account // empty: the demo account in DataDir
}

// App is a running edgepix.
type App struct {
	Accounts  []origin.Account
	EdgeURL   string
	OriginURL string
	nats      *natsembed.Conn
	edge      *edge.Server
	edgeSrv   *fasthttp.Server
	originSrv *fasthttp.Server
	edgeLn    net.Listener
	originLn  net.Listener
	done      chan error
}

// Start opens the stores and starts both servers.
func Start(cfg Config, log *slog.Logger) (*App, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	accounts := cfg.Accounts
	if len(accounts) == 0 {
		demo, err := origin.DemoAccount(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		accounts = []origin.Account{demo}
	}
	token, err := secretFile(filepath.Join(cfg.DataDir, "derive-token"))
	if err != nil {
		return nil, err
	}
	a := &App{Accounts: accounts, done: make(chan error, 2)}
	a.originLn, err = net.Listen("tcp", cfg.OriginAddr)
	if err != nil {
		return nil, err
	}
	a.edgeLn, err = net.Listen("tcp", cfg.EdgeAddr)
	if err != nil {
		a.originLn.Close()
		return nil, err
	}
	a.EdgeURL = "http://" + a.edgeLn.Addr().String()
	a.OriginURL = "http://" + a.originLn.Addr().String()
	if cfg.PublicURL == "" {
		cfg.PublicURL = a.EdgeURL
	}
	fail := func(err error) (*App, error) {
		a.Close()
		return nil, err
	}
	a.nats, err = natsembed.Start(cfg.NATSURL, filepath.Join(cfg.DataDir, "nats"))
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	assets, err := origin.NewAssetStore(ctx, a.nats.JS)
	if err != nil {
		return fail(fmt.Errorf("asset store: %w", err))
	}
	blobs, err := blob.NewFS(filepath.Join(cfg.DataDir, "blobs"))
	if err != nil {
		return fail(err)
	}
	o := origin.New(origin.Config{PublicURL: cfg.PublicURL, MaxUploadBytes: cfg.MaxUploadBytes,
		MaxPixels: cfg.MaxPixels, AllowPrivateFetch: cfg.AllowPrivateFetch, DeriveToken: token},
		accounts, assets, blobs, log.With("server", "origin"))
	secrets := map[string]string{}
	for _, acct := range accounts {
		secrets[acct.Cloud] = acct.APISecret
	}
	a.edge, err = edge.New(edge.Config{OriginURL: a.OriginURL, DeriveToken: token,
		CacheDir: filepath.Join(cfg.DataDir, "edge-cache"), MemBytes: cfg.CacheSize, Secrets: secrets,
		Strict: cfg.Strict}, log.With("server", "edge"))
	if err != nil {
		return fail(err)
	}
	a.originSrv = &fasthttp.Server{Handler: o.Handler, Name: "edgepix-origin",
		MaxRequestBodySize: o.MaxRequestBody(), StreamRequestBody: false, ReadTimeout: 5 * time.Minute}
	a.edgeSrv = &fasthttp.Server{Handler: a.edge.Handler, Name: "edgepix-edge", ReadTimeout: time.Minute}
	go func() { a.done <- a.originSrv.Serve(a.originLn) }()
	go func() { a.done <- a.edgeSrv.Serve(a.edgeLn) }()
	return a, nil
}

// Done delivers the first error of a server that stopped on its own.
func (a *App) Done() <-chan error { return a.done }

// Close shuts both servers down gracefully, then the stores.
func (a *App) Close() error {
	var errs []error
	if a.edgeSrv != nil {
		errs = append(errs, a.edgeSrv.Shutdown())
	} else if a.edgeLn != nil {
		a.edgeLn.Close()
	}
	if a.originSrv != nil {
		errs = append(errs, a.originSrv.Shutdown())
	} else if a.originLn != nil {
		a.originLn.Close()
	}
	if a.edge != nil {
		errs = append(errs, a.edge.Close())
	}
	if a.nats != nil {
		a.nats.Close()
	}
	return errors.Join(errs...)
}

// secretFile returns the token stored at path, creating a random one.
func secretFile(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		return string(b), nil
	}
	b := make([]byte, 24)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	return tok, os.WriteFile(path, []byte(tok), 0o600)
}
