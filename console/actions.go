package console

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/edgepix/edgepix/transform/grammar"
)

// selected is an asset picked in the grid.
type selected struct{ rt, typ, id string }

// picked reads the checked assets (rt|type|public_id), checking each part.
func picked(r *http.Request) ([]selected, error) {
	var out []selected
	for _, v := range r.PostForm["sel"] {
		p := strings.SplitN(v, "|", 3)
		if len(p) != 3 || (p[0] != "image" && p[0] != "raw") || !storedType(p[1]) || grammar.CheckPublicID(p[2]) != nil {
			return nil, fmt.Errorf("an asset in the selection is not valid: %q", v)
		}
		out = append(out, selected{p[0], p[1], p[2]})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("select one or more assets first")
	}
	if len(out) > 100 {
		return nil, fmt.Errorf("select at most 100 assets at once")
	}
	return out, nil
}

func storedType(t string) bool {
	switch t {
	case "upload", "private", "authenticated", "fetch", "sprite", "multi":
		return true
	}
	return false
}

// libraryAction applies a bulk action to the selected assets, one API
// call per asset (or per resource type and type), and reports in words.
func (c *Console) libraryAction(w http.ResponseWriter, r *http.Request, u *user) {
	back := r.PostFormValue("back")
	sel, err := picked(r)
	if err != nil {
		c.back(w, r, u, back, "Nothing was done: "+err.Error()+".")
		return
	}
	var done, failed []string
	record := func(id string, err error) {
		if err != nil {
			failed = append(failed, id+" ("+message(err)+")")
		} else {
			done = append(done, id)
		}
	}
	switch act := r.PostFormValue("action"); act {
	case "tag", "untag":
		tag := strings.TrimSpace(r.PostFormValue("tag"))
		if tag == "" || len(tag) > 255 || strings.Contains(tag, ",") {
			c.back(w, r, u, back, "Nothing was done: give one tag (no commas, at most 255 characters).")
			return
		}
		cmd := map[string]string{"tag": "add", "untag": "remove"}[act]
		for _, s := range sel {
			_, err := u.api.Call(ctx(r), s.rt, "tags", url.Values{"command": {cmd}, "tag": {tag}, "type": {s.typ}, "public_ids": {s.id}})
			record(s.id, err)
		}
	case "move":
		to := strings.Trim(strings.TrimSpace(r.PostFormValue("folder")), "/")
		if to != "" && grammar.CheckPublicID(to+"/x") != nil {
			c.back(w, r, u, back, "Nothing was moved: "+to+" is not a valid folder name.")
			return
		}
		for _, s := range sel {
			dest := path.Join(to, path.Base(s.id))
			_, err := u.api.Call(ctx(r), s.rt, "rename", url.Values{"from_public_id": {s.id}, "to_public_id": {dest}, "type": {s.typ}})
			record(s.id+" → "+dest, err)
		}
	case "delete":
		for _, s := range sel {
			res, err := u.api.DeleteResources(ctx(r), s.rt, s.typ, []string{s.id})
			if err == nil && res[s.id] != "deleted" {
				err = fmt.Errorf("%s", res[s.id])
			}
			record(s.id, err)
		}
	case "eager":
		tx := strings.TrimSpace(r.PostFormValue("eager"))
		if _, err := grammar.ParseChain(tx); err != nil || tx == "" {
			c.back(w, r, u, back, "No work was started: give a valid transformation (e.g. c_fill,w_400,h_300).")
			return
		}
		hook := strings.TrimSpace(r.PostFormValue("notification_url"))
		for _, s := range sel {
			p := url.Values{"public_id": {s.id}, "type": {s.typ}, "eager": {tx}, "eager_async": {"true"}}
			if hook != "" {
				p.Set("eager_notification_url", hook)
			}
			_, err := u.api.Call(ctx(r), s.rt, "explicit", p)
			record(s.id, err)
		}
		if len(failed) == 0 {
			c.back(w, r, u, "/console/batches", fmt.Sprintf("Started eager work on %d asset(s).", len(done)))
			return
		}
	default:
		c.back(w, r, u, back, "Nothing was done: choose an action.")
		return
	}
	msg := fmt.Sprintf("Done for %d asset(s).", len(done))
	if len(failed) > 0 {
		msg += " Failed: " + strings.Join(failed, "; ") + "."
	}
	c.back(w, r, u, back, msg)
}

// sign returns the signed parameters for one browser upload to the API
// (the file goes straight from the browser to /v1_1/{cloud}/{rt}/upload,
// in parts when it is large). Only a public_id, tags and the resource type
// are accepted, each checked.
func (c *Console) sign(w http.ResponseWriter, r *http.Request, u *user) {
	rt := r.PostFormValue("resource_type")
	if rt == "" {
		rt = "auto"
	}
	if rt != "auto" && rt != "image" && rt != "raw" {
		jsonError(w, http.StatusBadRequest, "resource_type must be auto, image or raw")
		return
	}
	id := publicIDFor(r.PostFormValue("folder"), r.PostFormValue("filename"), rt == "raw")
	if err := grammar.CheckPublicID(id); err != nil {
		jsonError(w, http.StatusBadRequest, "This file name cannot be a public_id: "+err.Error())
		return
	}
	p := url.Values{"public_id": {id}}
	if t := strings.TrimSpace(r.PostFormValue("tags")); t != "" {
		for _, tag := range strings.Split(t, ",") {
			if tag = strings.TrimSpace(tag); tag == "" || len(tag) > 255 {
				jsonError(w, http.StatusBadRequest, "Tags must be separated by commas, each at most 255 characters.")
				return
			}
		}
		p.Set("tags", t)
	}
	signed := u.api.Sign(p)
	fields := map[string]string{}
	for k := range signed {
		fields[k] = signed.Get(k)
	}
	writeJSON(w, http.StatusOK, map[string]any{"url": "/v1_1/" + u.cloud + "/" + rt + "/upload", "fields": fields, "public_id": id})
}

// publicIDFor names an uploaded file: the folder, then the file name
// (without its extension, unless it is a raw file), with characters a
// public_id cannot hold replaced.
func publicIDFor(folder, filename string, raw bool) string {
	name := path.Base(strings.ReplaceAll(filename, "\\", "/"))
	if ext := path.Ext(name); ext != "" && !raw {
		name = strings.TrimSuffix(name, ext)
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || strings.ContainsRune("?#\\/&%<>\"'", r) {
			return '_'
		}
		return r
	}, strings.TrimSpace(name))
	return path.Join(strings.Trim(strings.TrimSpace(folder), "/"), name)
}
