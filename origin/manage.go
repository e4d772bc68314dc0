package origin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/edgepix/edgepix/blob"
	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/notify"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/valyala/fasthttp"
)

// apiResourceType maps the path's resource type; auto means image here.
func apiResourceType(rt string) string {
	if rt == "auto" {
		return "image"
	}
	return rt
}

// lookup loads an asset, answering 404 (or 500) itself when it cannot.
func (s *Server) lookup(ctx *fasthttp.RequestCtx, cloud, rt, typ, id string) (*catalog.Asset, bool) {
	a, err := s.assets.Get(ctx, cloud, rt, typ, id)
	var te *catalog.InvalidTypeError
	switch {
	case errors.Is(err, catalog.ErrAssetNotFound):
		apiError(ctx, 404, "Resource not found - "+id)
		return nil, false
	case errors.As(err, &te):
		failure(ctx, err, 400)
		return nil, false
	case err != nil:
		failure(ctx, err, 500)
		return nil, false
	}
	return a, true
}

// handleRename serves POST {rt}/rename: the original is copied under the
// new identity, the new metadata written, then the old asset removed.
func (s *Server) handleRename(ctx *fasthttp.RequestCtx, acct Account, rt string) {
	f, ok := signedForm(ctx, acct)
	if !ok {
		return
	}
	rt = apiResourceType(rt)
	if _, err := notificationURL(f, acct, "notification_url"); err != nil {
		failure(ctx, err, 400)
		return
	}
	from, to := f.get("from_public_id"), f.get("to_public_id")
	if from == "" || to == "" {
		apiError(ctx, 400, "Missing required parameter - from_public_id and to_public_id")
		return
	}
	if err := grammar.CheckPublicID(to); err != nil {
		failure(ctx, err, 400)
		return
	}
	typ, ok := typeParam(ctx, f, "type", catalog.StoredTypes)
	if !ok {
		return
	}
	toType := typ
	if f.get("to_type") != "" {
		if toType, ok = typeParam(ctx, f, "to_type", ownedTypes); !ok {
			return
		}
	}
	src, ok := s.lookup(ctx, acct.Cloud, rt, typ, from)
	if !ok {
		return
	}
	if from == to && typ == toType {
		writeJSON(ctx, s.result(acct, src))
		return
	}
	target, err := s.assets.Get(ctx, acct.Cloud, rt, toType, to)
	if err != nil && !errors.Is(err, catalog.ErrAssetNotFound) {
		failure(ctx, err, 500)
		return
	}
	if err == nil && f.get("overwrite") != "true" {
		apiError(ctx, 400, fmt.Sprintf("to_public_id (%s) already exists", to))
		return
	}
	moved := *src
	moved.PublicID, moved.Type = to, toType
	moved.BlobKey = originalKey(&moved)
	if err := s.copyOriginal(ctx, acct, src, &moved); err != nil {
		failure(ctx, err, 500)
		return
	}
	if err := s.assets.Put(ctx, &moved); err != nil {
		s.dropBlob(ctx, moved.BlobKey)
		failure(ctx, fmt.Errorf("storing metadata: %w", err), 500)
		return
	}
	if target != nil && target.BlobKey != moved.BlobKey {
		s.replaced(ctx, target, true)
	}
	if err := s.removeAsset(ctx, src); err != nil {
		s.log.Warn("removing renamed asset", "public_id", from, "err", err)
	}
	if to, _ := notificationURL(f, acct, "notification_url"); to != "" {
		s.notify(ctx, acct, to, "rename", "", notify.NewID(), map[string]any{"asset_id": moved.AssetID,
			"from_public_id": from, "to_public_id": moved.PublicID, "resource_type": moved.ResourceType,
			"type": moved.Type, "version": moved.Version, "request_id": requestID(ctx)})
	}
	writeJSON(ctx, s.result(acct, &moved))
}

// copyOriginal copies the stored file of src to dst's key, checking it
// first when dst's name makes it a plugin.
func (s *Server) copyOriginal(ctx context.Context, acct Account, src, dst *catalog.Asset) error {
	if dst.ResourceType != "raw" || !strings.HasSuffix(dst.PublicID, ".wasm") {
		return blobFault(blob.Copy(ctx, s.blobs, src.BlobKey, dst.BlobKey))
	}
	data, err := s.readBlob(ctx, src.BlobKey, s.originalLimit(src))
	if err != nil {
		return fmt.Errorf("reading the original: %w", err)
	}
	if err := s.checkPlugin(acct, dst.ResourceType, dst.Type, dst.PublicID, data); err != nil {
		return &statusError{400, err}
	}
	return s.writeBlob(ctx, dst.BlobKey, data)
}

// handleTags serves POST {rt}/tags: command add, remove, replace or
// remove_all over public_ids.
func (s *Server) handleTags(ctx *fasthttp.RequestCtx, acct Account, rt string) {
	f, ok := signedForm(ctx, acct)
	if !ok {
		return
	}
	tags := f.list("tag")
	cmd := f.get("command")
	var edit func([]string) []string
	switch cmd {
	case "add":
		edit = func(t []string) []string { return uniq(append(t, tags...)) }
	case "remove":
		edit = func(t []string) []string {
			return slices.DeleteFunc(t, func(x string) bool { return slices.Contains(tags, x) })
		}
	case "replace":
		edit = func([]string) []string { return uniq(tags) }
	case "remove_all":
		edit = func([]string) []string { return []string{} }
	default:
		apiError(ctx, 400, "Invalid command "+cmd+": use add, remove, replace or remove_all")
		return
	}
	if cmd != "remove_all" && len(tags) == 0 {
		apiError(ctx, 400, "Missing required parameter - tag")
		return
	}
	s.editEach(ctx, acct, rt, f, func(a *catalog.Asset) { a.Tags = edit(slices.Clone(a.Tags)) })
}

// handleContext serves POST {rt}/context: command add (merge) or
// remove_all over public_ids.
func (s *Server) handleContext(ctx *fasthttp.RequestCtx, acct Account, rt string) {
	f, ok := signedForm(ctx, acct)
	if !ok {
		return
	}
	switch cmd := f.get("command"); cmd {
	case "add":
		c := f.get("context")
		if c == "" {
			apiError(ctx, 400, "Missing required parameter - context")
			return
		}
		add := parseContext(c)
		s.editEach(ctx, acct, rt, f, func(a *catalog.Asset) {
			if a.Context == nil {
				a.Context = map[string]string{}
			}
			maps.Copy(a.Context, add)
		})
	case "remove_all":
		s.editEach(ctx, acct, rt, f, func(a *catalog.Asset) { a.Context = nil })
	default:
		apiError(ctx, 400, "Invalid command "+cmd+": use add or remove_all")
	}
}

// editEach applies edit to every listed asset that exists and answers
// with the public_ids it changed.
func (s *Server) editEach(ctx *fasthttp.RequestCtx, acct Account, rt string, f *form, edit func(*catalog.Asset)) {
	ids := f.list("public_ids")
	if len(ids) == 0 {
		apiError(ctx, 400, "Missing required parameter - public_ids")
		return
	}
	typ, ok := typeParam(ctx, f, "type", catalog.StoredTypes)
	if !ok {
		return
	}
	rt = apiResourceType(rt)
	done := []string{}
	for _, id := range ids {
		a, err := s.assets.Get(ctx, acct.Cloud, rt, typ, id)
		if errors.Is(err, catalog.ErrAssetNotFound) {
			continue
		}
		if err == nil {
			edit(a)
			err = s.assets.Put(ctx, a)
		}
		if err != nil {
			failure(ctx, err, 500)
			return
		}
		done = append(done, id)
	}
	writeJSON(ctx, map[string][]string{"public_ids": done})
}

// handleExplicit serves POST {rt}/explicit: updates an existing asset's
// tags and context (and, with invalidate, purges edges) and returns it as
// upload does.
func (s *Server) handleExplicit(ctx *fasthttp.RequestCtx, acct Account, rt string) {
	f, ok := signedForm(ctx, acct)
	if !ok {
		return
	}
	id, ok := f.required(ctx, "public_id")
	if !ok {
		return
	}
	if err := checkBackgroundParams(f, acct); err != nil {
		failure(ctx, err, 400)
		return
	}
	typ, ok := typeParam(ctx, f, "type", catalog.StoredTypes)
	if !ok {
		return
	}
	a, ok := s.lookup(ctx, acct.Cloud, apiResourceType(rt), typ, id)
	if !ok {
		return
	}
	if _, ok := f.params["tags"]; ok {
		a.Tags = uniq(f.list("tags"))
	}
	if c, ok := f.params["context"]; ok {
		a.Context = parseContext(strings.Join(c, "|"))
	}
	if err := s.assets.Put(ctx, a); err != nil {
		failure(ctx, err, 500)
		return
	}
	if f.get("invalidate") == "true" {
		s.purge(a)
	}
	if truthy(f.get("async")) && f.get("eager") == "" {
		// async explicit with nothing heavy to do: the work is done, the
		// answer and the notification still follow the async contract.
		r := s.result(acct, a)
		b := newBatch(acct.Cloud, "explicit", a.PublicID, 1)
		b.Status, b.Done, b.Results = catalog.BatchComplete, 1, []any{r}
		if err := s.batches.Put(ctx, b); err != nil {
			failure(ctx, err, 500)
			return
		}
		if to, _ := notificationURL(f, acct, "notification_url"); to != "" {
			p := toMap(r)
			p["request_id"] = requestID(ctx)
			s.notify(ctx, acct, to, "upload", b.ID, deliveryID(b.ID, "upload"), p)
		}
		writeJSON(ctx, map[string]any{"status": "pending", "type": a.Type, "public_id": a.PublicID, "batch_id": b.ID})
		return
	}
	if truthy(f.get("async")) && f.get("eager") != "" {
		// async explicit: everything but the eager work is done; that runs
		// in the background and reports to the notification URL.
		f.params.Set("eager_async", "true")
		eager, err := s.eager(ctx, acct, a, f, requestID(ctx))
		if err != nil {
			failure(ctx, err, 400)
			return
		}
		writeJSON(ctx, map[string]any{"status": "pending", "type": a.Type, "public_id": a.PublicID,
			"batch_id": eager[0].BatchID, "eager": eager})
		return
	}
	r := s.result(acct, a)
	var err error
	if r.Eager, err = s.eager(ctx, acct, a, f, requestID(ctx)); err != nil {
		failure(ctx, err, 400)
		return
	}
	if err := s.notifyUpload(ctx, acct, f, r, requestID(ctx)); err != nil {
		failure(ctx, err, 503)
		return
	}
	writeJSON(ctx, r)
}
