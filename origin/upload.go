package origin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/notify"
	"github.com/edgepix/edgepix/sdk/signature"
	"github.com/edgepix/edgepix/transform/grammar"
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
		failure(ctx, err, 400)
		return
	}
	data, filename := f.file, f.filename
	c, chunked, err := parseChunk(ctx)
	if err != nil {
		failure(ctx, err, 400)
		return
	}
	if chunked {
		var answered func()
		if data, answered = s.chunkPart(ctx, acct.Cloud, c, data); data == nil {
			return // answered
		}
		defer answered()
	} else if !f.hasFile {
		src := f.get("file")
		if src == "" {
			apiError(ctx, 400, "Missing required parameter - file")
			return
		}
		data, filename, err = resolveFile(ctx, s.fetch, src, s.cfg.MaxUploadBytes)
		if err != nil {
			failure(ctx, err, 400)
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
	r, err := s.storeUpload(ctx, acct, rt, f, data, filename, "", reqID)
	if err != nil {
		failure(ctx, err, 400)
		return
	}
	if err := s.notifyUpload(ctx, acct, f, r, reqID); err != nil {
		failure(ctx, err, 503)
		return
	}
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
	if err := s.writeBlob(ctx, pendingKey(acct.Cloud, b.ID), data); err != nil {
		failure(ctx, fmt.Errorf("storing the file: %w", err), 500)
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
		s.dropBlob(ctx, pendingKey(acct.Cloud, b.ID))
		failure(ctx, fmt.Errorf("queueing the upload: %w", err), 500)
		return
	}
	writeJSON(ctx, map[string]any{"status": "pending", "type": f.get("type"), "batch_id": b.ID,
		"public_id": f.get("public_id")})
}

// uploadNotice is an upload's notification, nil without a URL.
func (s *Server) uploadNotice(acct Account, f *form, r uploadResult, reqID string) *catalog.Notice {
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
	return &catalog.Notice{URL: to, Type: "upload", ID: id, Payload: p}
}

// notifyUpload queues a synchronous upload's notification. If it cannot
// be queued the call answers 503: the upload is stored, and the client's
// retry stores it again and notifies.
func (s *Server) notifyUpload(ctx context.Context, acct Account, f *form, r uploadResult, reqID string) error {
	if n := s.uploadNotice(acct, f, r, reqID); n != nil {
		if err := s.send(ctx, acct, "", n); err != nil {
			return fmt.Errorf("%s is stored but its notification could not be queued: %w", r.PublicID, err)
		}
	}
	return nil
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
func (s *Server) result(acct Account, a *catalog.Asset) uploadResult {
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
