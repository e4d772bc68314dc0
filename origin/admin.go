package origin

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/valyala/fasthttp"
)

// adminParams reads Admin API parameters: the query string, plus a JSON
// body (the Go SDK) or a url-encoded one (other SDKs). JSON arrays become
// repeated values, so form.list reads them either way.
func adminParams(ctx *fasthttp.RequestCtx) (*form, error) {
	mt, _, _ := mime.ParseMediaType(string(ctx.Request.Header.ContentType()))
	if mt != "application/json" {
		return readForm(ctx)
	}
	f := &form{params: url.Values{}}
	for k, v := range ctx.QueryArgs().All() {
		f.params.Add(string(k), string(v))
	}
	if len(ctx.PostBody()) == 0 {
		return f, nil
	}
	var body map[string]any
	if err := json.Unmarshal(ctx.PostBody(), &body); err != nil {
		return nil, err
	}
	for k, v := range body {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				f.params.Add(k, fmt.Sprint(e))
			}
		case nil:
		case string:
			f.params.Add(k, v)
		default:
			b, _ := json.Marshal(v)
			f.params.Add(k, string(b))
		}
	}
	return f, nil
}

// handleAdmin serves the Admin API under /v1_1/{cloud}/: resources and
// transformations. parts excludes the cloud.
func (s *Server) handleAdmin(ctx *fasthttp.RequestCtx, acct Account, parts []string) {
	if !basicAuth(ctx, acct) {
		apiError(ctx, 401, "Invalid credentials")
		return
	}
	f, err := adminParams(ctx)
	if err != nil {
		apiError(ctx, 400, "Invalid request body: "+err.Error())
		return
	}
	method := string(ctx.Method())
	switch parts[0] {
	case "ping":
		writeJSON(ctx, map[string]string{"status": "ok"})
	case "transformations":
		s.adminTransformations(ctx, acct, method, strings.Join(parts[1:], "/"), f)
	case "upload_presets":
		s.adminPresets(ctx, acct, method, strings.Join(parts[1:], "/"), f)
	case "resources":
		s.adminResources(ctx, acct, method, parts[1:], f)
	default:
		apiError(ctx, 404, "Not found")
	}
}

// maxResults reads max_results (default 10, at most 500).
func maxResults(f *form) (int, error) {
	v := f.get("max_results")
	if v == "" {
		return 10, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, fmt.Errorf("max_results must be between 1 and 500, got %q", v)
	}
	return n, nil
}

func (s *Server) adminResources(ctx *fasthttp.RequestCtx, acct Account, method string, parts []string, f *form) {
	if len(parts) == 0 {
		writeJSON(ctx, map[string][]string{"resource_types": {"image", "raw"}})
		return
	}
	rt := parts[0]
	if rt == "search" {
		s.handleSearch(ctx, acct, f)
		return
	}
	if rt != "image" && rt != "raw" {
		apiError(ctx, 400, "Invalid resource type "+rt)
		return
	}
	switch {
	case len(parts) == 2 && parts[1] == "context" && method == "GET":
		key, value := f.get("key"), f.get("value")
		if key == "" {
			apiError(ctx, 400, "Missing required parameter - key")
			return
		}
		s.listAssets(ctx, acct, f, func(limit int) (*catalog.Page, error) {
			return s.byContext(ctx, acct.Cloud, rt, key, value, f.get("next_cursor"), limit)
		})
	case len(parts) >= 3 && parts[1] == "tags":
		tag := strings.Join(parts[2:], "/")
		switch method {
		case "GET":
			s.listAssets(ctx, acct, f, func(limit int) (*catalog.Page, error) {
				return s.assets.ByTag(ctx, acct.Cloud, rt, tag, f.get("next_cursor"), limit)
			})
		case "DELETE":
			page, err := s.assets.ByTag(ctx, acct.Cloud, rt, tag, "", 1000)
			if err != nil {
				failure(ctx, err, 500)
				return
			}
			s.deleteAssets(ctx, page.Assets, nil, f.get("invalidate") == "true")
		default:
			apiError(ctx, 405, "Method not allowed")
		}
	case len(parts) >= 2 && parts[1] != "tags" && parts[1] != "context" && !catalog.StoredTypes[parts[1]]:
		apiError(ctx, 400, (&catalog.InvalidTypeError{What: "type", Value: parts[1]}).Error())
	case len(parts) <= 2 && method == "GET":
		typ := ""
		if len(parts) == 2 {
			typ = parts[1]
		}
		s.listAssets(ctx, acct, f, func(limit int) (*catalog.Page, error) {
			if ids := f.list("public_ids"); len(ids) > 0 {
				return s.byIDs(ctx, acct.Cloud, rt, typ, ids)
			}
			return s.assets.List(ctx, acct.Cloud, rt, typ, f.get("prefix"), f.get("next_cursor"), limit)
		})
	case len(parts) == 2 && method == "DELETE":
		s.adminDelete(ctx, acct, rt, parts[1], f)
	case len(parts) >= 3:
		id := strings.Join(parts[2:], "/")
		a, ok := s.lookup(ctx, acct.Cloud, rt, parts[1], id)
		if !ok {
			return
		}
		if method == "POST" || method == "PUT" {
			var err error
			if a, err = s.updateAsset(ctx, a, f); err != nil {
				failure(ctx, err, 400)
				return
			}
		}
		r := s.brief(a, true, true)
		cursor, limit := derivedPage(f)
		derived, next, err := s.listDerived(ctx, a, cursor, limit)
		if err != nil {
			failure(ctx, err, 500)
			return
		}
		r["derived"] = derived
		if next != "" {
			r["derived_next_cursor"] = next
		}
		writeJSON(ctx, r)
	default:
		apiError(ctx, 405, "Method not allowed")
	}
}

// byContext lists assets whose context has key (with value, when given),
// by public_id, paged like List.
func (s *Server) byContext(ctx *fasthttp.RequestCtx, cloud, rt, key, value, cursor string, limit int) (*catalog.Page, error) {
	all, err := s.assets.List(ctx, cloud, rt, "", "", "", 1<<30)
	if err != nil {
		return nil, err
	}
	p := &catalog.Page{}
	for _, a := range all.Assets {
		v, ok := a.Context[key]
		if !ok || (value != "" && v != value) || !catalog.After(a, cursor) {
			continue
		}
		if len(p.Assets) == limit {
			p.Next = catalog.Cursor(p.Assets[len(p.Assets)-1])
			break
		}
		p.Assets = append(p.Assets, a)
	}
	return p, nil
}

// byIDs loads the listed assets (the resources-by-ids call).
func (s *Server) byIDs(ctx *fasthttp.RequestCtx, cloud, rt, typ string, ids []string) (*catalog.Page, error) {
	if typ == "" {
		typ = "upload"
	}
	p := &catalog.Page{}
	for _, id := range ids {
		a, err := s.assets.Get(ctx, cloud, rt, typ, id)
		if errors.Is(err, catalog.ErrAssetNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		p.Assets = append(p.Assets, a)
	}
	return p, nil
}

// updateAsset applies the Admin API's update parameters (tags, context).
func (s *Server) updateAsset(ctx *fasthttp.RequestCtx, a *catalog.Asset, f *form) (*catalog.Asset, error) {
	if _, ok := f.params["tags"]; ok {
		a.Tags = uniq(f.list("tags"))
	}
	if c := f.get("context"); c != "" {
		a.Context = parseContext(c)
	}
	return a, s.assets.Put(ctx, a)
}

func (s *Server) listAssets(ctx *fasthttp.RequestCtx, acct Account, f *form, load func(limit int) (*catalog.Page, error)) {
	limit, err := maxResults(f)
	if err != nil {
		failure(ctx, err, 400)
		return
	}
	page, err := load(limit)
	if err != nil {
		failure(ctx, err, 500)
		return
	}
	withTags, withCtx := f.get("tags") == "true", f.get("context") == "true"
	out := make([]map[string]any, 0, len(page.Assets))
	for _, a := range page.Assets {
		out = append(out, s.brief(a, withTags, withCtx))
	}
	res := map[string]any{"resources": out}
	if page.Next != "" {
		res["next_cursor"] = page.Next
	}
	writeJSON(ctx, res)
}

// brief renders an asset as the Admin API lists it.
func (s *Server) brief(a *catalog.Asset, withTags, withCtx bool) map[string]any {
	r := s.result(Account{}, a)
	m := map[string]any{
		"asset_id": a.AssetID, "public_id": a.PublicID, "asset_folder": r.AssetFolder,
		"display_name": r.DisplayName, "format": a.Format, "version": a.Version,
		"resource_type": a.ResourceType, "type": a.Type, "created_at": r.CreatedAt, "bytes": a.Bytes,
		"width": a.Width, "height": a.Height, "backup": false, "access_mode": "public",
		"url": r.URL, "secure_url": r.SecureURL, "etag": a.Etag,
	}
	if withTags {
		m["tags"] = a.Tags
	}
	if withCtx && r.Context != nil {
		m["context"] = r.Context
	}
	return m
}

// adminDelete serves DELETE resources/{rt}/{type} with public_ids, prefix
// or all=true.
func (s *Server) adminDelete(ctx *fasthttp.RequestCtx, acct Account, rt, typ string, f *form) {
	ids := f.list("public_ids")
	var found []*catalog.Asset
	var missing []string
	switch {
	case len(ids) > 0:
		if len(ids) > 100 {
			apiError(ctx, 400, "At most 100 public_ids can be deleted at once")
			return
		}
		for _, id := range ids {
			a, err := s.assets.Get(ctx, acct.Cloud, rt, typ, id)
			if errors.Is(err, catalog.ErrAssetNotFound) {
				missing = append(missing, id)
				continue
			}
			if err != nil {
				failure(ctx, err, 500)
				return
			}
			found = append(found, a)
		}
	case f.get("prefix") != "" || f.get("all") == "true":
		page, err := s.assets.List(ctx, acct.Cloud, rt, typ, f.get("prefix"), "", 1000)
		if err != nil {
			failure(ctx, err, 500)
			return
		}
		found = page.Assets
	default:
		apiError(ctx, 400, "Missing required parameter - public_ids, prefix or all")
		return
	}
	s.deleteAssets(ctx, found, missing, f.get("invalidate") == "true")
}

// deleteAssets removes assets and answers with Cloudinary's deleted map.
func (s *Server) deleteAssets(ctx *fasthttp.RequestCtx, found []*catalog.Asset, missing []string, invalidate bool) {
	deleted := map[string]string{}
	counts := map[string]any{}
	for _, id := range missing {
		deleted[id] = "not_found"
	}
	for _, a := range found {
		if err := s.removeAsset(ctx, a); err != nil {
			failure(ctx, err, 500)
			return
		}
		deleted[a.PublicID] = "deleted"
		counts[a.PublicID] = map[string]int{"original": 1, "derived": 0}
	}
	writeJSON(ctx, map[string]any{"deleted": deleted, "deleted_counts": counts, "partial": false})
}

// adminTransformations serves named transformations: list, get, create,
// update, delete. The name comes from the path or the `transformation`
// (get/update/delete) or `name` (create) parameter.
func (s *Server) adminTransformations(ctx *fasthttp.RequestCtx, acct Account, method, name string, f *form) {
	if name == "" {
		name = f.get("name")
	}
	if name == "" && method != "POST" {
		name = f.get("transformation")
	}
	name = strings.TrimPrefix(name, "t_")
	switch {
	case method == "GET" && name == "":
		list, err := s.named.List(ctx, acct.Cloud)
		if err != nil {
			failure(ctx, err, 500)
			return
		}
		out := make([]map[string]any, 0, len(list))
		for _, n := range list {
			out = append(out, map[string]any{"name": "t_" + n.Name, "allowed_for_strict": n.AllowedForStrict,
				"used": false, "named": true})
		}
		writeJSON(ctx, map[string]any{"transformations": out})
	case method == "GET":
		n, ok, err := s.named.Get(ctx, acct.Cloud, name)
		if err != nil {
			failure(ctx, err, 500)
			return
		}
		if !ok {
			apiError(ctx, 404, "Transformation t_"+name+" not found")
			return
		}
		ch, _ := grammar.ParseChain(n.Transformation)
		info := make([]map[string]string, 0, len(ch))
		for _, c := range ch {
			info = append(info, componentParams(c.String()))
		}
		writeJSON(ctx, map[string]any{"name": "t_" + n.Name, "allowed_for_strict": n.AllowedForStrict,
			"used": false, "named": true, "info": info, "derived": []any{}})
	case method == "POST" || method == "PUT":
		s.putNamed(ctx, acct, method, name, f)
	case method == "DELETE":
		ok, err := s.named.Delete(ctx, acct.Cloud, name)
		if err != nil {
			failure(ctx, err, 500)
			return
		}
		if !ok {
			apiError(ctx, 404, "Transformation t_"+name+" not found")
			return
		}
		writeJSON(ctx, map[string]string{"message": "deleted"})
	default:
		apiError(ctx, 405, "Method not allowed")
	}
}

// putNamed creates (POST) or updates (PUT) a named transformation. The
// definition must parse and must not refer to itself.
func (s *Server) putNamed(ctx *fasthttp.RequestCtx, acct Account, method, name string, f *form) {
	if !validName(name) {
		apiError(ctx, 400, fmt.Sprintf("Invalid transformation name %q: use letters, digits, _ and -", name))
		return
	}
	def := f.get("transformation")
	if method == "PUT" { // the SDKs send the name as "transformation"; a new definition is unsafe_update
		def = f.get("unsafe_update")
	}
	prev, exists, err := s.named.Get(ctx, acct.Cloud, name)
	if err != nil {
		failure(ctx, err, 500)
		return
	}
	switch {
	case method == "POST" && exists:
		apiError(ctx, 409, "Transformation t_"+name+" already exists")
		return
	case method == "PUT" && !exists:
		apiError(ctx, 404, "Transformation t_"+name+" not found")
		return
	case method == "PUT" && def == "":
		def = prev.Transformation
	}
	if def == "" {
		apiError(ctx, 400, "Missing required parameter - transformation")
		return
	}
	ch, err := grammar.ParseChain(def)
	if err != nil {
		failure(ctx, err, 400)
		return
	}
	n := &catalog.Named{Name: name, Transformation: ch.String(), CreatedAt: time.Now().UTC()}
	if exists {
		n.CreatedAt, n.AllowedForStrict = prev.CreatedAt, prev.AllowedForStrict
	}
	if v := f.get("allowed_for_strict"); v != "" {
		n.AllowedForStrict = v == "true"
	}
	if _, err := ch.Expand(selfCheck{resolver{ctx, s.named, acct.Cloud}, n}); err != nil {
		failure(ctx, err, 400)
		return
	}
	if err := s.named.Put(ctx, acct.Cloud, n); err != nil {
		failure(ctx, err, 500)
		return
	}
	if method == "PUT" {
		writeJSON(ctx, map[string]string{"message": "updated"})
		return
	}
	writeJSON(ctx, map[string]string{"message": "created"})
}

// selfCheck resolves the definition being stored as if it were saved, so
// a cycle through it is caught before it is.
type selfCheck struct {
	resolver
	n *catalog.Named
}

func (c selfCheck) ResolveNamed(name string) (string, bool, error) {
	if name == c.n.Name {
		return c.n.Transformation, true, nil
	}
	return c.resolver.ResolveNamed(name)
}

// componentParams splits "c_fill,w_100" into {"crop":"fill","width":"100"}
// as the Admin API's info lists them (keys as in the URL when unknown).
func componentParams(c string) map[string]string {
	names := map[string]string{"c": "crop", "w": "width", "h": "height", "g": "gravity", "q": "quality",
		"f": "fetch_format", "e": "effect", "a": "angle", "r": "radius", "b": "background", "x": "x",
		"y": "y", "ar": "aspect_ratio", "bo": "border", "o": "opacity", "dpr": "dpr", "fl": "flags",
		"pg": "page", "t": "transformation", "z": "zoom"}
	out := map[string]string{}
	for _, p := range strings.Split(c, ",") {
		k, v, _ := strings.Cut(p, "_")
		if n, ok := names[k]; ok {
			k = n
		}
		out[k] = v
	}
	return out
}
