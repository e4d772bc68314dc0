package origin

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/edgepix/edgepix/blob"
	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/internal/metrics"
	"github.com/edgepix/edgepix/internal/wire"
	"github.com/edgepix/edgepix/jobs"
	"github.com/edgepix/edgepix/notify"
	"github.com/edgepix/edgepix/plugins"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/valyala/fasthttp"
	"golang.org/x/sync/singleflight"
)

// Config holds the origin's settings.
type Config struct {
	PublicURL         string // base of url/secure_url, e.g. http://127.0.0.1:8080
	MaxUploadBytes    int64
	MaxPixels         int64
	AllowPrivateFetch bool
	DeriveToken       string // shared secret edges send to /internal/derive
	Workers           int    // concurrent renders (default: two per core, at least 4)
	QueueLimit        int    // renders that may wait for a worker before 429
	// RenderPixels bounds the decoded pixels of all renders in flight
	// (default MaxPixels); RenderTimeout bounds one render (default 30 s)
	// and QueueWait the wait for admission (default 10 s).
	RenderPixels  int64
	RenderTimeout time.Duration
	QueueWait     time.Duration
	// Strict: unsigned deliveries may only use named transformations that
	// allow it (allowed_for_strict).
	Strict       bool
	SpoolDir     string // where upload bodies are spooled while parsed (default: the OS temp dir)
	UploadLimits        // uploads handled at once, chunked uploads kept open
	// StuckBatchAge is how long a batch may go without a queued job
	// before the sweeper queues it again (default 1 min; the sweeper
	// looks every half of it).
	StuckBatchAge time.Duration
}

// Server is the origin API.
type Server struct {
	cfg        Config
	accounts   map[string]Account
	assets     *catalog.AssetStore
	named      *catalog.NamedStore
	presets    *catalog.PresetStore
	batches    *catalog.BatchStore
	assemblies *catalog.UploadStore
	blobs      blob.Store
	purges     Purger
	metrics    *metrics.Metrics
	jobs       *jobs.Queue
	notifier   *notify.Notifier
	plugins    *plugins.Host
	chunks     chunkBook // chunked uploads in progress here
	uploads    *uploadGate
	fetch      *http.Client
	renders    singleflight.Group
	admit      *admission
	log        *slog.Logger
}

// Deps are what the origin keeps its state in and reports to. Purges,
// when set, carries purges to edges.
type Deps struct {
	Catalog  *catalog.Catalog // records, in JetStream KV
	Blobs    blob.Store       // originals, derived files, parked work
	Purges   Purger
	Metrics  *metrics.Metrics
	Jobs     *jobs.Queue
	Notifier *notify.Notifier
	Plugins  *plugins.Host // validates uploaded .wasm plugins
}

// New builds an origin server over its stores.
func New(cfg Config, accounts []Account, st Deps, log *slog.Logger) *Server {
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 100 << 20
	}
	if cfg.MaxPixels <= 0 {
		cfg.MaxPixels = codec.DefaultMaxPixels
	}
	if cfg.Workers <= 0 {
		// Two per core: CPU-bound renders, but a short one should share a
		// core with a long one rather than wait for it (see admission).
		cfg.Workers = 2 * max(runtime.GOMAXPROCS(0), 2)
	}
	if cfg.QueueLimit <= 0 {
		cfg.QueueLimit = 64
	}
	if cfg.RenderPixels <= 0 {
		cfg.RenderPixels = cfg.MaxPixels
	}
	if cfg.RenderTimeout <= 0 {
		cfg.RenderTimeout = 30 * time.Second
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = 10 * time.Second
	}
	if cfg.StuckBatchAge <= 0 {
		cfg.StuckBatchAge = time.Minute
	}
	cfg.UploadLimits = cfg.UploadLimits.withDefaults()
	s := &Server{cfg: cfg, accounts: map[string]Account{}, blobs: st.Blobs, purges: st.Purges, metrics: st.Metrics,
		jobs: st.Jobs, notifier: st.Notifier, plugins: st.Plugins,
		fetch: fetchClient(cfg.AllowPrivateFetch, 30*time.Second), log: log,
		uploads: newUploadGate(cfg.UploadLimits)}
	if c := st.Catalog; c != nil {
		s.assets, s.named, s.presets, s.batches, s.assemblies = c.Assets, c.Named, c.Presets, c.Batches, c.Uploads
	}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	s.admit = newAdmission(cfg.Workers, cfg.RenderPixels, cfg.QueueLimit, cfg.QueueWait, s.metrics.QueueDepth.Add)
	for _, a := range accounts {
		s.accounts[a.Cloud] = a
	}
	return s
}

// MaxRequestBody is the body size the HTTP server must accept.
func (s *Server) MaxRequestBody() int { return int(s.cfg.MaxUploadBytes) + 4<<20 }

// uploadAPI maps the signed Upload API methods to their handlers.
var uploadAPI = map[string]func(*Server, *fasthttp.RequestCtx, Account, string){
	"upload":   (*Server).handleUpload,
	"destroy":  (*Server).handleDestroy,
	"rename":   (*Server).handleRename,
	"tags":     (*Server).handleTags,
	"context":  (*Server).handleContext,
	"explicit": (*Server).handleExplicit,
	"sprite":   (*Server).handleSprite,
	"multi":    (*Server).handleMulti,
	"explode":  (*Server).handleExplode,
}

// Handler routes requests.
func (s *Server) Handler(ctx *fasthttp.RequestCtx) {
	p := string(ctx.Path())
	switch {
	case p == "/healthz":
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"status":"ok"}`)
		return
	case strings.HasPrefix(p, "/internal/"): // for edges, with the shared token
		if subtle.ConstantTimeCompare(ctx.Request.Header.Peek(wire.TokenHeader), []byte(s.cfg.DeriveToken)) != 1 {
			deliveryError(ctx, 401, "Invalid derive token")
			return
		}
		// /internal/{endpoint}/{cloud}/...: the cloud must be the one the
		// edge says the request is for.
		if seg := strings.SplitN(p, "/", 5); len(seg) < 5 || seg[3] != string(ctx.Request.Header.Peek(wire.CloudHeader)) {
			deliveryError(ctx, 403, errCloudMismatch.Error())
			return
		}
		if rest, ok := strings.CutPrefix(p, "/internal/derive/"); ok {
			s.handleDerive(ctx, rest)
			return
		}
		if rest, ok := strings.CutPrefix(p, "/internal/asset/"); ok {
			s.handleAssetInfo(ctx, rest)
			return
		}
	case strings.HasPrefix(p, "/v1_1/"):
		// Browsers upload straight to the API (unsigned presets, or
		// signatures made by the app's server): allow it from any origin.
		h := &ctx.Response.Header
		h.Set("Access-Control-Allow-Origin", "*")
		if ctx.IsOptions() {
			h.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type, X-Requested-With, X-Unique-Upload-Id, Content-Range")
			h.Set("Access-Control-Max-Age", "86400")
			ctx.SetStatusCode(fasthttp.StatusNoContent)
			return
		}
		parts := strings.Split(strings.TrimPrefix(p, "/v1_1/"), "/")
		if len(parts) < 2 {
			apiError(ctx, 404, "Not found")
			return
		}
		acct, ok := s.accounts[parts[0]]
		if !ok {
			apiError(ctx, 401, "Invalid cloud_name "+parts[0])
			return
		}
		switch {
		case parts[1] == "ping" || parts[1] == "resources" || parts[1] == "transformations" || parts[1] == "upload_presets":
			s.handleAdmin(ctx, acct, parts[1:])
			return
		case parts[1] == "batches" && len(parts) == 3 && ctx.IsGet():
			s.handleBatch(ctx, acct, parts[2])
			return
		case parts[1] == "batches" && len(parts) == 2 && ctx.IsGet():
			s.handleBatches(ctx, acct)
			return
		case parts[1] == "webhooks" && len(parts) >= 3 && parts[2] == "deliveries":
			s.handleDeliveries(ctx, acct, parts[3:])
			return
		case len(parts) == 3 && ctx.IsPost() && !apiResourceTypes[parts[1]]:
			apiError(ctx, 400, (&catalog.InvalidTypeError{What: "resource type", Value: parts[1]}).Error())
			return
		case len(parts) == 3 && ctx.IsPost():
			if h, ok := uploadAPI[parts[2]]; ok {
				h(s, ctx, acct, parts[1])
				return
			}
		}
	}
	apiError(ctx, 404, "Not found: "+p)
}
