package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/edgepix/edgepix/transform/grammar"
)

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// namedView is a named transformation as the settings page lists it.
type namedView struct {
	Name   string
	Strict bool
	Info   string
}

// presetView is an upload preset as the settings page lists it.
type presetView struct {
	Name     string            `json:"name"`
	Unsigned bool              `json:"unsigned"`
	Settings map[string]string `json:"settings"`
	Lines    string            `json:"-"`
}

// settings lists named transformations and upload presets, each with a
// form to edit or delete it and one to create another.
func (c *Console) settings(w http.ResponseWriter, r *http.Request, u *user) {
	c.showSettings(w, r, u, http.StatusOK, map[string]any{})
}

func (c *Console) showSettings(w http.ResponseWriter, r *http.Request, u *user, status int, data map[string]any) {
	var named struct {
		Transformations []struct {
			Name   string `json:"name"`
			Strict bool   `json:"allowed_for_strict"`
		} `json:"transformations"`
	}
	var errs []string
	if m, err := u.api.Admin(ctx(r), http.MethodGet, "transformations", nil); err != nil {
		errs = append(errs, "named transformations: "+message(err))
	} else {
		remarshal(m, &named)
	}
	var views []namedView
	for _, t := range named.Transformations {
		v := namedView{Name: strings.TrimPrefix(t.Name, "t_"), Strict: t.Strict}
		if m, err := u.api.Admin(ctx(r), http.MethodGet, "transformations/"+url.PathEscape(v.Name), nil); err == nil {
			v.Info = infoString(m["info"])
		}
		views = append(views, v)
	}
	var presets struct {
		Presets []presetView `json:"presets"`
	}
	if m, err := u.api.Admin(ctx(r), http.MethodGet, "upload_presets", nil); err != nil {
		errs = append(errs, "upload presets: "+message(err))
	} else {
		remarshal(m, &presets)
	}
	for i, p := range presets.Presets {
		keys := make([]string, 0, len(p.Settings))
		for k := range p.Settings {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			presets.Presets[i].Lines += k + "=" + p.Settings[k] + "\n"
		}
	}
	data["Named"], data["Presets"] = views, presets.Presets
	if len(errs) > 0 {
		data["Error"] = "Could not load " + strings.Join(errs, "; ")
	}
	c.render(w, r, status, "settings", u, data)
}

// infoString writes the Admin API's component list back as a chain.
func infoString(v any) string {
	short := map[string]string{"crop": "c", "width": "w", "height": "h", "gravity": "g", "quality": "q",
		"fetch_format": "f", "effect": "e", "angle": "a", "radius": "r", "background": "b", "aspect_ratio": "ar",
		"border": "bo", "opacity": "o", "flags": "fl", "page": "pg", "transformation": "t", "zoom": "z"}
	list, _ := v.([]any)
	var comps []string
	for _, c := range list {
		m, _ := c.(map[string]any)
		var parts []string
		for k, val := range m {
			if s, ok := short[k]; ok {
				k = s
			}
			parts = append(parts, fmt.Sprintf("%s_%v", k, val))
		}
		slices.Sort(parts)
		comps = append(comps, strings.Join(parts, ","))
	}
	return strings.Join(comps, "/")
}

func remarshal(from, to any) {
	b, _ := json.Marshal(from)
	json.Unmarshal(b, to)
}

// saveNamed creates, updates or deletes a named transformation; errors
// are shown next to the form they came from.
func (c *Console) saveNamed(w http.ResponseWriter, r *http.Request, u *user) {
	name, def, op := strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("name")), "t_"), strings.TrimSpace(r.PostFormValue("transformation")), r.PostFormValue("op")
	fail := func(msg string) {
		c.showSettings(w, r, u, http.StatusBadRequest, map[string]any{"NamedError": msg, "NamedForm": name, "NamedDef": def, "NamedOp": op})
	}
	if !nameRe.MatchString(name) {
		fail("A name is 1 to 64 letters, digits, _ or -.")
		return
	}
	strict := "false"
	if r.PostFormValue("allowed_for_strict") == "on" {
		strict = "true"
	}
	var err error
	switch op {
	case "create", "update":
		if def == "" {
			fail("Give the transformation, e.g. c_fill,w_400,h_300.")
			return
		}
		if _, perr := grammar.ParseChain(def); perr != nil {
			fail("The transformation is not valid: " + perr.Error())
			return
		}
		if op == "create" {
			_, err = u.api.Admin(ctx(r), http.MethodPost, "transformations", url.Values{"name": {name}, "transformation": {def}, "allowed_for_strict": {strict}})
		} else {
			_, err = u.api.Admin(ctx(r), http.MethodPut, "transformations/"+name, url.Values{"unsafe_update": {def}, "allowed_for_strict": {strict}})
		}
	case "delete":
		_, err = u.api.Admin(ctx(r), http.MethodDelete, "transformations/"+name, nil)
	default:
		fail("Choose create, update or delete.")
		return
	}
	if err != nil {
		fail(message(err))
		return
	}
	c.back(w, r, u, "/console/settings", fmt.Sprintf("Named transformation t_%s: %sd.", name, op))
}

// savePreset creates, updates or deletes an upload preset. Settings are
// key=value lines (folder, tags, eager, ...).
func (c *Console) savePreset(w http.ResponseWriter, r *http.Request, u *user) {
	name, op, lines := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("op"), r.PostFormValue("settings")
	fail := func(msg string) {
		c.showSettings(w, r, u, http.StatusBadRequest, map[string]any{"PresetError": msg, "PresetForm": name, "PresetLines": lines, "PresetOp": op})
	}
	if !nameRe.MatchString(name) {
		fail("A name is 1 to 64 letters, digits, _ or -.")
		return
	}
	p := url.Values{"unsigned": {"false"}}
	if r.PostFormValue("unsigned") == "on" {
		p.Set("unsigned", "true")
	}
	for i, line := range strings.Split(strings.ReplaceAll(lines, "\r", ""), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !nameRe.MatchString(strings.TrimSpace(k)) || strings.TrimSpace(v) == "" {
			fail(fmt.Sprintf("Line %d: write each setting as name=value (e.g. folder=products).", i+1))
			return
		}
		p.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	var err error
	switch op {
	case "create":
		p.Set("name", name)
		_, err = u.api.Admin(ctx(r), http.MethodPost, "upload_presets", p)
	case "update":
		_, err = u.api.Admin(ctx(r), http.MethodPut, "upload_presets/"+name, p)
	case "delete":
		_, err = u.api.Admin(ctx(r), http.MethodDelete, "upload_presets/"+name, nil)
	default:
		fail("Choose create, update or delete.")
		return
	}
	if err != nil {
		fail(message(err))
		return
	}
	c.back(w, r, u, "/console/settings", fmt.Sprintf("Upload preset %s: %sd.", name, op))
}
