// Package app wires the origin, the edge, the stores and the embedded NATS
// server into one process, as `edgepix serve`, `edgepix origin` and
// `edgepix edge` run them (and as end-to-end tests start them).
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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgepix/edgepix/blob"
	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/edge"
	"github.com/edgepix/edgepix/internal/health"
	"github.com/edgepix/edgepix/internal/httpx"
	"github.com/edgepix/edgepix/internal/metrics"
	"github.com/edgepix/edgepix/internal/natsembed"
	"github.com/edgepix/edgepix/internal/purge"
	"github.com/edgepix/edgepix/jobs"
	"github.com/edgepix/edgepix/notify"
	"github.com/edgepix/edgepix/origin"
	"github.com/edgepix/edgepix/plugins"
	"github.com/prometheus/client_golang/prometheus"
)

// Mode says which servers a process runs.
type Mode string

// The three ways to run edgepix.
const (
	Serve  Mode = "serve"  // origin and edge together (the default)
	Origin Mode = "origin" // the API, derive endpoint and stores only
	Edge   Mode = "edge"   // delivery only, against a remote origin
)

// Config is the configuration of all three modes.
type Config struct {
	Mode              Mode
	DataDir           string
	EdgeAddr          string
	OriginAddr        string
	OriginURL         string // edge mode: the origins to ask on a miss, comma-separated (see edge.Config.Origins)
	DeriveToken       string // shared edge↔origin secret (default: kept in DataDir)
	PublicURL         string // default http://<edge addr>
	AllowPrivateFetch bool
	CacheSize         int64 // edge disk cache bound in bytes
	MemCacheSize      int64 // edge memory tier bound in bytes (0: edge.DefaultMemBytes of CacheSize)
	LogHitSample      int   // edge: log one cache hit in this many at info (0: hits at debug level only)
	MaxUploadBytes    int64
	MaxPixels         int64
	Strict            bool
	NATSURL           string // external NATS (edge mode: for purges)
	NATSListen        string // serve/origin: let other processes reach the embedded NATS here
	// NATSReplicas is the least number of copies of every KV bucket and
	// stream (default 1; 3 on a cluster). Existing ones are raised to it,
	// never lowered.
	NATSReplicas int
	// Blob is the blob store URL: file:///path or s3://bucket/prefix?...
	// (default file://DataDir/blobs).
	Blob              string
	WebhookRetries    []time.Duration  // delay before each attempt (default notify.DefaultSchedule)
	WebhookTimeout    time.Duration    // per attempt (default 15 s)
	AllowPrivateHooks bool             // deliver webhooks to loopback/private addresses
	Accounts          []origin.Account // empty: the demo account in DataDir
	// Limits bound every listener's connections and their timeouts
	// (MaxBody is set per server); nil: httpx.DefaultLimits.
	Limits *httpx.Limits
	// MetricsAddr, when set, is where /metrics is served (and nowhere
	// else); otherwise serve and origin serve it on the origin port, and
	// an edge not at all.
	MetricsAddr     string
	ShutdownTimeout time.Duration // bound of Close (default 30 s)

	// PurgeRetention (origin) is how long the purge stream keeps purges:
	// an edge stopped for longer drops its whole cache when it starts
	// again. Default purge.DefaultRetention.
	PurgeRetention time.Duration
	// HealthInterval (edge) is the time between origin health checks
	// (default edge.DefaultHealthInterval).
	HealthInterval time.Duration
	// Resolver (edge) resolves origin host names; nil: the system's.
	Resolver        *net.Resolver
	ConsolePassword string // accepted by the console instead of the API secret (single account)
}

// App is a running edgepix.
type App struct {
	Accounts   []origin.Account
	EdgeURL    string // empty in origin mode
	OriginURL  string
	MetricsURL string // where /metrics is served; empty if nowhere
	ConsoleURL string // the web console (origin port); empty in edge mode
	Metrics    *metrics.Metrics
	Notifier   *notify.Notifier // nil in edge mode
	NATSURL    string           // where edges reach the embedded NATS, with --nats-listen
	cfg        Config
	log        *slog.Logger
	plugins    *plugins.Host
	nats       *natsembed.Conn
	edge       *edge.Server
	stopWork   context.CancelFunc // cancels running jobs and deliveries
	workers    []worker
	jobsActive atomic.Int32
	servers    []server
	listeners  []net.Listener
	accepts    *prometheus.CounterVec
	done       chan error
	closeOnce  sync.Once
	closeErr   error

	purges    *purge.Publisher // origin: publishes purges
	follower  *purge.Follower  // edge: applies them
	blobs     pinger           // origin: the blob store, for /readyz
	originRdy *health.Checker
	edgeRdy   *health.Checker
	allRdy    atomic.Pointer[health.Checker] // the metrics listener's
}

// worker is background work the shutdown stops, then waits for.
type worker struct {
	name string
	w    interface {
		Stop() // take no new work
		Wait() // until the work in hand is done
	}
	active func() int // work in hand now; nil if unknown
}

// pending says what the worker still has in hand.
func (w worker) pending() string {
	if w.active == nil {
		return "in flight"
	}
	return fmt.Sprintf("%d running", w.active())
}

// Start opens the stores and starts the servers of cfg.Mode.
func Start(cfg Config, log *slog.Logger) (*App, error) {
	if cfg.Mode == "" {
		cfg.Mode = Serve
	}
	if cfg.Limits == nil {
		cfg.Limits = &httpx.DefaultLimits
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	a := &App{Accounts: cfg.Accounts, cfg: cfg, log: log, done: make(chan error, 3), Metrics: metrics.New()}
	a.countAccepts()
	fail := func(err error) (*App, error) {
		a.Close()
		return nil, err
	}
	if len(a.Accounts) == 0 {
		if cfg.Mode == Edge {
			return nil, errors.New("edge mode needs the accounts: set CLOUDINARY_URL or --accounts")
		}
		demo, err := origin.DemoAccount(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		a.Accounts = []origin.Account{demo}
	}
	token := cfg.DeriveToken
	if token == "" {
		if cfg.Mode == Edge {
			return nil, errors.New("edge mode needs --derive-token (the origin's is in its data dir, file derive-token)")
		}
		var err error
		if token, err = secretFile(filepath.Join(cfg.DataDir, "derive-token")); err != nil {
			return nil, err
		}
	}
	var originLn, edgeLn, metricsLn net.Listener
	var err error
	if cfg.Mode != Edge {
		if originLn, err = a.listen("origin", cfg.OriginAddr); err != nil {
			return fail(err)
		}
		a.OriginURL = "http://" + originLn.Addr().String()
	} else {
		a.OriginURL = cfg.OriginURL
	}
	if cfg.Mode != Origin {
		if edgeLn, err = a.listen("edge", cfg.EdgeAddr); err != nil {
			return fail(err)
		}
		a.EdgeURL = "http://" + edgeLn.Addr().String()
	}
	switch {
	case cfg.MetricsAddr != "":
		if metricsLn, err = a.listen("metrics", cfg.MetricsAddr); err != nil {
			return fail(err)
		}
		a.MetricsURL = "http://" + metricsLn.Addr().String() + "/metrics"
		a.serveMetrics(metricsLn)
	case cfg.Mode != Edge:
		a.MetricsURL = a.OriginURL + "/metrics"
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = a.EdgeURL
	}
	if a.plugins, err = plugins.New(filepath.Join(cfg.DataDir, "wasm-cache"), log.With("component", "plugins")); err != nil {
		return fail(err)
	}
	if cfg.Mode != Edge || cfg.NATSURL != "" {
		// The embedded server's listener takes the derive token; an edge
		// offers it (it has it anyway) when it connects.
		opt := natsembed.Options{Listen: cfg.NATSListen, Token: token}
		if cfg.NATSURL != "" && cfg.Mode != Edge {
			opt.Token = "" // an external cluster has its own credentials (in the URL)
		}
		if a.nats, err = natsembed.Start(cfg.NATSURL, filepath.Join(cfg.DataDir, "nats"), opt); err != nil {
			return fail(err)
		}
		a.NATSURL = a.nats.ClientURL()
	}
	if cfg.Mode != Edge {
		o, err := a.newOrigin(cfg, token, log.With("server", "origin"))
		if err != nil {
			return fail(err)
		}
		routes, err := a.withConsole(o, cfg, log.With("server", "origin"))
		if err != nil {
			return fail(err)
		}
		h := a.originRdy.Serve(httpx.Wrap("origin", routes, a.Metrics, log.With("server", "origin")))
		if cfg.MetricsAddr == "" {
			h = httpx.WithMetrics(h, a.Metrics)
		}
		// Streamed bodies: uploads spooled to disk, others read with a small bound.
		a.serve("origin", originLn, h, o.MaxRequestBody(), o.ConfigureHTTP)
	}
	if cfg.Mode != Origin {
		if err := a.startEdge(cfg, token, edgeLn, log.With("server", "edge")); err != nil {
			return fail(err)
		}
	}
	a.allRdy.Store(health.New(log.With("component", "readiness"), a.allChecks()...))
	return a, nil
}

func (a *App) newOrigin(cfg Config, token string, log *slog.Logger) (*origin.Server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cat, err := catalog.Open(ctx, a.nats.JS, catalog.Options{Replicas: cfg.NATSReplicas, Log: log})
	if err != nil {
		return nil, err
	}
	blobURL := cfg.Blob
	if blobURL == "" {
		dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "blobs"))
		if err != nil {
			return nil, err
		}
		blobURL = "file://" + dir
	}
	blobs, err := blob.Open(blobURL)
	if err != nil {
		return nil, err
	}
	if err := blobs.Ping(ctx); err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	queue, err := jobs.Open(ctx, a.nats.JS, jobs.Config{Name: "JOBS", AckWait: 15 * time.Second, Replicas: cfg.NATSReplicas}, log)
	if err != nil {
		return nil, err
	}
	ps, err := purge.EnsureStream(ctx, a.nats.JS, a.natsReplicas(), cfg.PurgeRetention)
	if err != nil {
		return nil, err
	}
	if n := ps.CachedInfo().Config.Replicas; n > a.natsReplicas() { // as internal/replicated says it
		log.Warn("keeping the replicas a stream has: it is never scaled down", "stream", purge.Stream,
			"replicas", n, "nats_replicas", a.natsReplicas())
	}
	a.purges = purge.NewPublisher(a.nats.JS, log.With("component", "purges"))
	a.blobs = blobs
	a.originRdy = health.New(log.With("component", "readiness"), a.originChecks()...)
	secrets := func(cloud string) (string, bool, bool) {
		for _, acct := range a.Accounts {
			if acct.Cloud == cloud {
				return acct.APISecret, acct.SignatureAlgorithm == "sha256", true
			}
		}
		return "", false, false
	}
	notifier, err := notify.New(ctx, a.nats.JS, notify.Config{Schedule: cfg.WebhookRetries,
		Timeout: cfg.WebhookTimeout, AllowPrivate: cfg.AllowPrivateHooks, Replicas: cfg.NATSReplicas,
		Attempted: func(result string) { a.Metrics.Webhooks.WithLabelValues(result).Inc() }}, secrets, log)
	if err != nil {
		return nil, err
	}
	o := origin.New(origin.Config{PublicURL: cfg.PublicURL, MaxUploadBytes: cfg.MaxUploadBytes, SpoolDir: filepath.Join(cfg.DataDir, "tmp"),
		MaxPixels: cfg.MaxPixels, AllowPrivateFetch: cfg.AllowPrivateFetch, DeriveToken: token, Strict: cfg.Strict},
		a.Accounts, origin.Deps{Catalog: cat, Blobs: blobs, Purges: a.purges, Metrics: a.Metrics,
			Jobs: queue, Notifier: notifier, Plugins: a.plugins}, log)
	work, stop := context.WithCancel(context.Background())
	a.stopWork = stop
	queue.Run(work, 2, func(ctx context.Context, j jobs.Job) error {
		a.jobsActive.Add(1)
		defer a.jobsActive.Add(-1)
		return o.RunJob(ctx, j)
	})
	notifier.Run(work)
	sweeper := newLoop(work, o.Sweep)
	a.workers = append(a.workers, worker{"jobs", queue, func() int { return int(a.jobsActive.Load()) }},
		worker{"webhook deliveries", notifier, nil}, worker{"sweeper", sweeper, nil})
	a.Notifier = notifier
	return o, nil
}

// startEdge opens the edge cache, follows the purge stream when NATS is
// there, and serves.
func (a *App) startEdge(cfg Config, token string, ln net.Listener, log *slog.Logger) error {
	secrets := map[string]string{}
	limits := map[string]plugins.Limits{}
	for _, acct := range a.Accounts {
		secrets[acct.Cloud] = acct.APISecret
		limits[acct.Cloud] = acct.PluginLimits()
	}
	var err error
	a.edge, err = edge.New(edge.Config{Origins: strings.Split(a.OriginURL, ","), Resolver: cfg.Resolver,
		HealthInterval: cfg.HealthInterval, AwaitPurges: a.nats != nil, DeriveToken: token,
		CacheDir: filepath.Join(cfg.DataDir, "edge-cache"), DiskBytes: cfg.CacheSize, MemBytes: cfg.MemCacheSize, Secrets: secrets,
		Strict: cfg.Strict, Metrics: a.Metrics, Plugins: a.plugins, PluginLimits: limits, MaxPixels: cfg.MaxPixels}, log)
	if err != nil {
		return err
	}
	if a.nats != nil {
		a.follower = purge.Follow(a.nats.JS, a.edge.PurgeCache(), a.natsReplicas(), log.With("component", "purges"))
		// Most starts catch up at once: wait a little rather than send
		// the first requests to the origin.
		select {
		case <-a.follower.Ready():
		case <-time.After(5 * time.Second):
			log.Warn("purges not caught up yet: cached entries wait until they are")
		}
	} else {
		log.Warn("no --nats URL: this edge will not receive purges")
	}
	a.edgeRdy = health.New(log.With("component", "readiness"), a.edgeChecks()...)
	a.serve("edge", ln, a.edgeRdy.Serve(httpx.Wrap("edge", a.edge.Handler, a.Metrics, log, httpx.SampleHits(cfg.LogHitSample))), smallBody)
	return nil
}

// Done delivers the first error of a server that stopped on its own.
func (a *App) Done() <-chan error { return a.done }

// loop runs one background function until it is stopped.
type loop struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newLoop(ctx context.Context, f func(context.Context)) *loop {
	ctx, cancel := context.WithCancel(ctx)
	l := &loop{cancel: cancel}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		f(ctx)
	}()
	return l
}

// Stop ends the function's context.
func (l *loop) Stop() { l.cancel() }

// Wait blocks until the function has returned.
func (l *loop) Wait() { l.wg.Wait() }

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
