package edge

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/edgepix/edgepix/internal/wire"
	"github.com/edgepix/edgepix/plugins"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/edgepix/edgepix/transform/pipeline"
	"github.com/valyala/fasthttp"
)

// assetInfo is the origin's /internal/asset answer.
type assetInfo struct {
	Type    string            `json:"type"`
	Version int64             `json:"version"`
	Tags    []string          `json:"tags"`
	Context map[string]string `json:"context"`
}

// runPlugins renders a chain with fn_wasm steps: the part before the first
// plugin comes from the origin (as lossless PNG, cached like any derived
// image), each plugin runs here, and the steps between and after run here
// with the transform pipeline.
func (s *Server) runPlugins(ctx context.Context, cloud string, p *grammar.Path, class string, c caller) (*entry, error) {
	if s.cfg.Plugins == nil {
		return nil, &plugins.Error{Status: 400, Msg: "fn_wasm plugins are not enabled on this edge"}
	}
	before, _, _, _ := p.Chain.SplitPlugin()
	// The part before the plugin, as PNG: a path the edge builds itself
	// (after authorising the client's URL), so it signs it for the origin.
	bp := &grammar.Path{ResourceType: p.ResourceType, Type: p.Type, RawChain: before.String(), Chain: before,
		Version: p.Version, HasVersion: p.HasVersion, PublicID: p.PublicID, Ext: "png"}
	bp = bp.Signed(s.cfg.Secrets[cloud])
	src, _, err := s.cached(assetPrefix(cloud, bp.ResourceType, bp.Type, bp.PublicID)+bp.CacheKey("png:"),
		func() (*entry, error) { return s.fromOrigin(cloud, bp, "", c) })
	if err != nil {
		return nil, err
	}
	maxPixels := s.cfg.MaxPixels
	if maxPixels <= 0 {
		maxPixels = codec.DefaultMaxPixels
	}
	ctx, cancel := context.WithTimeout(ctx, deriveTimeout) // the steps run here are bounded like a render
	defer cancel()
	img, err := codec.Decode(src.body(), codec.DecodeOptions{MaxPixels: maxPixels, IgnoreOrientation: true, Ctx: ctx})
	if err != nil {
		return nil, err
	}
	info, err := s.assetInfo(cloud, p.ResourceType, p.Type, p.PublicID)
	if err != nil {
		return nil, err
	}
	meta, _ := json.Marshal(map[string]any{"context": orEmpty(info.Context), "tags": info.Tags,
		"variables": variables(p.Chain.Variables())})
	lim := s.cfg.PluginLimits[cloud]
	lim.MaxPixels = maxPixels
	rest := p.Chain[len(before):]
	for len(rest) > 0 {
		id := strings.ReplaceAll(rest[0].Plugin, ":", "/")
		wasm, err := s.pluginModule(cloud, id)
		if err != nil {
			return nil, err
		}
		for i, f := range img.Frames {
			out, err := s.cfg.Plugins.Run(ctx, cloud+"/"+id, wasm, f, meta, lim)
			if err != nil {
				return nil, err
			}
			img.Frames[i] = out
		}
		_, _, after, ok := rest[1:].SplitPlugin()
		step := rest[1:]
		if ok {
			step = rest[1 : len(rest)-len(after)-1]
		}
		b := img.Frames[0].Rect
		if img, err = pipeline.ApplyWith(img, step, b.Dx(), b.Dy(), pipeline.Limits{MaxPixels: maxPixels, MaxOutputPixels: maxPixels, Ctx: ctx},
			pipeline.Env{Layers: s.layers(cloud), Tags: info.Tags, Context: info.Context}); err != nil {
			return nil, err
		}
		rest = rest[1+len(step):]
	}
	format := p.Format()
	if format == "" {
		format = info.formatOf(p)
	}
	res, err := pipeline.Encode(img, p.Chain, format, class)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(res.Data)
	return newEntry(res.Format.ContentType(), `"`+hex.EncodeToString(sum[:])+`"`, time.Now().UTC().Truncate(time.Second), res.Data), nil
}

// formatOf is the output format when the URL names none: the extension,
// else JPEG (the pixels came as PNG, which is not what the user asked).
func (a *assetInfo) formatOf(p *grammar.Path) string {
	if p.Ext != "" {
		return p.Ext
	}
	return "jpg"
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// variables passes numeric URL variables as numbers, others as text
// (string values lose the !...! quotes).
func variables(v map[string]string) map[string]any {
	out := map[string]any{}
	for k, s := range v {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			out[k] = f
			continue
		}
		out[k] = strings.Trim(s, "!")
	}
	return out
}

// assetInfo asks the origin about an asset (rt and typ are the edge's
// own constants or parsed values, id a validated public_id).
func (s *Server) assetInfo(cloud, rt, typ, id string) (*assetInfo, error) {
	body, err := s.internalGet(cloud, wire.AssetPath(cloud, rt, typ, id))
	if err != nil {
		return nil, err
	}
	var a assetInfo
	return &a, json.Unmarshal(body, &a)
}

// pluginModule returns the current version of a plugin's module, fetched
// once per version (a new upload is picked up by the next miss).
func (s *Server) pluginModule(cloud, id string) ([]byte, error) {
	info, err := s.assetInfo(cloud, "raw", "any", id)
	if oe, ok := err.(*originError); ok && oe.status == 404 {
		return nil, &plugins.Error{Status: 404, Msg: "Plugin not found - " + id}
	}
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s/%s/%s@%d", cloud, info.Type, id, info.Version)
	if b, ok := s.wasm.get(key); ok {
		return b, nil
	}
	mp := &grammar.Path{ResourceType: "raw", Type: info.Type, Version: info.Version, HasVersion: true, PublicID: id}
	b, err := s.internalGet(cloud, wire.DerivePath(cloud, mp.Signed(s.cfg.Secrets[cloud])))
	if err != nil {
		return nil, err
	}
	s.wasm.put(key, b, int64(len(b)))
	return b, nil
}

// layers loads overlays for steps run at the edge: the original from the
// origin's derive endpoint. Overlays are the cloud's uploaded images; id
// was validated by the grammar (it cannot leave the cloud or the type).
func (s *Server) layers(cloud string) pipeline.Layers {
	return func(id string) ([]byte, error) {
		lp := &grammar.Path{ResourceType: "image", Type: "upload", PublicID: id}
		b, err := s.internalGet(cloud, wire.DerivePath(cloud, lp))
		if oe, ok := err.(*originError); ok && oe.status == 404 {
			return nil, &grammar.Error{Msg: "Overlay not found - " + id}
		}
		return b, err
	}
}

// internalGet returns the body of an internal origin endpoint.
func (s *Server) internalGet(cloud, path string) ([]byte, error) {
	var b []byte
	err := s.internal(cloud, path, "", caller{}, 60*time.Second, func(r *fasthttp.Response) { b = append([]byte(nil), r.Body()...) })
	return b, err
}
