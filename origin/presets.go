package origin

import (
	"slices"
	"strings"

	"github.com/edgepix/edgepix/catalog"
	"github.com/valyala/fasthttp"
)

// presetMeta are the parameters that describe a preset rather than set an
// upload option.
var presetMeta = map[string]bool{"name": true, "unsigned": true, "live": true, "timestamp": true,
	"api_key": true, "signature": true}

// unsignedAllowed are the parameters a browser may send with an unsigned
// upload (as Cloudinary); everything else comes from the preset.
var unsignedAllowed = map[string]bool{"upload_preset": true, "file": true, "public_id": true, "folder": true,
	"tags": true, "context": true, "filename_override": true}

// uploadForm reads an upload request: signed as usual, or unsigned with an
// unsigned upload_preset. A named preset's settings fill in what the
// request does not set.
func (s *Server) uploadForm(ctx *fasthttp.RequestCtx, acct Account) (*form, bool) {
	name, signed := "", false
	if f, err := readForm(ctx); err == nil { // parsed once per request (handleUpload did)
		name, signed = f.get("upload_preset"), f.get("signature") != ""
	}
	if name == "" || signed {
		f, ok := signedForm(ctx, acct)
		if ok && name != "" {
			ok = s.applyPreset(ctx, acct, f, name, false)
		}
		return f, ok
	}
	f, err := readForm(ctx)
	if err != nil {
		apiError(ctx, 400, "Invalid request body: "+err.Error())
		return nil, false
	}
	for k := range f.params {
		base, _, _ := strings.Cut(k, "[")
		if !unsignedAllowed[base] {
			delete(f.params, k)
		}
	}
	return f, s.applyPreset(ctx, acct, f, name, true)
}

// applyPreset merges a preset into f (request values win, except that an
// unsigned upload never overwrites unless the preset says so).
func (s *Server) applyPreset(ctx *fasthttp.RequestCtx, acct Account, f *form, name string, unsigned bool) bool {
	p, ok, err := s.presets.Get(ctx, acct.Cloud, name)
	switch {
	case err != nil:
		failure(ctx, err, 500)
		return false
	case !ok:
		apiError(ctx, 400, "Upload preset not found - "+name)
		return false
	case unsigned && !p.Unsigned:
		apiError(ctx, 400, "Upload preset must be whitelisted for unsigned uploads")
		return false
	}
	if unsigned && p.Settings["disallow_public_id"] == "true" {
		f.params.Del("public_id")
	}
	for k, v := range p.Settings {
		if k != "disallow_public_id" && f.get(k) == "" && len(f.list(k)) == 0 {
			f.params.Set(k, v)
		}
	}
	if unsigned && f.get("overwrite") == "" {
		f.params.Set("overwrite", "false")
	}
	f.unsigned = unsigned
	return true
}

// adminPresets serves upload_presets: list, get, create, update, delete.
func (s *Server) adminPresets(ctx *fasthttp.RequestCtx, acct Account, method, name string, f *form) {
	view := func(p *catalog.Preset) map[string]any {
		return map[string]any{"name": p.Name, "unsigned": p.Unsigned, "settings": p.Settings}
	}
	switch {
	case method == "GET" && name == "":
		all, err := s.presets.All(ctx, acct.Cloud)
		if err != nil {
			failure(ctx, err, 500)
			return
		}
		names := make([]string, 0, len(all))
		for n := range all {
			names = append(names, n)
		}
		slices.Sort(names)
		out := make([]map[string]any, 0, len(names))
		for _, n := range names {
			out = append(out, view(all[n]))
		}
		writeJSON(ctx, map[string]any{"presets": out})
	case method == "GET":
		p, ok, err := s.presets.Get(ctx, acct.Cloud, name)
		if err != nil {
			failure(ctx, err, 500)
			return
		}
		if !ok {
			apiError(ctx, 404, "Upload preset not found - "+name)
			return
		}
		writeJSON(ctx, view(p))
	case method == "POST" || method == "PUT":
		s.putPreset(ctx, acct, method, name, f)
	case method == "DELETE":
		ok, err := s.presets.Delete(ctx, acct.Cloud, name)
		if err != nil {
			failure(ctx, err, 500)
			return
		}
		if !ok {
			apiError(ctx, 404, "Upload preset not found - "+name)
			return
		}
		writeJSON(ctx, map[string]string{"message": "deleted"})
	default:
		apiError(ctx, 405, "Method not allowed")
	}
}

func (s *Server) putPreset(ctx *fasthttp.RequestCtx, acct Account, method, name string, f *form) {
	if name == "" {
		name = f.get("name")
	}
	if name == "" && method == "POST" {
		name = randomID(8)
	}
	if !validName(name) {
		apiError(ctx, 400, "Invalid upload preset name: "+name)
		return
	}
	p, exists, err := s.presets.Get(ctx, acct.Cloud, name)
	if err != nil {
		failure(ctx, err, 500)
		return
	}
	switch {
	case method == "POST" && exists:
		apiError(ctx, 409, "Upload preset "+name+" already exists")
		return
	case method == "PUT" && !exists:
		apiError(ctx, 404, "Upload preset not found - "+name)
		return
	case !exists:
		p = &catalog.Preset{Name: name, Settings: map[string]string{}}
	}
	if v := f.get("unsigned"); v != "" {
		p.Unsigned = v == "true"
	}
	for k := range f.params {
		base, _, _ := strings.Cut(k, "[")
		if presetMeta[base] {
			continue
		}
		if v := strings.Join(f.list(base), ","); v != "" {
			p.Settings[base] = v
		}
	}
	if err := checkBackgroundParams(&form{params: settingsValues(p.Settings)}, acct); err != nil {
		failure(ctx, err, 400)
		return
	}
	if err := s.presets.Put(ctx, acct.Cloud, p); err != nil {
		failure(ctx, err, 500)
		return
	}
	if method == "PUT" {
		writeJSON(ctx, map[string]string{"message": "updated"})
		return
	}
	writeJSON(ctx, map[string]string{"message": "created", "name": name})
}

func settingsValues(m map[string]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range m {
		out[k] = []string{v}
	}
	return out
}
