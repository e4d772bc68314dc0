package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/edgepix/edgepix/sdk"
)

// plugins lists the cloud's fn_wasm plugins, with an upload form (the
// browser sends the .wasm to the Upload API, which validates it and
// answers in words) and a way to try one on an asset in the builder.
func (c *Console) plugins(w http.ResponseWriter, r *http.Request, u *user) {
	data := map[string]any{}
	page, err := u.api.Search(ctx(r), sdk.SearchOptions{Expression: "resource_type=raw", SortBy: "created_at:desc", MaxResults: 500})
	if err != nil {
		data["Error"] = "The plugins could not be listed: " + message(err)
	} else {
		var list []sdk.Resource
		for _, res := range page.Resources {
			if strings.HasSuffix(res.PublicID, ".wasm") {
				list = append(list, res)
			}
		}
		data["List"] = list
	}
	if id := strings.TrimSpace(r.URL.Query().Get("asset")); id != "" {
		plugin := r.URL.Query().Get("plugin")
		to := "/console/asset?" + url.Values{"id": {id}, "tx": {"fn_wasm:" + plugin}}.Encode()
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "plugins", u, data)
}
