package sdk

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Resource is an asset as the Admin and Search APIs list it.
type Resource struct {
	AssetID      string         `json:"asset_id"`
	PublicID     string         `json:"public_id"`
	Format       string         `json:"format"`
	Version      int64          `json:"version"`
	ResourceType string         `json:"resource_type"`
	Type         string         `json:"type"`
	Bytes        int64          `json:"bytes"`
	Width        int            `json:"width"`
	Height       int            `json:"height"`
	Tags         []string       `json:"tags"`
	Context      map[string]any `json:"context"`
	URL          string         `json:"url"`
	SecureURL    string         `json:"secure_url"`
	Etag         string         `json:"etag"`
	CreatedAt    string         `json:"created_at"`
	Derived      []Derived      `json:"derived"` // in an asset's details only
}

// Derived is a derived file of an asset, as its details list them.
type Derived struct {
	Transformation string `json:"transformation"`
	Format         string `json:"format"`
	Bytes          int64  `json:"bytes"`
	ID             string `json:"id"`
	SecureURL      string `json:"secure_url"`
}

// Custom returns the asset's context (key=value pairs), which the API
// nests under "custom".
func (r Resource) Custom() map[string]string {
	out := map[string]string{}
	src := r.Context
	if c, ok := src["custom"].(map[string]any); ok {
		src = c
	}
	for k, v := range src {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// Page is one page of a listing or a search; NextCursor is empty on the last.
type Page struct {
	Resources  []Resource `json:"resources"`
	NextCursor string     `json:"next_cursor"`
	TotalCount int        `json:"total_count"`
}

// ListOptions select assets to list: by resource type and type, with a
// public_id prefix or a tag.
type ListOptions struct {
	ResourceType string // default image
	Type         string // upload, private, ...; empty: all
	Prefix       string
	Tag          string
	MaxResults   int // default 10, at most 500
	Cursor       string
}

// SearchOptions is a Search API request.
type SearchOptions struct {
	Expression string
	SortBy     string // field:asc or field:desc, e.g. created_at:desc
	MaxResults int
	Cursor     string
}

// Admin sends an Admin API request with HTTP Basic credentials to
// /v1_1/{cloud}/{path}: params go in the query string for GET and DELETE,
// in a form body otherwise.
func (c *Client) Admin(ctx context.Context, method, path string, params url.Values) (map[string]any, error) {
	var out map[string]any
	err := c.admin(ctx, method, path, params, &out)
	return out, err
}

func (c *Client) admin(ctx context.Context, method, path string, params url.Values, out any) error {
	u := c.APIBase + "/v1_1/" + c.Cloud + "/" + path
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		if len(params) > 0 {
			u += "?" + params.Encode()
		}
	} else {
		body = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth(c.APIKey, c.APISecret)
	return c.send(req, out)
}

// Resources lists assets (resources/{rt}[/{type}], or by tag).
func (c *Client) Resources(ctx context.Context, o ListOptions) (*Page, error) {
	rt := o.ResourceType
	if rt == "" {
		rt = "image"
	}
	p := url.Values{"tags": {"true"}, "context": {"true"}}
	path := "resources/" + rt
	switch {
	case o.Tag != "":
		path += "/tags/" + url.PathEscape(o.Tag)
	case o.Type != "":
		path += "/" + o.Type
	}
	if o.Prefix != "" {
		p.Set("prefix", o.Prefix)
	}
	if o.MaxResults > 0 {
		p.Set("max_results", strconv.Itoa(o.MaxResults))
	}
	if o.Cursor != "" {
		p.Set("next_cursor", o.Cursor)
	}
	var page Page
	return &page, c.admin(ctx, http.MethodGet, path, p, &page)
}

// Search runs a search expression (resources/search).
func (c *Client) Search(ctx context.Context, o SearchOptions) (*Page, error) {
	q := map[string]any{"expression": o.Expression}
	if o.MaxResults > 0 {
		q["max_results"] = o.MaxResults
	}
	if o.Cursor != "" {
		q["next_cursor"] = o.Cursor
	}
	if field, dir, ok := strings.Cut(o.SortBy, ":"); ok {
		q["sort_by"] = []map[string]string{{field: dir}}
	}
	b, _ := json.Marshal(q)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.APIBase+"/v1_1/"+c.Cloud+"/resources/search", strings.NewReader(string(b)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(c.APIKey, c.APISecret)
	var page Page
	return &page, c.send(req, &page)
}

// Resource loads one asset's details.
func (c *Client) Resource(ctx context.Context, rt, typ, publicID string) (*Resource, error) {
	var r Resource
	return &r, c.admin(ctx, http.MethodGet, "resources/"+rt+"/"+typ+"/"+escapeID(publicID), nil, &r)
}

// DeleteResources deletes up to 100 assets of one resource type and type;
// the answer maps each public_id to "deleted" or "not_found".
func (c *Client) DeleteResources(ctx context.Context, rt, typ string, ids []string) (map[string]string, error) {
	var out struct {
		Deleted map[string]string `json:"deleted"`
	}
	err := c.admin(ctx, http.MethodDelete, "resources/"+rt+"/"+typ, url.Values{"public_ids": ids}, &out)
	return out.Deleted, err
}

// escapeID escapes each folder of a public_id for a path.
func escapeID(id string) string {
	parts := strings.Split(id, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
