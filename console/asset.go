package console

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/edgepix/edgepix/sdk"
	"github.com/edgepix/edgepix/transform/grammar"
)

// assetRef reads rt, type and id from the query, checked.
func assetRef(q url.Values) (rt, typ, id string, err error) {
	rt, typ, id = q.Get("rt"), q.Get("type"), q.Get("id")
	if rt == "" {
		rt = "image"
	}
	if typ == "" {
		typ = "upload"
	}
	if (rt != "image" && rt != "raw") || !storedType(typ) {
		return "", "", "", fmt.Errorf("unknown resource type or type")
	}
	if err := grammar.CheckPublicID(id); err != nil {
		return "", "", "", err
	}
	return rt, typ, id, nil
}

// asset shows one asset: its facts, the original, and the transformation
// builder (the page's script asks previewURL for each transformation).
func (c *Console) asset(w http.ResponseWriter, r *http.Request, u *user) {
	rt, typ, id, err := assetRef(r.URL.Query())
	if err != nil {
		c.render(w, r, http.StatusBadRequest, "error", u, map[string]any{"Message": "This asset address is not valid: " + err.Error()})
		return
	}
	res, err := u.api.Resource(ctx(r), rt, typ, id)
	if err != nil {
		status := http.StatusBadGateway
		if ae, ok := err.(*sdk.APIError); ok {
			status = ae.Status
		}
		c.render(w, r, status, "error", u, map[string]any{"Message": "This asset could not be loaded: " + message(err)})
		return
	}
	data := map[string]any{"A": res, "Custom": res.Custom(), "Folder": path.Dir(res.PublicID), "Tx": r.URL.Query().Get("tx"),
		"Key": rt + "|" + typ + "|" + id, "Back": r.URL.RequestURI()}
	if rt == "image" {
		data["Original"], _ = u.api.URL(id, sdk.URLOptions{Type: typ, Format: res.Format, Version: res.Version, Sign: signedType(typ)})
		data["Plugins"] = c.pluginNames(r, u)
	} else {
		data["Original"] = res.SecureURL
	}
	data["PDF"] = res.Format == "pdf"
	c.render(w, r, http.StatusOK, "asset", u, data)
}

// previewURL answers the builder: the canonical delivery URL of a
// transformation of an asset (or why it is not valid), with snippets for
// the Go and Node SDKs.
func (c *Console) previewURL(w http.ResponseWriter, r *http.Request, u *user) {
	q := r.URL.Query()
	rt, typ, id, err := assetRef(q)
	if err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	tx, format := strings.TrimSpace(q.Get("tx")), q.Get("format")
	if format != "" && !formats[format] {
		jsonError(w, http.StatusBadRequest, "Unknown format "+format)
		return
	}
	ch, err := grammar.ParseChain(tx)
	if err != nil {
		jsonError(w, http.StatusBadRequest, "This transformation is not valid: "+err.Error())
		return
	}
	canon := ch.String()
	var version int64
	fmt.Sscan(q.Get("v"), &version)
	u2, err := u.api.URL(id, sdk.URLOptions{ResourceType: rt, Type: typ, Transformation: canon, Format: format,
		Version: version, Sign: signedType(typ)})
	if err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": u2, "transformation": canon,
		"go": goSnippet(id, canon, format, signedType(typ)), "node": nodeSnippet(id, canon, format, signedType(typ))})
}

func goSnippet(id, tx, format string, sign bool) string {
	return fmt.Sprintf("u, err := client.URL(%q, sdk.URLOptions{Transformation: %q, Format: %q, Sign: %v})", id, tx, format, sign)
}

func nodeSnippet(id, tx, format string, sign bool) string {
	opts := fmt.Sprintf("{ raw_transformation: %q", tx)
	if format != "" {
		opts += fmt.Sprintf(", format: %q", format)
	}
	if sign {
		opts += ", sign_url: true"
	}
	return fmt.Sprintf("cloudinary.url(%q, %s })", id, opts)
}

// pluginNames lists the cloud's fn_wasm plugins: raw assets named *.wasm.
func (c *Console) pluginNames(r *http.Request, u *user) []string {
	page, err := u.api.Search(ctx(r), sdk.SearchOptions{Expression: "resource_type=raw", MaxResults: 500})
	if err != nil {
		return nil
	}
	var out []string
	for _, res := range page.Resources {
		if strings.HasSuffix(res.PublicID, ".wasm") {
			out = append(out, res.PublicID)
		}
	}
	return out
}

// formats are the delivery formats the builder offers.
var formats = map[string]bool{"jpg": true, "png": true, "gif": true, "webp": true, "avif": true, "pdf": true}
