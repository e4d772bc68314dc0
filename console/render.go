package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strings"
)

// pageNames are the templates in templates/, each rendered inside layout.html.
var pageNames = []string{"signin", "error", "library", "asset", "batches", "webhooks", "settings", "plugins"}

var funcs = template.FuncMap{
	"bytes": humanBytes,
	"join":  strings.Join,
	"pct": func(done, total int) int {
		if total <= 0 {
			return 0
		}
		return 100 * done / total
	},
	"base": path.Base,
	"inc":  func(i int) int { return i + 1 },
}

func parsePages() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, n := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", n, err)
		}
		out[n] = t
	}
	return out, nil
}

// render writes a page: data's fields plus the session's (cloud, CSRF
// token, a pending message).
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, u *user, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["Page"] = name
	if u != nil {
		data["Cloud"], data["CSRF"] = u.cloud, u.csrf
		if f := c.sessions.takeFlash(u.session); f != "" {
			data["Flash"] = f
		}
	}
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, data); err != nil {
		c.cfg.Log.Error("console: rendering a page", "page", name, "err", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// back sends the browser to where it came from (a console page) with a
// message for that page.
func (c *Console) back(w http.ResponseWriter, r *http.Request, u *user, to, msg string) {
	c.sessions.setFlash(u.session, msg)
	http.Redirect(w, r, safeNext(to), http.StatusSeeOther)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"message": msg}})
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
