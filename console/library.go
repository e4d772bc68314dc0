package console

import (
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/edgepix/edgepix/sdk"
)

// pageSize is how many assets the library shows at once.
const pageSize = 24

// card is one asset in the grid.
type card struct {
	sdk.Resource
	Thumb  string // delivery URL of the thumbnail (empty for raw files)
	Key    string // rt|type|public_id, the value of its checkbox
	Link   string // its asset page
	Folder string
}

// library shows the Media Library: a search (the API's expressions) over
// the cloud, narrowed by folder and tag, one page per API cursor.
func (c *Console) library(w http.ResponseWriter, r *http.Request, u *user) {
	q := r.URL.Query()
	folder, tag, expr := strings.Trim(q.Get("folder"), "/"), q.Get("tag"), strings.TrimSpace(q.Get("q"))
	full := searchExpression(folder, tag, expr)
	data := map[string]any{"Folder": folder, "Tag": tag, "Q": expr, "Expression": full}
	page, err := u.api.Search(ctx(r), sdk.SearchOptions{Expression: full, SortBy: "created_at:desc",
		MaxResults: pageSize, Cursor: q.Get("cursor")})
	if err != nil {
		data["Error"] = "The search failed: " + message(err)
		c.render(w, r, http.StatusBadRequest, "library", u, data)
		return
	}
	cards := make([]card, 0, len(page.Resources))
	for _, res := range page.Resources {
		cards = append(cards, c.card(u, res))
	}
	data["Cards"] = cards
	if page.NextCursor != "" {
		next := url.Values{"folder": {folder}, "tag": {tag}, "q": {expr}, "cursor": {page.NextCursor}}
		data["Next"] = "/console/library?" + next.Encode()
	}
	if q.Get("cursor") != "" {
		data["First"] = "/console/library?" + url.Values{"folder": {folder}, "tag": {tag}, "q": {expr}}.Encode()
	}
	data["Folders"], data["Tags"] = c.facets(r, u)
	c.render(w, r, http.StatusOK, "library", u, data)
}

// searchExpression combines the filters into one search expression.
func searchExpression(folder, tag, expr string) string {
	var parts []string
	if folder != "" {
		parts = append(parts, "folder="+quote(folder))
	}
	if tag != "" {
		parts = append(parts, "tags="+quote(tag))
	}
	if expr != "" {
		parts = append(parts, "("+expr+")")
	}
	return strings.Join(parts, " AND ")
}

func quote(s string) string {
	if strings.ContainsAny(s, " ()\"") {
		return `"` + strings.ReplaceAll(s, `"`, "") + `"`
	}
	return s
}

// facets lists the folders and tags of the cloud's newest assets (at most
// 1000), for the filter lists.
func (c *Console) facets(r *http.Request, u *user) (folders, tags []string) {
	seenF, seenT := map[string]bool{}, map[string]bool{}
	cursor := ""
	for range 2 {
		page, err := u.api.Search(ctx(r), sdk.SearchOptions{SortBy: "created_at:desc", MaxResults: 500, Cursor: cursor})
		if err != nil {
			break
		}
		for _, res := range page.Resources {
			for d := path.Dir(res.PublicID); d != "." && d != "/" && !seenF[d]; d = path.Dir(d) {
				seenF[d] = true
				folders = append(folders, d)
			}
			for _, t := range res.Tags {
				if !seenT[t] {
					seenT[t] = true
					tags = append(tags, t)
				}
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	slices.Sort(folders)
	slices.Sort(tags)
	return folders, tags
}

func (c *Console) card(u *user, res sdk.Resource) card {
	k := card{Resource: res, Key: res.ResourceType + "|" + res.Type + "|" + res.PublicID, Folder: path.Dir(res.PublicID)}
	k.Link = "/console/asset?" + url.Values{"rt": {res.ResourceType}, "type": {res.Type}, "id": {res.PublicID}}.Encode()
	if res.ResourceType == "image" {
		k.Thumb, _ = u.api.URL(res.PublicID, sdk.URLOptions{ResourceType: "image", Type: res.Type,
			Transformation: "c_fill,w_240,h_240,g_auto", Format: "jpg", Version: res.Version, Sign: signedType(res.Type)})
	}
	return k
}

// signedType says whether deliveries of a stored type need a signature.
func signedType(typ string) bool { return typ == "private" || typ == "authenticated" }

// message is an error in words for the page.
func message(err error) string {
	if ae, ok := err.(*sdk.APIError); ok && ae.Message != "" {
		return ae.Message
	}
	return err.Error()
}
