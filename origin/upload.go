package origin

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgepix/edgepix/notify"
	"github.com/edgepix/edgepix/sdk/signature"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/edgepix/edgepix/transform/pipeline"
	"github.com/valyala/fasthttp"
)

// uploadResult is the JSON the SDKs decode (§1.5); field types matter.
type uploadResult struct {
	AssetID          string         `json:"asset_id"`
	PublicID         string         `json:"public_id"`
	AssetFolder      string         `json:"asset_folder"`
	DisplayName      string         `json:"display_name"`
	Version          int64          `json:"version"`
	VersionID        string         `json:"version_id"`
	Signature        string         `json:"signature"`
	Width            int            `json:"width,omitempty"`
	Height           int            `json:"height,omitempty"`
	Format           string         `json:"format"`
	ResourceType     string         `json:"resource_type"`
	CreatedAt        string         `json:"created_at"`
	Tags             []string       `json:"tags"`
	Pages            int            `json:"pages,omitempty"`
	Bytes            int            `json:"bytes"`
	Type             string         `json:"type"`
	Etag             string         `json:"etag"`
	Placeholder      bool           `json:"placeholder"`
	URL              string         `json:"url"`
	SecureURL        string         `json:"secure_url"`
	AccessMode       string         `json:"access_mode"`
	Context          map[string]any `json:"context,omitempty"`
	Overwritten      bool           `json:"overwritten,omitempty"`
	Existing         bool           `json:"existing,omitempty"`
	OriginalFilename string         `json:"original_filename"`
	APIKey           string         `json:"api_key"`
	Eager            []eagerResult  `json:"eager,omitempty"`
	BatchID          string         `json:"batch_id,omitempty"`
}

// randomID returns n lowercase alphanumerics, like Cloudinary's public_ids.
func randomID(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// handleUpload serves POST /v1_1/{cloud}/{resource_type}/upload. The
// upload waits for its turn (uploadGate), its body is parsed as it
// arrives with the file spooled to disk, and the file is read into memory
// only once the request is authenticated.
func (s *Server) handleUpload(ctx *fasthttp.RequestCtx, acct Account, rt string) {
	release, le := s.uploads.enter(acct.Cloud + "/" + ctx.RemoteIP().String())
	if le != nil {
		refuse(ctx, le)
		return
	}
	defer release()
	parsed, err := parseForm(ctx, s.uploadLimits())
	if err != nil {
		bodyError(ctx, err)
		return
	}
	defer parsed.close()
	f, ok := s.uploadForm(ctx, acct)
	if !ok {
		return
	}
	if err := f.load(); err != nil {
		apiError(ctx, 500, "Reading the spooled upload: "+err.Error())
		return
	}
	if v := f.get("resource_type"); v != "" && rt == "auto" {
		rt = v
	}
	if err := checkBackgroundParams(f, acct); err != nil {
		apiError(ctx, 400, err.Error())
		return
	}
	data, filename := f.file, f.filename
	c, chunked, err := parseChunk(ctx)
	if err != nil {
		apiError(ctx, 400, err.Error())
		return
	}
	if chunked {
		if data, err = s.addChunk(acct.Cloud, c, data); err != nil {
			apiError(ctx, statusOf(err, 400), err.Error())
			return
		}
		if data == nil {
			writeJSON(ctx, map[string]any{"done": false, "bytes": c.end + 1})
			return
		}
	} else if !f.hasFile {
		src := f.get("file")
		if src == "" {
			apiError(ctx, 400, "Missing required parameter - file")
			return
		}
		data, filename, err = resolveFile(ctx, s.fetch, src, s.cfg.MaxUploadBytes)
		if err != nil {
			apiError(ctx, 400, err.Error())
			return
		}
	}
	if int64(len(data)) > s.cfg.MaxUploadBytes {
		apiError(ctx, 400, fmt.Sprintf("File size too large. Got %d. Maximum is %d.", len(data), s.cfg.MaxUploadBytes))
		return
	}
	if len(data) == 0 {
		apiError(ctx, 400, "Empty file")
		return
	}
	reqID := requestID(ctx)
	if truthy(f.get("async")) {
		typ, ok := typeParam(ctx, f, "type", ownedTypes)
		if !ok {
			return
		}
		f.params.Set("type", typ)
		s.uploadAsync(ctx, acct, rt, f, data, filename, reqID)
		return
	}
	a, status, err := s.storeUpload(ctx, acct, rt, f, data, filename)
	if err != nil {
		apiError(ctx, status, err.Error())
		return
	}
	r, err := s.finishUpload(ctx, acct, a, f, "", reqID)
	if err != nil {
		apiError(ctx, 400, err.Error())
		return
	}
	s.notifyUpload(ctx, acct, f, r, reqID)
	writeJSON(ctx, r)
}

// truthy reads a boolean parameter as the SDKs send it.
func truthy(v string) bool { return v == "true" || v == "1" }

// requestID is the id the request logs carry.
func requestID(ctx *fasthttp.RequestCtx) string {
	return string(ctx.Response.Header.Peek("X-Request-Id"))
}

// checkBackgroundParams validates eager and the notification URLs before
// anything is stored.
func checkBackgroundParams(f *form, acct Account) error {
	if _, err := parseEager(f.get("eager")); err != nil {
		return err
	}
	if _, err := notificationURL(f, acct, "notification_url"); err != nil {
		return err
	}
	_, err := notificationURL(f, acct, "eager_notification_url")
	return err
}

// uploadAsync parks the file in the blob store and queues the upload:
// the reply is {"status":"pending","batch_id":...} at once.
func (s *Server) uploadAsync(ctx *fasthttp.RequestCtx, acct Account, rt string, f *form, data []byte, filename, reqID string) {
	to, _ := notificationURL(f, acct, "notification_url")
	b := newBatch(acct.Cloud, "upload", f.get("public_id"), 1)
	if err := s.blobs.Put(pendingKey(acct.Cloud, b.ID), data); err != nil {
		apiError(ctx, 500, "storing the file: "+err.Error())
		return
	}
	params := url.Values{}
	for k, v := range f.params {
		if k != "async" && k != "file" {
			params[k] = v
		}
	}
	j := &job{Cloud: acct.Cloud, BatchID: b.ID, RequestID: reqID, Notify: to, RT: rt, Params: params, Filename: filename}
	if err := s.enqueue(ctx, "upload", b, j); err != nil {
		s.blobs.Delete(pendingKey(acct.Cloud, b.ID))
		apiError(ctx, 500, "queueing the upload: "+err.Error())
		return
	}
	writeJSON(ctx, map[string]any{"status": "pending", "type": f.get("type"), "batch_id": b.ID,
		"public_id": f.get("public_id")})
}

// finishUpload builds the result of a stored upload and runs or queues
// its eager transformations. batchID is set for an async upload.
func (s *Server) finishUpload(ctx context.Context, acct Account, a *Asset, f *form, batchID, reqID string) (uploadResult, error) {
	r := s.result(acct, a)
	r.BatchID = batchID
	eager, err := s.eager(ctx, acct, a, f, reqID)
	if err != nil {
		return r, err
	}
	r.Eager = eager
	return r, nil
}

// uploadNotice is an upload's notification, nil without a URL.
func (s *Server) uploadNotice(acct Account, f *form, r uploadResult, reqID string) *notice {
	to, _ := notificationURL(f, acct, "notification_url")
	if to == "" {
		return nil
	}
	p := toMap(r)
	p["request_id"] = reqID
	id := notify.NewID()
	if r.BatchID != "" {
		id = deliveryID(r.BatchID, "upload")
	}
	return &notice{URL: to, Type: "upload", ID: id, Payload: p}
}

// notifyUpload queues a synchronous upload's notification.
func (s *Server) notifyUpload(ctx context.Context, acct Account, f *form, r uploadResult, reqID string) {
	if n := s.uploadNotice(acct, f, r, reqID); n != nil {
		s.send(ctx, acct, "", n)
	}
}

// eager renders the eager transformations now, or with eager_async
// queues them and returns entries marked processing.
func (s *Server) eager(ctx context.Context, acct Account, a *Asset, f *form, reqID string) ([]eagerResult, error) {
	specs, err := parseEager(f.get("eager"))
	if err != nil || len(specs) == 0 {
		return nil, err
	}
	if a.ResourceType != "image" {
		return nil, fmt.Errorf("eager transformations need an image, %s is %s", a.PublicID, a.ResourceType)
	}
	out := make([]eagerResult, 0, len(specs))
	if !truthy(f.get("eager_async")) {
		for _, e := range specs {
			r, err := s.renderEager(ctx, a, e)
			if err != nil {
				return nil, fmt.Errorf("eager %s: %v", e, err)
			}
			out = append(out, r)
		}
		return out, nil
	}
	to, _ := notificationURL(f, acct, "eager_notification_url", "notification_url")
	b := newBatch(acct.Cloud, "eager", a.PublicID, len(specs))
	j := &job{Cloud: acct.Cloud, BatchID: b.ID, RequestID: reqID, Notify: to, RT: a.ResourceType, Type: a.Type,
		PublicID: a.PublicID, Version: a.Version, Eager: specs}
	if err := s.enqueue(ctx, "eager", b, j); err != nil {
		return nil, fmt.Errorf("queueing eager transformations: %v", err)
	}
	for _, e := range specs {
		p, err := grammar.ParsePath(s.eagerPath(a, e))
		if err != nil {
			return nil, err
		}
		u := s.publicURL(a.Cloud, p)
		out = append(out, eagerResult{Transformation: e.String(), URL: u, SecureURL: u, Status: "processing", BatchID: b.ID})
	}
	return out, nil
}

// storeUpload validates the file and parameters, writes the original and
// then the metadata (so metadata never points at a missing blob).
func (s *Server) storeUpload(ctx context.Context, acct Account, rt string, f *form, data []byte, filename string) (*Asset, int, error) {
	typ := f.get("type")
	if typ == "" {
		typ = "upload"
	}
	if !ownedTypes[typ] {
		return nil, 400, &InvalidTypeError{"type", typ}
	}
	stem := strings.TrimSuffix(path.Base(filename), path.Ext(filename))
	a := &Asset{Cloud: acct.Cloud, Type: typ, CreatedAt: time.Now().UTC().Truncate(time.Second),
		OriginalFilename: stem, Bytes: len(data), Tags: uniq(f.list("tags"))}
	switch rt {
	case "image", "auto":
		info, err := codec.Probe(data)
		if err != nil {
			if rt == "auto" && errors.Is(err, codec.ErrUnknownFormat) {
				rt = "raw"
				break
			}
			return nil, 400, fmt.Errorf("Invalid image file: %v", err)
		}
		if err := codec.CheckPixels("image", info.Width, info.Height, s.cfg.MaxPixels); err != nil {
			return nil, 400, err
		}
		// Validation and the incoming transformation are pixel work like
		// renders, and wait for admission with them.
		release, err := s.admitWork(forClient(ctx, "api/"+acct.Cloud), codec.DecodedPixels(info, codec.DecodeOptions{Page: 1, MinWidth: 1, MinHeight: 1}))
		if err != nil {
			return nil, 429, err
		}
		vctx, cancel := context.WithTimeout(ctx, s.cfg.RenderTimeout)
		data, err = s.validate(vctx, acct.Cloud, f, data, info, a)
		cancel()
		release()
		if err != nil {
			return nil, 400, err
		}
		rt = "image"
	case "raw":
	default:
		return nil, 400, fmt.Errorf("Invalid resource type: %s", rt)
	}
	a.ResourceType = rt
	if rt == "raw" {
		a.Format = strings.TrimPrefix(path.Ext(filename), ".")
	}
	if allowed := f.list("allowed_formats"); len(allowed) > 0 && !contains(allowed, a.Format) {
		return nil, 400, fmt.Errorf("%s format not allowed", a.Format)
	}
	a.PublicID = publicID(f, stem, a.Format, rt)
	if err := grammar.CheckPublicID(a.PublicID); err != nil {
		return nil, 400, err
	}
	if err := s.checkPlugin(acct, rt, typ, a.PublicID, data); err != nil {
		return nil, 400, err
	}
	if ctxParam := f.get("context"); ctxParam != "" {
		a.Context = parseContext(ctxParam)
	}
	prev, err := s.assets.Get(ctx, a.Cloud, rt, typ, a.PublicID)
	if err == nil && f.get("overwrite") == "false" {
		if f.unsigned { // an anonymous caller may neither replace an asset nor read it back
			return nil, 409, fmt.Errorf("Resource already exists - %s: an unsigned upload cannot replace it", a.PublicID)
		}
		return prev, 0, nil
	}
	a.Version = time.Now().Unix()
	if prev != nil && a.Version <= prev.Version {
		a.Version = prev.Version + 1
	}
	sum := md5.Sum(data)
	a.Etag = hex.EncodeToString(sum[:])
	a.AssetID = randomHex(32)
	if prev != nil {
		a.AssetID = prev.AssetID
	}
	a.VersionID = randomHex(32)
	a.BlobKey = originalKey(a)
	if err := s.blobs.Put(a.BlobKey, data); err != nil {
		return nil, 500, fmt.Errorf("storing the file: %v", err)
	}
	if err := s.assets.Put(ctx, a); err != nil {
		s.blobs.Delete(a.BlobKey)
		return nil, 500, fmt.Errorf("storing metadata: %v", err)
	}
	if prev != nil {
		s.replaced(prev, f.get("invalidate") == "true")
	}
	return a, 0, nil
}

// validate decodes an upload to prove it is usable before it is stored
// (JPEGs at 1/8 scale: every entropy-coded segment is still read, so a
// 100 MP upload does not need 400 MB to validate), then applies the
// incoming transformation.
func (s *Server) validate(ctx context.Context, cloud string, f *form, data []byte, info codec.Info, a *Asset) ([]byte, error) {
	checked, err := codec.Validate(data, codec.DecodeOptions{MaxPixels: s.cfg.MaxPixels, Ctx: ctx})
	if err != nil {
		return nil, fmt.Errorf("Invalid image file: %v", err)
	}
	a.Format, a.Width, a.Height, a.Pages = string(info.Format), info.Width, info.Height, max(checked.Frames, checked.Pages, 1)
	return s.incoming(ctx, cloud, f, data, a)
}

// incoming applies the upload's `transformation` and `format` parameters:
// the stored original is the transformed image.
func (s *Server) incoming(ctx context.Context, cloud string, f *form, data []byte, a *Asset) ([]byte, error) {
	tx, format := f.get("transformation"), strings.ToLower(f.get("format"))
	if format == "jpeg" {
		format = "jpg"
	}
	if tx == "" && (format == "" || format == a.Format) {
		return data, nil
	}
	ch, err := grammar.ParseChain(tx)
	if err != nil {
		return nil, fmt.Errorf("Invalid transformation: %v", err)
	}
	if ch, err = ch.Expand(resolver{ctx, s.named, cloud}); err != nil {
		return nil, err
	}
	res, err := pipeline.Render(data, pipeline.Request{Chain: ch, Format: format, Env: pipeline.Env{Layers: s.layers(ctx, cloud), Tags: a.Tags, Context: a.Context, Pages: a.Pages},
		Limits: s.limits(ctx)})
	if err != nil {
		return nil, fmt.Errorf("Incoming transformation failed: %v", err)
	}
	a.Format, a.Width, a.Height, a.Pages, a.Bytes = string(res.Format), res.Width, res.Height, res.Frames, len(res.Data)
	return res.Data, nil
}

// uniq drops duplicates and keeps the order; never nil (tags are an array
// in every response).
func uniq(list []string) []string {
	out := []string{}
	for _, v := range list {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) || (s == "jpg" && v == "jpeg") {
			return true
		}
	}
	return false
}

// publicID applies public_id, folder, use_filename and unique_filename.
func publicID(f *form, stem, format, rt string) string {
	id := f.get("public_id")
	if id == "" {
		switch {
		case f.get("use_filename") == "true" && stem != "":
			id = stem
			if f.get("unique_filename") != "false" {
				id += "_" + randomID(6)
			}
		default:
			id = randomID(20)
		}
		if rt == "raw" && format != "" {
			id += "." + format
		}
	}
	if folder := strings.Trim(f.get("folder"), "/"); folder != "" {
		id = folder + "/" + id
	}
	return id
}

// parseContext reads "k=v|k2=v2" (with \= and \| escapes).
func parseContext(s string) map[string]string {
	out := map[string]string{}
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			cur.WriteByte('\\')
			cur.WriteByte(s[i+1])
			i++
		case s[i] == '|':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	parts = append(parts, cur.String())
	for _, p := range parts {
		k, v, _ := strings.Cut(strings.Replace(p, `\=`, "\x00", -1), "=")
		unesc := func(x string) string {
			return strings.NewReplacer("\x00", "=", `\|`, "|").Replace(x)
		}
		if k != "" {
			out[unesc(k)] = unesc(v)
		}
	}
	return out
}

// result renders an asset as the upload response.
func (s *Server) result(acct Account, a *Asset) uploadResult {
	ver := strconv.FormatInt(a.Version, 10)
	p := &grammar.Path{ResourceType: a.ResourceType, Type: a.Type, Version: a.Version, HasVersion: true, PublicID: a.PublicID}
	if a.ResourceType == "image" {
		p.Ext = a.Format
	}
	u := s.publicURL(a.Cloud, p)
	folder := ""
	if i := strings.LastIndexByte(a.PublicID, '/'); i >= 0 {
		folder = a.PublicID[:i]
	}
	r := uploadResult{
		AssetID: a.AssetID, PublicID: a.PublicID, AssetFolder: folder,
		DisplayName: path.Base(a.PublicID), Version: a.Version, VersionID: a.VersionID,
		Signature: signature.Sign("public_id="+a.PublicID+"&version="+ver, acct.APISecret, acct.SignatureAlgorithm == "sha256"),
		Width:     a.Width, Height: a.Height, Format: a.Format, ResourceType: a.ResourceType,
		CreatedAt: a.CreatedAt.Format(time.RFC3339), Tags: a.Tags, Pages: a.Pages, Bytes: a.Bytes,
		Type: a.Type, Etag: a.Etag, URL: u, SecureURL: u, AccessMode: "public",
		OriginalFilename: a.OriginalFilename, APIKey: acct.APIKey,
	}
	if len(a.Context) > 0 {
		custom := map[string]any{}
		for k, v := range a.Context {
			custom[k] = v
		}
		r.Context = map[string]any{"custom": custom}
	}
	return r
}
