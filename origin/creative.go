package origin

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/edgepix/edgepix/transform/pipeline"
	"github.com/valyala/fasthttp"
)

// Limits on the images a sprite or multi combines (Cloudinary's).
const (
	creativeSyncMax  = 100
	creativeAsyncMax = 500
	multiFrameMillis = 100
)

// creative is a sprite or multi request, as a job carries it.
type creative struct {
	Kind      string `json:"kind"` // sprite, multi
	Tag       string `json:"tag"`
	Chain     string `json:"chain"`  // transformation without f_
	Format    string `json:"format"` // output format
	RequestID string `json:"request_id,omitempty"`
}

// handleSprite serves POST {rt}/sprite (generate_sprite by tag).
func (s *Server) handleSprite(ctx *fasthttp.RequestCtx, acct Account, rt string) {
	s.handleCreative(ctx, acct, "sprite")
}

// handleMulti serves POST {rt}/multi (animated GIF/WebP from a tag).
func (s *Server) handleMulti(ctx *fasthttp.RequestCtx, acct Account, rt string) {
	s.handleCreative(ctx, acct, "multi")
}

func (s *Server) handleCreative(ctx *fasthttp.RequestCtx, acct Account, kind string) {
	f, ok := signedForm(ctx, acct)
	if !ok {
		return
	}
	c, err := parseCreative(f, kind)
	if err != nil {
		failure(ctx, err, 400)
		return
	}
	c.RequestID = requestID(ctx)
	to, err := notificationURL(f, acct, "notification_url")
	if err != nil {
		failure(ctx, err, 400)
		return
	}
	if truthy(f.get("async")) {
		b := newBatch(acct.Cloud, kind, c.Tag, 1)
		j := &job{Cloud: acct.Cloud, BatchID: b.ID, RequestID: c.RequestID, Notify: to, Creative: c}
		if err := s.enqueue(ctx, kind, b, j); err != nil {
			failure(ctx, fmt.Errorf("queueing the %s: %w", kind, err), 500)
			return
		}
		writeJSON(ctx, map[string]any{"status": "processing", "batch_id": b.ID, "public_id": c.Tag})
		return
	}
	res, status, err := s.makeCreative(ctx, acct, c, creativeSyncMax)
	if err != nil {
		failure(ctx, err, status)
		return
	}
	if to != "" {
		s.notify(ctx, acct, to, kind, "", "", withRequestID(res, c.RequestID))
	}
	writeJSON(ctx, res)
}

func withRequestID(m map[string]any, id string) map[string]any {
	out := map[string]any{"request_id": id}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// parseCreative reads tag, transformation and format; the output format
// comes from `format` (the Go SDK) or f_ in the transformation (Node).
func parseCreative(f *form, kind string) (*creative, error) {
	c := &creative{Kind: kind, Tag: f.get("tag")}
	if c.Tag == "" {
		if f.get("urls") != "" || len(f.list("urls")) > 0 {
			return nil, errors.New("urls are not supported; tag the images and pass tag")
		}
		return nil, errors.New("Missing required parameter - tag")
	}
	ch, err := grammar.ParseChain(f.get("transformation"))
	if err != nil {
		return nil, fmt.Errorf("Invalid transformation: %v", err)
	}
	if _, _, _, plugin := ch.SplitPlugin(); plugin {
		return nil, errors.New("fn_wasm cannot be used in a " + kind)
	}
	format := strings.ToLower(f.get("format"))
	if fx := ch.Format(); fx != "" {
		format = fx
	}
	var kept grammar.Chain
	for _, comp := range ch { // f_ goes to the output, not to each image
		if comp.Format != "" {
			comp.Format = ""
			if comp.String() == "" {
				continue
			}
		}
		kept = append(kept, comp)
	}
	c.Chain = kept.String()
	switch {
	case format == "" && kind == "sprite":
		format = "png"
	case format == "" && kind == "multi":
		format = "gif"
	case format == "jpeg":
		format = "jpg"
	}
	ok := map[string]bool{"png": true, "jpg": true, "gif": true, "webp": true, "avif": true}
	if kind == "multi" {
		ok = map[string]bool{"gif": true, "webp": true, "pdf": true}
	}
	if !ok[format] {
		return nil, fmt.Errorf("%s format %s is not supported", kind, format)
	}
	c.Format = format
	return c, nil
}

// makeCreative renders and stores a sprite or multi and returns its
// result (the API answer and the notification body).
func (s *Server) makeCreative(ctx context.Context, acct Account, c *creative, limit int) (map[string]any, int, error) {
	page, err := s.assets.ByTag(ctx, acct.Cloud, "image", c.Tag, "", limit+1)
	if err != nil {
		return nil, 500, err
	}
	var srcs []*catalog.Asset
	for _, a := range page.Assets {
		if a.Type == "upload" {
			srcs = append(srcs, a)
		}
	}
	switch {
	case len(srcs) == 0:
		return nil, 404, fmt.Errorf("No images found with tag %s", c.Tag)
	case len(srcs) > limit:
		return nil, 400, fmt.Errorf("Too many images with tag %s: at most %d", c.Tag, limit)
	}
	chain, err := grammar.ParseChain(c.Chain)
	if err == nil {
		chain, err = chain.Expand(resolver{ctx, s.named, acct.Cloud})
	}
	if err != nil {
		return nil, 400, err
	}
	frames := make([]*image.NRGBA, 0, len(srcs))
	out := outputSize{kind: c.Kind, pdf: c.Format == "pdf"}
	for _, a := range srcs {
		// Each frame may use what the output has left of --max-pixels.
		m, err := s.renderFrame(ctx, a, chain, s.cfg.MaxPixels-out.pixels())
		if err != nil {
			return nil, 400, fmt.Errorf("%s: %w", a.PublicID, err)
		}
		frames = append(frames, m)
		out.add(m.Rect.Dx(), m.Rect.Dy())
		if err := codec.CheckPixels(c.Kind, out.w, out.h*out.n, s.cfg.MaxPixels); err != nil {
			return nil, 400, err
		}
	}
	made := &catalog.Asset{Cloud: acct.Cloud, ResourceType: "image", Type: c.Kind, PublicID: c.Tag, Format: c.Format,
		CreatedAt: time.Now().UTC().Truncate(time.Second), Tags: []string{}, Transformation: c.Chain}
	var infos map[string]imageInfo
	img := &codec.Image{}
	if c.Kind == "sprite" {
		var sheet *image.NRGBA
		sheet, infos = stack(srcs, frames)
		img.Frames, img.Delays = []*image.NRGBA{sheet}, []int{0}
	} else {
		img.Frames = fit(frames)
		delay := multiFrameMillis
		if d := chain.Delay(); d > 0 {
			delay = d
		}
		for range img.Frames {
			img.Delays = append(img.Delays, delay)
		}
	}
	var data []byte
	if c.Format == "pdf" { // one page per image, each at its own size
		if data, err = pdfOf(frames); err != nil {
			return nil, 500, err
		}
		made.Width, made.Height, made.Pages = frames[0].Rect.Dx(), frames[0].Rect.Dy(), len(frames)
	} else {
		res, err := pipeline.Encode(img, nil, c.Format, "")
		if err != nil {
			return nil, 500, err
		}
		data = res.Data
		made.Width, made.Height, made.Pages = res.Width, res.Height, res.Frames
	}
	made.Bytes = len(data)
	if err := s.storeCreative(ctx, made, data, infos); err != nil {
		return nil, 500, err
	}
	return s.creativeResult(made, infos), 0, nil
}

// outputSize follows the pixels a sprite or multi will hold as its frames
// are rendered: a sprite is one sheet (widest frame × sum of heights), an
// animation n frames of the first frame's size, a PDF the sum of its pages.
type outputSize struct {
	kind    string
	pdf     bool
	w, h, n int // the output is n frames of w×h
}

func (o *outputSize) add(w, h int) {
	switch {
	case o.kind == "sprite":
		o.w, o.h, o.n = max(o.w, w), o.h+h, 1
	case o.pdf: // pages of their own sizes: count them as one column
		o.w, o.h, o.n = max(o.w, w), o.h+h, 1
	case o.n == 0:
		o.w, o.h, o.n = w, h, 1
	default:
		o.n++
	}
}

func (o *outputSize) pixels() int64 { return int64(o.w) * int64(o.h) * int64(o.n) }

// renderFrame decodes an image and applies the chain within maxPixels;
// animated sources give their first frame.
func (s *Server) renderFrame(ctx context.Context, a *catalog.Asset, chain grammar.Chain, maxPixels int64) (*image.NRGBA, error) {
	src, err := s.readBlob(ctx, a.BlobKey, s.originalLimit(a))
	if err != nil {
		return nil, err
	}
	if maxPixels <= 0 {
		return nil, codec.CheckPixels("output", a.Width, a.Height, 0)
	}
	release, err := s.admitWork(ctx, renderCost(a))
	if err != nil {
		return nil, err
	}
	defer release()
	lim := s.limits(ctx)
	lim.MaxPixels, lim.MaxOutputPixels = maxPixels, maxPixels
	img, lw, lh, err := pipeline.Load(src, chain, "png", lim) // one frame, reduced when the chain shrinks
	if err != nil {
		return nil, err
	}
	if img, err = pipeline.ApplyWith(img, chain, lw, lh, lim,
		pipeline.Env{Layers: s.layers(ctx, a.Cloud), Tags: a.Tags, Context: a.Context, Pages: a.Pages}); err != nil {
		return nil, err
	}
	return img.Frames[0], nil
}

// imageInfo places one image in a sprite.
type imageInfo struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	X      int `json:"x"`
	Y      int `json:"y"`
}

// stack lays the images out in one vertical strip, left-aligned.
func stack(srcs []*catalog.Asset, frames []*image.NRGBA) (*image.NRGBA, map[string]imageInfo) {
	w, h := 0, 0
	for _, f := range frames {
		w, h = max(w, f.Rect.Dx()), h+f.Rect.Dy()
	}
	sheet := image.NewNRGBA(image.Rect(0, 0, w, h))
	infos := map[string]imageInfo{}
	y := 0
	for i, f := range frames {
		r := image.Rect(0, y, f.Rect.Dx(), y+f.Rect.Dy())
		draw.Draw(sheet, r, f, f.Rect.Min, draw.Src)
		infos[srcs[i].PublicID] = imageInfo{Width: r.Dx(), Height: r.Dy(), X: 0, Y: y}
		y += r.Dy()
	}
	return sheet, infos
}

// fit centres every frame on a transparent canvas of the first frame's
// size, scaling down those that are larger.
func fit(frames []*image.NRGBA) []*image.NRGBA {
	W, H := frames[0].Rect.Dx(), frames[0].Rect.Dy()
	pad, _ := grammar.ParseChain("c_pad,w_" + strconv.Itoa(W) + ",h_" + strconv.Itoa(H) + ",b_transparent")
	out := []*image.NRGBA{frames[0]}
	for _, f := range frames[1:] {
		if f.Rect.Dx() == W && f.Rect.Dy() == H {
			out = append(out, f)
			continue
		}
		m, err := pipeline.Apply(&codec.Image{Frames: []*image.NRGBA{f}, Delays: []int{0}}, pad, f.Rect.Dx(), f.Rect.Dy(), pipeline.Limits{})
		if err != nil {
			continue
		}
		out = append(out, m.Frames[0])
	}
	return out
}

// storeCreative writes the image (and, for a sprite, its CSS and JSON)
// then the metadata, replacing an earlier one with the same tag.
func (s *Server) storeCreative(ctx context.Context, a *catalog.Asset, data []byte, infos map[string]imageInfo) error {
	prev, err := s.assets.Get(ctx, a.Cloud, a.ResourceType, a.Type, a.PublicID)
	if err != nil && !errors.Is(err, catalog.ErrAssetNotFound) {
		return err
	}
	a.Version = time.Now().Unix()
	if prev != nil {
		a.AssetID = prev.AssetID
		a.Version = max(a.Version, prev.Version+1)
	} else {
		a.AssetID = randomHex(32)
	}
	sum := md5.Sum(data)
	a.Etag, a.VersionID = hex.EncodeToString(sum[:]), randomHex(32)
	a.BlobKey = originalKey(a)
	files := map[string][]byte{a.BlobKey: data}
	if a.Type == "sprite" {
		r := s.creativeResult(a, infos)
		js, _ := json.Marshal(map[string]any{"image_url": r["image_url"], "image_infos": infos})
		files[auxKey(a, "css")] = []byte(spriteCSS(r["image_url"].(string), infos))
		files[auxKey(a, "json")] = js
	}
	for key, b := range files {
		if err := s.writeBlob(ctx, key, b); err != nil {
			for k := range files {
				s.dropBlob(ctx, k)
			}
			return err
		}
	}
	if err := s.assets.Put(ctx, a); err != nil {
		for k := range files {
			s.dropBlob(ctx, k)
		}
		return err
	}
	if prev != nil {
		s.replaced(ctx, prev, true)
	}
	return nil
}

// auxKey is where a sprite version keeps its CSS or JSON file.
func auxKey(a *catalog.Asset, ext string) string { return a.BlobKey + "." + ext }

// spriteCSS has one class per image, named by its public_id with / as -.
func spriteCSS(imageURL string, infos map[string]imageInfo) string {
	var b strings.Builder
	ids := make([]string, 0, len(infos))
	for id := range infos {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		in := infos[id]
		fmt.Fprintf(&b, ".%s {\n  background: url('%s') no-repeat;\n  background-position: -%dpx -%dpx;\n  width: %dpx;\n  height: %dpx;\n}\n",
			strings.ReplaceAll(id, "/", "-"), imageURL, in.X, in.Y, in.Width, in.Height)
	}
	return b.String()
}

// creativeResult is the API answer: for multi url/secure_url, for a sprite
// the image, CSS and JSON URLs and image_infos.
func (s *Server) creativeResult(a *catalog.Asset, infos map[string]imageInfo) map[string]any {
	base := fmt.Sprintf("%s/%s/image/%s/", s.cfg.PublicURL, a.Cloud, a.Type)
	if a.Transformation != "" {
		base += a.Transformation + "/"
	}
	base += "v" + strconv.FormatInt(a.Version, 10) + "/" + a.PublicID
	r := map[string]any{"public_id": a.PublicID, "version": a.Version, "asset_id": a.AssetID}
	if a.Type == "multi" {
		u := base + "." + a.Format
		r["url"], r["secure_url"] = u, u
		return r
	}
	for _, k := range []string{"css", "image", "json"} {
		ext := k
		if k == "image" {
			ext = a.Format
		}
		r[k+"_url"], r["secure_"+k+"_url"] = base+"."+ext, base+"."+ext
	}
	if infos == nil {
		infos = map[string]imageInfo{}
	}
	r["image_infos"] = infos
	return r
}

// runCreative is the job for an async sprite or multi.
func (s *Server) runCreative(ctx context.Context, acct Account, j *job, b *catalog.Batch) error {
	res, status, err := s.makeCreative(ctx, acct, j.Creative, creativeAsyncMax)
	if err != nil {
		return &statusError{status, err}
	}
	b.Status, b.Done, b.Results = catalog.BatchComplete, 1, []any{res}
	var n *catalog.Notice
	if j.Notify != "" {
		n = &catalog.Notice{URL: j.Notify, Type: j.Creative.Kind, ID: deliveryID(j.BatchID, j.Creative.Kind),
			Payload: withRequestID(res, j.RequestID)}
	}
	return s.finish(ctx, acct, b, n)
}

// creativeFile serves the stored files of a sprite or multi: its CSS and
// JSON, and its image when the URL asks for it untransformed (the URL
// carries the transformation the sprite was made with).
func (s *Server) creativeFile(ctx context.Context, a *catalog.Asset, p *grammar.Path) (*derived, bool, error) {
	switch {
	case a.Type == "sprite" && (p.Ext == "css" || p.Ext == "json"):
		b, err := s.readBlob(ctx, auxKey(a, p.Ext), s.derivedLimit())
		ct := "text/css; charset=utf-8"
		if p.Ext == "json" {
			ct = "application/json"
		}
		return &derived{data: b, contentType: ct, version: a.Version}, true, err
	case p.Chain.String() == a.Transformation && (p.Ext == "" || p.Ext == a.Format):
		b, err := s.readBlob(ctx, a.BlobKey, s.originalLimit(a))
		return &derived{data: b, contentType: codec.Format(a.Format).ContentType(), version: a.Version}, true, err
	}
	return nil, false, nil
}

// afterCreative drops the leading components a sprite or multi was made
// with from a delivery chain: they are already in the stored image.
func afterCreative(ch grammar.Chain, made string) grammar.Chain {
	done, err := grammar.ParseChain(made)
	if err != nil || len(done) > len(ch) || ch[:len(done)].String() != done.String() {
		return ch
	}
	return ch[len(done):]
}
