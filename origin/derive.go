package origin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/edgepix/edgepix/blob"
	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/internal/wire"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/edgepix/edgepix/transform/pipeline"
	"github.com/valyala/fasthttp"
)

// derived is a rendered result as the derive endpoint returns it.
type derived struct {
	data        []byte
	contentType string
	version     int64
	placeholder bool // a d_ image standing in for a missing asset
}

// errBusy is returned when every worker is busy and the queue is full.
var errBusy = errors.New("Too many concurrent renders, retry later")

// deliveryError writes a delivery error with X-Cld-Error.
func deliveryError(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.Response.Header.Set("X-Cld-Error", msg)
	apiError(ctx, status, msg)
}

// handleDerive serves GET /internal/derive/{cloud}/{delivery path}?class=
// for edges: the derived bytes for the URL, rendered once and stored.
func (s *Server) handleDerive(ctx *fasthttp.RequestCtx, rest string) {
	cloud, dpath, ok := strings.Cut(rest, "/")
	acct, known := s.accounts[cloud]
	if !ok || !known {
		deliveryError(ctx, 404, "Unknown cloud "+cloud)
		return
	}
	p, err := grammar.ParsePath(dpath)
	if err != nil {
		deliveryError(ctx, 400, err.Error())
		return
	}
	class := string(ctx.QueryArgs().Peek("class"))
	rctx, cancel := s.renderContext(ctx, ctx.Request.Header.Peek(wire.DeadlineHeader))
	defer cancel()
	rctx = forClient(rctx, cloud+"/"+string(ctx.Request.Header.Peek(wire.ClientHeader)))
	// The URL's rules first (nothing is looked up for a refused request),
	// then the same rules against the type the asset is stored with.
	err = s.authorize(rctx, acct, p, p.Type)
	var d *derived
	if err == nil {
		d, err = s.derive(rctx, cloud, p, class, func(a *catalog.Asset) error {
			if a.Type == p.Type {
				return nil // checked above
			}
			return s.authorize(rctx, acct, p, a.Type)
		})
	}
	if err != nil {
		status := 500
		var ae *AccessError
		var te *catalog.InvalidTypeError
		var ge *grammar.Error
		var le *codec.LimitError
		var pe *codec.PageError
		var de *codec.DecodeError
		switch {
		case errors.Is(err, catalog.ErrAssetNotFound):
			status, err = 404, fmt.Errorf("Resource not found - %s", p.PublicID)
		case unavailable(err):
			status = 503 // edges try another origin, or later
			ctx.Response.Header.Set("Retry-After", retryAfter)
		case errors.Is(err, errBusy):
			status = 429
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			status, err = 503, fmt.Errorf("Render took too long: %v", err)
		case errors.As(err, &ae):
			status = 401
		case errors.As(err, &te):
			status = 400
		case errors.As(err, &ge), errors.As(err, &le), errors.As(err, &pe):
			status = 400
		case errors.As(err, &de):
			status = 422
		}
		deliveryError(ctx, status, err.Error())
		return
	}
	ctx.SetContentType(d.contentType)
	ctx.Response.Header.Set("X-Edgepix-Version", strconv.FormatInt(d.version, 10))
	if d.placeholder {
		ctx.Response.Header.Set("X-Edgepix-Placeholder", "1") // edges serve it without caching it
	}
	ctx.SetBody(d.data)
}

// derive finds the asset, then returns the stored derived file or renders
// it. Concurrent requests for one key render once. allow, when set, may
// refuse the asset found (deliveries are authorised against it).
func (s *Server) derive(ctx context.Context, cloud string, p *grammar.Path, class string, allow func(*catalog.Asset) error) (*derived, error) {
	var a *catalog.Asset
	var err error
	if p.Type == "fetch" {
		a, err = s.remote(ctx, s.accounts[cloud], p.PublicID)
	} else {
		a, err = s.assets.Get(ctx, cloud, p.ResourceType, p.Type, p.PublicID)
	}
	placeholder := false
	if def := p.Chain.Default(); errors.Is(err, catalog.ErrAssetNotFound) && def != "" && p.ResourceType == "image" {
		// d_: the placeholder, transformed the same way, stands in.
		if a, err = s.assets.Get(ctx, cloud, "image", "upload", def); errors.Is(err, catalog.ErrAssetNotFound) {
			return nil, &grammar.Error{Msg: "Default image not found - " + def}
		}
		placeholder = true
	}
	if err != nil {
		return nil, err
	}
	if allow != nil {
		if err := allow(a); err != nil {
			return nil, err
		}
	}
	d, err := s.deriveAsset(ctx, cloud, p, a, class)
	if d != nil && placeholder {
		c := *d
		c.placeholder = true
		return &c, err
	}
	return d, err
}

// deriveAsset renders (or finds stored) the derived file of asset a.
func (s *Server) deriveAsset(ctx context.Context, cloud string, p *grammar.Path, a *catalog.Asset, class string) (*derived, error) {
	steps := p.Chain
	if a.Type == "sprite" || a.Type == "multi" {
		if d, ok, err := s.creativeFile(ctx, a, p); ok {
			return d, err
		}
		steps = afterCreative(steps, a.Transformation) // the stored image has those applied
	}
	if p.ResourceType != "image" || (len(steps) == 0 && (p.Ext == "" || p.Ext == a.Format)) {
		b, err := s.readBlob(ctx, a.BlobKey, s.originalLimit(a))
		if err != nil {
			return nil, err
		}
		ct := codec.Format(a.Format).ContentType()
		return &derived{data: b, contentType: ct, version: a.Version}, nil
	}
	format := p.Format()
	keyFormat := format
	if format == "auto" {
		keyFormat = "auto:" + class
	}
	// Named transformations are expanded first, so the stored file follows
	// the definition in force, not the name.
	chain, err := steps.Expand(resolver{ctx, s.named, cloud})
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s/%s@%s@%d", chain, p.Ext, keyFormat, a.Version)
	for _, c := range chain { // an overlay's new version is a new derived file
		if c.Overlay != "" {
			if la, err := s.assets.Get(ctx, cloud, "image", "upload", c.Overlay); err == nil {
				key += fmt.Sprintf("|%s@%d", c.Overlay, la.Version)
			}
		}
	}
	sum := sha256.Sum256([]byte(key))
	blobKey := derivedDir(a) + "/" + hex.EncodeToString(sum[:])
	v, err, _ := s.renders.Do(blobKey, func() (any, error) {
		if b, err := s.readBlob(ctx, blobKey, s.derivedLimit()); err == nil && len(b) > 0 {
			f, _ := codec.Sniff(b)
			return &derived{data: b, contentType: f.ContentType(), version: a.Version}, nil
		} else if err != nil && !errors.Is(err, blob.ErrNotFound) {
			return nil, err
		}
		// Admitted first for reading the file, then for what its probe says
		// the render holds.
		release, err := s.admitWork(ctx, fileCost(a))
		if err != nil {
			return nil, err
		}
		defer func() { release() }()
		src, err := s.readBlob(ctx, a.BlobKey, s.originalLimit(a))
		if err != nil {
			return nil, err
		}
		if release, err = s.readmit(ctx, release, a, src, chain, format); err != nil {
			return nil, err
		}
		start := time.Now()
		res, err := pipeline.Render(src, pipeline.Request{Chain: chain, Format: format, AcceptClass: class,
			Env: pipeline.Env{Layers: s.layers(ctx, cloud), Tags: a.Tags, Context: a.Context, Pages: a.Pages}, Limits: s.limits(ctx)})
		if err != nil {
			s.metrics.Renders.WithLabelValues("error").Inc()
			return nil, err
		}
		s.metrics.Renders.WithLabelValues("ok").Inc()
		s.metrics.RenderSeconds.Observe(time.Since(start).Seconds())
		if err := s.writeBlob(ctx, blobKey, res.Data); err != nil {
			s.log.Warn("storing derived file", "key", key, "err", err)
		} else {
			s.recordDerived(ctx, blobKey, a, p, res.Data, res.Format)
		}
		return &derived{data: res.Data, contentType: res.Format.ContentType(), version: a.Version}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*derived), nil
}

// AssetInfo is what an edge needs to know of an asset to run a plugin on
// it (its context and tags go into the plugin's metadata) or to load a
// plugin (its type and version).
type AssetInfo struct {
	Type    string            `json:"type"`
	Version int64             `json:"version"`
	Tags    []string          `json:"tags"`
	Context map[string]string `json:"context"`
}

// handleAssetInfo serves GET /internal/asset/{cloud}/{rt}/{type}/{public_id}
// for edges; type "any" looks for authenticated, then upload.
func (s *Server) handleAssetInfo(ctx *fasthttp.RequestCtx, rest string) {
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) != 4 {
		deliveryError(ctx, 400, "Bad asset path")
		return
	}
	if err := grammar.CheckPublicID(parts[3]); err != nil {
		deliveryError(ctx, 400, err.Error())
		return
	}
	types := []string{parts[2]}
	if parts[2] == "any" {
		types = []string{"authenticated", "upload"}
	}
	for _, typ := range types {
		a, err := s.assets.Get(ctx, parts[0], parts[1], typ, parts[3])
		var te *catalog.InvalidTypeError
		switch {
		case errors.Is(err, catalog.ErrAssetNotFound):
			continue
		case errors.As(err, &te):
			deliveryError(ctx, 400, err.Error())
			return
		case unavailable(err):
			ctx.Response.Header.Set("Retry-After", retryAfter)
			deliveryError(ctx, 503, err.Error())
			return
		case err != nil:
			deliveryError(ctx, 500, err.Error())
			return
		}
		writeJSON(ctx, AssetInfo{Type: a.Type, Version: a.Version, Tags: a.Tags, Context: a.Context})
		return
	}
	deliveryError(ctx, 404, "Resource not found - "+parts[3])
}

// layers loads overlays (l_) from the cloud's uploaded images.
func (s *Server) layers(ctx context.Context, cloud string) pipeline.Layers {
	return func(id string) ([]byte, error) {
		a, err := s.assets.Get(ctx, cloud, "image", "upload", id)
		if errors.Is(err, catalog.ErrAssetNotFound) {
			return nil, &grammar.Error{Msg: "Overlay not found - " + id}
		}
		if err != nil {
			return nil, err
		}
		return s.readBlob(ctx, a.BlobKey, s.originalLimit(a))
	}
}
