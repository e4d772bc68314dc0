package edge

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edgepix/edgepix/internal/httpx"
	"github.com/edgepix/edgepix/internal/metrics"
	"github.com/edgepix/edgepix/internal/wire"
	"github.com/edgepix/edgepix/plugins"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
	"golang.org/x/sync/singleflight"
)

// deriveTimeout is how long an edge waits for a derived file: the
// origin's admission wait and render deadline fit within it, and the
// origin stops rendering when the edge stops waiting (it is told when).
const deriveTimeout = 60 * time.Second

// Config holds the edge's settings.
type Config struct {
	// Origins are the origins' base URLs (e.g. http://127.0.0.1:8081);
	// a plain-HTTP host name stands for every address it resolves to.
	Origins        []string
	Resolver       *net.Resolver // resolves origin names; nil: the system's
	HealthInterval time.Duration // between origin health checks (default 2 s)
	// AwaitPurges keeps a cache that starts with entries from serving
	// any until it has caught up with the purges it missed (the purge
	// follower says so through PurgeCache().CaughtUp).
	AwaitPurges bool
	DeriveToken string            // sent to the origin's derive endpoint
	CacheDir    string            // Badger directory
	MemBytes    int64             // hot-tier bound (default DefaultMemBytes)
	DiskBytes   int64             // Badger bound (--cache-size)
	Secrets     map[string]string // cloud → API secret, for signed URLs
	Strict      bool              // only signed URLs and named transformations
	Metrics     *metrics.Metrics  // nil: a private registry
	Plugins     *plugins.Host     // runs fn_wasm steps; nil: plugins refused
	// PluginLimits are per cloud; MaxPixels bounds every output.
	PluginLimits map[string]plugins.Limits
	MaxPixels    int64
}

// Server is the delivery edge.
type Server struct {
	cfg    Config
	cache  *cache
	wasm   *lru[[]byte] // plugin modules by cloud/type/id@version
	client *fasthttp.Client
	flight singleflight.Group
	log    *slog.Logger

	origins     *origins // where misses go
	stopOrigins sync.Once

	routes       *routes // the URLs seen, parsed and authorised
	hits, misses prometheus.Counter
}

// New opens the cache and returns an edge.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if cfg.DiskBytes <= 0 {
		cfg.DiskBytes = 1 << 30
	}
	if cfg.MemBytes <= 0 {
		cfg.MemBytes = DefaultMemBytes(cfg.DiskBytes)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	specs, err := parseOrigins(cfg.Origins)
	if err != nil {
		return nil, err
	}
	c := openCache(cfg.CacheDir, cfg.MemBytes, cfg.DiskBytes, cfg.Metrics, log)
	c.held.Store(cfg.AwaitPurges && c.index.bytes() > 0) // an empty cache has nothing stale to hold back
	// Connections to an origin stay well under its per-IP cap (256 by
	// default): an edge is one client address to its origins.
	s := &Server{cfg: cfg, cache: c, log: log, wasm: newLRU[[]byte](256 << 20), client: &fasthttp.Client{
		ReadTimeout: deriveTimeout + 5*time.Second, WriteTimeout: 10 * time.Second, MaxResponseBodySize: 512 << 20,
		MaxConnsPerHost: 128, MaxConnWaitTimeout: 10 * time.Second,
	}}
	s.origins = newOrigins(specs, cfg.Resolver, cfg.HealthInterval, log)
	s.routes = newRoutes()
	s.hits, s.misses = cfg.Metrics.Cache.WithLabelValues("hit"), cfg.Metrics.Cache.WithLabelValues("miss")
	return s, nil
}

// Close is CloseWithin(DefaultCloseTimeout).
func (s *Server) Close() error { return s.CloseWithin(DefaultCloseTimeout) }

// originError is a non-200 answer from the origin, passed on to the client.
type originError struct {
	status int
	msg    string
}

func (e *originError) Error() string { return e.msg }

func fail(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.Response.Header.Set("X-Cld-Error", msg)
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString(msg + "\n")
}

// Handler serves delivery URLs. A URL seen before whose answer is
// cached is served without parsing it again (see route); anything else
// takes the full path (resolve).
func (s *Server) Handler(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() && !ctx.IsHead() {
		fail(ctx, 405, "Method not allowed")
		return
	}
	path := ctx.Path()
	if string(path) == "/healthz" {
		ctx.SetBodyString("ok\n")
		return
	}
	if len(ctx.URI().QueryString()) == 0 || !bytes.Contains(path, fetchSegment) {
		if r := s.routes.get(path); r != nil && s.hit(ctx, r) {
			return
		}
	}
	s.resolve(ctx)
}

var fetchSegment = []byte("/fetch/")

// hit serves the cached answer of a known route, if there is one.
func (s *Server) hit(ctx *fasthttp.RequestCtx, r *route) bool {
	class := 0
	if r.auto {
		if class = s.routes.class(ctx.Request.Header.PeekBytes(hdrAccept)); class < 0 {
			return false
		}
	}
	e, ok := s.cache.get(r.key(class))
	if !ok {
		return false
	}
	s.hits.Inc()
	if r.auto {
		ctx.Response.Header.SetCanonical(hdrVary, hdrAccept)
	}
	respond(ctx, r, e, true)
	return true
}

// resolve parses and authorises a delivery URL, remembers its route and
// answers it from the cache or the origin.
func (s *Server) resolve(ctx *fasthttp.RequestCtx) {
	raw := string(ctx.Path())
	q := fetchQuery(raw, ctx.URI().QueryString())
	if q != "" {
		raw += "?" + q // a fetch URL's own query string (the SDKs do not escape its '?')
	}
	cloud, rest, ok := strings.Cut(strings.TrimPrefix(raw, "/"), "/")
	secret, known := s.cfg.Secrets[cloud]
	if !ok || !known {
		fail(ctx, 404, "Unknown cloud: "+cloud)
		return
	}
	p, err := grammar.ParsePath(rest)
	if err != nil {
		fail(ctx, 400, err.Error())
		return
	}
	if status, msg := authorize(p, secret, s.cfg.Strict); status != 0 {
		fail(ctx, status, msg)
		return
	}
	format := p.Format()
	class := ""
	if format == "auto" {
		class = grammar.AcceptClass(string(ctx.Request.Header.Peek("Accept")))
		ctx.Response.Header.Set("Vary", "Accept")
	}
	r := newRoute(cloud, p, format)
	if dpr, width := p.Chain.UsesHints(); !dpr && !width && q == "" {
		s.routes.put(raw, r) // the answer depends on the URL alone (and Accept)
	}
	if p, err = clientHints(ctx, p, secret); err != nil {
		fail(ctx, 400, err.Error())
		return
	}
	key := assetPrefix(cloud, p.ResourceType, p.Type, p.PublicID) + p.CacheKey(format+":"+class)
	c := caller{requestID: string(ctx.Response.Header.Peek(httpx.RequestIDHeader)), client: ctx.RemoteIP().String()}
	fill := func() (*entry, error) { return s.fromOrigin(cloud, p, class, c) }
	if _, _, _, ok := p.Chain.SplitPlugin(); ok {
		fill = func() (*entry, error) { return s.runPlugins(ctx, cloud, p, class, c) }
	}
	e, hit, err := s.cached(key, fill)
	if err != nil {
		var oe *originError
		var pe *plugins.Error
		var ge *grammar.Error
		var le *codec.LimitError
		var pge *codec.PageError
		var de *codec.DecodeError
		switch {
		case errors.As(err, &oe):
			fail(ctx, oe.status, oe.msg)
		case errors.As(err, &pe):
			fail(ctx, pe.Status, pe.Msg)
		case errors.As(err, &ge), errors.As(err, &le), errors.As(err, &pge):
			fail(ctx, 400, err.Error()) // steps run at the edge (after a plugin)
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			fail(ctx, 503, "Render took too long: "+err.Error())
		case errors.As(err, &de):
			fail(ctx, 422, err.Error())
		default:
			fail(ctx, 502, "Origin unavailable: "+err.Error())
		}
		return
	}
	respond(ctx, r, e, hit)
}

// cached returns the entry for key, filling it once (for all concurrent
// requests) on a miss.
func (s *Server) cached(key string, fill func() (*entry, error)) (*entry, bool, error) {
	if e, hit := s.cache.get(key); hit {
		s.hits.Inc()
		return e, true, nil
	}
	s.misses.Inc()
	v, err, _ := s.flight.Do(key, func() (any, error) {
		if e, ok := s.cache.get(key); ok {
			return e, nil
		}
		g := s.cache.generation()
		e, err := fill()
		if err != nil {
			return nil, err
		}
		if e.transient {
			return e, nil
		}
		s.cache.put(key, e, g)
		s.cfg.Metrics.CacheBytes.WithLabelValues("memory").Set(float64(s.cache.mem.bytes()))
		s.cfg.Metrics.CacheBytes.WithLabelValues("disk").Set(float64(s.cache.index.bytes()))
		return e, nil
	})
	if err != nil {
		return nil, false, err
	}
	return v.(*entry), false, nil
}

// assetPrefix starts the cache keys of every delivery of one asset, so
// that a purge can find them.
func assetPrefix(cloud, rt, typ, publicID string) string {
	return cloud + "/" + rt + "/" + typ + "/" + publicID + "\x00"
}

// fetchQuery returns the part of the query string that belongs to a fetch
// URL (/{cloud}/{rt}/fetch/...): all of it but the SDKs' _a parameter.
func fetchQuery(path string, query []byte) string {
	if len(query) == 0 || !strings.Contains(path, "/fetch/") { // cheap test first: SDK URLs all carry ?_a=
		return ""
	}
	if parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 4); len(parts) < 4 || parts[2] != "fetch" {
		return ""
	}
	q := string(query)
	if strings.HasPrefix(q, "_a=") {
		return ""
	}
	for _, sep := range []string{"?_a=", "&_a="} {
		if i := strings.Index(q, sep); i >= 0 {
			q = q[:i]
		}
	}
	return q
}

// authorize applies the delivery rules a URL must meet before anything is
// looked up (docs/security.md): a signature, when present, must be valid;
// authenticated assets and private originals need one; with strict,
// unsigned URLs may only use named transformations (whether each allows
// it is the origin's to say) and fetch needs a signature. The URL's type
// is the stored type of what it names (assets are keyed by it); the origin
// checks again against the stored asset. It returns 0 when allowed.
func authorize(p *grammar.Path, secret string, strict bool) (int, string) {
	switch {
	case p.Signature != "" && !p.VerifySignature(secret):
		return 401, "Invalid URL signature"
	case p.Signature != "":
		return 0, ""
	case grammar.NeedsSignature(p.Type, p):
		return 401, "Signature required: " + p.Type + " assets are delivered through signed URLs only"
	}
	if _, named := p.Chain.StrictNames(); strict && (p.Type == "fetch" || !named) {
		return 401, "Strict transformations: only signed URLs and named transformations are allowed"
	}
	return 0, ""
}

// caller is who a call to the origin is made for: the request id that
// ties the logs together, and the client address the origin's admission
// shares render capacity by.
type caller struct{ requestID, client string }

// fromOrigin asks the origin's derive endpoint for p.
func (s *Server) fromOrigin(cloud string, p *grammar.Path, class string, c caller) (*entry, error) {
	var e *entry
	err := s.internal(cloud, wire.DerivePath(cloud, p), "class="+url.QueryEscape(class), c, deriveTimeout,
		func(resp *fasthttp.Response) {
			sum := sha1.Sum(resp.Body())
			lm := time.Now().UTC()
			if v, err := strconv.ParseInt(string(resp.Header.Peek("X-Edgepix-Version")), 10, 64); err == nil && v > 0 {
				lm = time.Unix(v, 0).UTC()
			}
			e = newEntry(string(resp.Header.ContentType()), `"`+hex.EncodeToString(sum[:])+`"`, lm, resp.Body())
			e.transient = len(resp.Header.Peek("X-Edgepix-Placeholder")) > 0
		})
	return e, err
}

// internal calls an internal origin endpoint for cloud with the derive
// token and hands a 200 answer to read; any other answer is an
// *originError. It tries the origins in turn (see origins.order) while
// one cannot be reached or answers 502 or 503 and time is left; every
// call carries the same headers and the request's one deadline. path is
// built from parsed, validated parts and decoded: it is escaped again
// here (spaces, and text overlays' %2C, must reach the origin as they
// reached the edge). The origin checks that the path's cloud is the one
// named in X-Edgepix-Cloud.
func (s *Server) internal(cloud, path, query string, c caller, timeout time.Duration, read func(*fasthttp.Response)) error {
	deadline := time.Now().Add(timeout)
	uri := (&url.URL{Path: path}).EscapedPath()
	if query != "" {
		uri += "?" + query
	}
	err := errors.New("no origin configured")
	for i, o := range s.origins.order() {
		if i > 0 && time.Until(deadline) < minRetry {
			break
		}
		err = s.call(o.base+uri, cloud, c, deadline, read)
		retry, down := failover(err)
		if !retry {
			return err
		}
		if down {
			s.origins.mark(o, false, false, err.Error())
		}
		s.log.Warn("origin failed; trying the next", "origin", o.base, "err", err, "request_id", c.requestID)
	}
	return err
}

// call makes one call to an origin.
func (s *Server) call(uri, cloud string, c caller, deadline time.Time, read func(*fasthttp.Response)) error {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(uri)
	req.Header.Set(wire.TokenHeader, s.cfg.DeriveToken)
	req.Header.Set(wire.CloudHeader, cloud)
	req.Header.Set(wire.DeadlineHeader, strconv.FormatInt(deadline.UnixMilli(), 10))
	if c.requestID != "" {
		req.Header.Set(httpx.RequestIDHeader, c.requestID)
	}
	if c.client != "" {
		req.Header.Set(wire.ClientHeader, c.client)
	}
	if err := s.client.DoDeadline(req, resp, deadline); err != nil {
		return err
	}
	if resp.StatusCode() != 200 {
		msg := string(resp.Header.Peek("X-Cld-Error"))
		if msg == "" {
			msg = fmt.Sprintf("origin answered %d", resp.StatusCode())
		}
		return &originError{status: resp.StatusCode(), msg: msg}
	}
	read(resp)
	return nil
}

// CheckOrigins is the edge's readiness as to its origins: nil when at
// least one was reachable at its last health check.
func (s *Server) CheckOrigins(ctx context.Context) error { return s.origins.check(ctx) }
