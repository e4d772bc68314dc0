// Command edgepix runs the edgepix image service: `edgepix serve` starts the
// origin API and the delivery edge in one process with embedded storage;
// `edgepix origin` and `edgepix edge --origin URL` run them apart.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/edgepix/edgepix/edge"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/httpx"
	"github.com/edgepix/edgepix/internal/netlimit"
	"github.com/edgepix/edgepix/internal/purge"
	"github.com/edgepix/edgepix/notify"
	"github.com/edgepix/edgepix/origin"
	"github.com/edgepix/edgepix/transform/codec"
)

const usage = `usage: edgepix <command> [flags]

commands:
  serve    origin and edge in one process (the default set-up)
  origin   the API, the derive endpoint and the stores only
  edge     delivery only: edgepix edge --origin URL --derive-token T

edgepix <command> -h lists the flags; each flag is also EDGEPIX_<NAME>.

` + clientUsage

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if _, ok := clientCommands[os.Args[1]]; ok {
		if err := runClient(os.Args[1], os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "edgepix:", err)
			os.Exit(1)
		}
		return
	}
	mode := app.Mode(os.Args[1])
	switch mode {
	case app.Serve, app.Origin, app.Edge:
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err := run(mode, os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "edgepix:", err)
		os.Exit(1)
	}
}

// env returns EDGEPIX_<NAME> or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv("EDGEPIX_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); ok {
		return v
	}
	return def
}

func envInt(name string, def int64) int64 {
	v, err := strconv.ParseInt(env(name, strconv.FormatInt(def, 10)), 10, 64)
	if err != nil {
		return def
	}
	return v
}

func envDuration(name string, def time.Duration) time.Duration {
	v, err := time.ParseDuration(env(name, def.String()))
	if err != nil {
		return def
	}
	return v
}

func envBool(name string) bool {
	v, _ := strconv.ParseBool(env(name, "false"))
	return v
}

func run(mode app.Mode, args []string) error {
	fs := flag.NewFlagSet(string(mode), flag.ContinueOnError)
	cfg := app.Config{Mode: mode}
	var accountsFile, logLevel, retries string
	fs.StringVar(&cfg.DataDir, "data", env("data", "./edgepix-data"), "data directory")
	fs.StringVar(&cfg.EdgeAddr, "edge-addr", env("edge-addr", "127.0.0.1:8080"), "edge listen address")
	fs.StringVar(&cfg.OriginAddr, "origin-addr", env("origin-addr", "127.0.0.1:8081"), "origin (API) listen address")
	fs.StringVar(&cfg.OriginURL, "origin", env("origin", ""), "edge: the origins' URLs, comma-separated, e.g. http://10.0.0.5:8081,http://10.0.0.6:8081; an http:// host name stands for every address it resolves to")
	fs.StringVar(&cfg.DeriveToken, "derive-token", env("derive-token", ""), "secret shared by edges and origin (default: kept in the data dir)")
	fs.StringVar(&cfg.PublicURL, "public-url", env("public-url", ""), "base of url/secure_url (default http://<edge-addr>)")
	fs.BoolVar(&cfg.AllowPrivateFetch, "allow-private-fetch", envBool("allow-private-fetch"), "allow remote file URLs on private/loopback addresses")
	fs.Int64Var(&cfg.CacheSize, "cache-size", envInt("cache-size", 1<<30), "edge cache bound in bytes (disk)")
	fs.Int64Var(&cfg.MemCacheSize, "mem-cache-size", envInt("mem-cache-size", 0), "edge memory tier bound in bytes (default: a sixteenth of --cache-size, at most 64 MiB)")
	fs.IntVar(&cfg.LogHitSample, "log-hit-sample", int(envInt("log-hit-sample", 0)), "edge: log one cache hit in this many at info level (0: hits only at debug level; misses and errors are always logged)")
	fs.Int64Var(&cfg.MaxUploadBytes, "max-upload-bytes", envInt("max-upload-bytes", 100<<20), "largest accepted upload")
	fs.Int64Var(&cfg.MaxPixels, "max-pixels", envInt("max-pixels", 100_000_000), "largest accepted image, in pixels")
	fs.BoolVar(&cfg.Strict, "strict", envBool("strict"), "serve only signed URLs and named transformations")
	fs.StringVar(&cfg.NATSURL, "nats", env("nats", ""), "external NATS URL (default: embedded server)")
	fs.DurationVar(&cfg.PurgeRetention, "purge-retention", envDuration("purge-retention", purge.DefaultRetention), "how long the purge stream keeps purges: an edge stopped for longer drops its whole cache at start")
	fs.StringVar(&cfg.NATSListen, "nats-listen", env("nats-listen", ""), "serve/origin: host:port where separate edges reach the embedded NATS (token: the derive token)")
	fs.IntVar(&cfg.NATSReplicas, "nats-replicas", int(envInt("nats-replicas", 1)), "copies of every KV bucket and stream (3 on a NATS cluster); existing ones are raised, never lowered")
	fs.StringVar(&cfg.Blob, "blob", env("blob", ""), "blob store: file:///path or s3://bucket/prefix?endpoint=&region=&path_style=1 (AWS_* credentials; default file://<data>/blobs)")
	fs.StringVar(&accountsFile, "accounts", env("accounts", ""), "file with one cloudinary:// URL per line")
	fs.BoolVar(&cfg.AllowPrivateHooks, "allow-private-webhooks", envBool("allow-private-webhooks"), "deliver notifications to loopback/private addresses")
	fs.StringVar(&retries, "webhook-retries", env("webhook-retries", "0s,5s,5m,30m,2h,5h,10h,10h"), "delay before each notification attempt")
	fs.DurationVar(&cfg.WebhookTimeout, "webhook-timeout", envDuration("webhook-timeout", 15*time.Second), "time allowed for one notification attempt")
	l := httpx.DefaultLimits
	cfg.Limits = &httpx.Limits{}
	fs.IntVar(&cfg.Limits.MaxConns, "max-conns", int(envInt("max-conns", int64(l.MaxConns))), "open connections per listener (0: no bound)")
	fs.IntVar(&cfg.Limits.MaxConnsPerIP, "max-conns-per-ip", int(envInt("max-conns-per-ip", int64(l.MaxConnsPerIP))), "open connections per client address and listener (0: no bound; raise it behind a proxy)")
	fs.DurationVar(&cfg.Limits.HeaderTimeout, "header-timeout", envDuration("header-timeout", l.HeaderTimeout), "time to send a request's header, from the connection's (or request's) first byte")
	fs.DurationVar(&cfg.Limits.IdleTimeout, "idle-timeout", envDuration("idle-timeout", l.IdleTimeout), "how long a kept-alive connection may wait for its next request")
	fs.DurationVar(&cfg.Limits.WriteTimeout, "write-timeout", envDuration("write-timeout", l.WriteTimeout), "time to write one response")
	fs.Int64Var(&cfg.Limits.MinBodyRate, "min-upload-rate", envInt("min-upload-rate", l.MinBodyRate), "bytes/s a request body must average (it gets --header-timeout + length/rate)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", env("metrics-addr", ""), "serve /metrics on this host:port only (default: the origin port; an edge: nowhere)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", envDuration("shutdown-timeout", 30*time.Second), "bound of a graceful shutdown; then exit non-zero")
	fs.StringVar(&cfg.ConsolePassword, "console-password", env("console-password", ""), "web console: accepted instead of the API secret (single account only)")
	fs.StringVar(&logLevel, "log-level", env("log-level", "info"), "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sched, err := notify.ParseSchedule(retries)
	if err != nil {
		return err
	}
	cfg.WebhookRetries = sched
	if mode == app.Edge && cfg.OriginURL == "" {
		return errors.New("edge needs --origin URL")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && mode == app.Edge {
		// An edge's memory is bounded by its configuration: the collector
		// keeps the heap there rather than letting it double.
		debug.SetMemoryLimit(edge.MemoryLimit(cfg.MemCacheSize, cfg.CacheSize))
	}
	listeners := 1
	if mode == app.Serve {
		listeners = 2
	}
	if cfg.MetricsAddr != "" {
		listeners++
	}
	fileLimit(log, listeners*cfg.Limits.MaxConns)
	accts, err := accounts(accountsFile)
	if err != nil {
		return err
	}
	cfg.Accounts = accts
	codec.PDFCacheDir = filepath.Join(cfg.DataDir, "pdfium-cache")
	// Signals are caught before the servers start: one that arrives while
	// they start (they answer /healthz before Start returns) is a graceful
	// shutdown once they have, not the default abrupt exit.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	a, err := app.Start(cfg, log)
	if err != nil {
		return err
	}
	fmt.Println("edgepix is running")
	if a.EdgeURL != "" {
		fmt.Printf("  edge (delivery): %s\n", a.EdgeURL)
	}
	if a.NATSURL != "" {
		fmt.Printf("  nats (purges):   %s   (edges: --nats %s --derive-token ...)\n", a.NATSURL, a.NATSURL)
	}
	if a.MetricsURL != "" {
		fmt.Printf("  metrics:         %s\n", a.MetricsURL)
	}
	if mode != app.Edge {
		fmt.Printf("  origin (API):    %s\n", a.OriginURL)
		fmt.Printf("  console:         %s   (sign in with the key and secret below)\n", a.ConsoleURL)
		for _, acct := range a.Accounts {
			fmt.Printf("  export CLOUDINARY_URL=%s\n", acct.URL(a.OriginURL))
		}
	}
	select {
	case s := <-sig:
		log.Info("shutting down", "signal", s.String(), "timeout", cfg.ShutdownTimeout)
	case err := <-a.Done():
		log.Error("server stopped", "err", err)
	}
	go func() {
		s := <-sig
		log.Error("second signal: exiting at once", "signal", s.String())
		os.Exit(1)
	}()
	return a.Close()
}

// fileLimit raises the open-file limit to the hard limit and warns when
// it is below what the connection caps allow (conns, over all listeners)
// plus room for the stores' files.
func fileLimit(log *slog.Logger, conns int) {
	n, err := netlimit.RaiseFileLimit()
	if err != nil {
		log.Warn("raising the open-file limit", "err", err, "limit", n)
	}
	if need := uint64(conns + 1024); conns > 0 && n > 0 && n < need {
		log.Warn("the open-file limit is below what --max-conns allows: connections will wait for descriptors "+
			"(raise LimitNOFILE / ulimit -n, or lower --max-conns)", "limit", n, "connections", conns)
	}
}

// accounts reads CLOUDINARY_URL and the --accounts file (one URL per line,
// # comments allowed).
func accounts(file string) ([]origin.Account, error) {
	var out []origin.Account
	if u := os.Getenv("CLOUDINARY_URL"); u != "" {
		a, err := origin.ParseCloudinaryURL(u)
		if err != nil {
			return nil, fmt.Errorf("CLOUDINARY_URL: %w", err)
		}
		out = append(out, a)
	}
	if file == "" {
		return out, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		a, err := origin.ParseCloudinaryURL(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, n, err)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}
