package e2e

import (
	"context"
	"fmt"
	"image"
	"slices"
	"strings"
	"testing"

	_ "image/jpeg"

	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/admin"
	"github.com/cloudinary/cloudinary-go/v2/api/admin/search"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
)

var bg = context.Background()

// TestAdminListingPagination lists 25 assets 10 at a time with the SDK's
// cursors, by prefix and by tag, then deletes some through the Admin API.
func TestAdminListingPagination(t *testing.T) {
	_, cld := start(t)
	file := fixtures.Path(t, "exif-orient1-synthetic-50x70.jpg")
	for i := range 25 {
		tags := []string{"all"}
		if i%2 == 1 {
			tags = append(tags, "odd")
		}
		upload(t, cld, file, uploader.UploadParams{PublicID: fmt.Sprintf("page/p%02d", i), Tags: tags})
	}
	upload(t, cld, file, uploader.UploadParams{PublicID: "other/x"})

	var got []string
	cursor := ""
	pages := 0
	for {
		res, err := cld.Admin.Assets(bg, admin.AssetsParams{AssetType: api.Image, DeliveryType: "upload",
			Prefix: "page/", MaxResults: 10, NextCursor: cursor, Tags: api.Bool(true)})
		if err != nil || res.Error.Message != "" {
			t.Fatalf("listing: %v %s", err, res.Error.Message)
		}
		pages++
		for _, a := range res.Assets {
			got = append(got, a.PublicID)
			if a.Width != 50 || a.Height != 70 || a.Format != "jpg" || a.CreatedAt.IsZero() || !slices.Contains(a.Tags, "all") {
				t.Errorf("listed asset %+v", a)
			}
		}
		if len(res.Assets) > 10 {
			t.Fatalf("page of %d assets with max_results=10", len(res.Assets))
		}
		if cursor = res.NextCursor; cursor == "" {
			break
		}
	}
	if pages != 3 || len(got) != 25 || !slices.IsSorted(got) || got[0] != "page/p00" || got[24] != "page/p24" {
		t.Fatalf("%d pages, %d assets: %v", pages, len(got), got)
	}

	odd, err := cld.Admin.AssetsByTag(bg, admin.AssetsByTagParams{AssetType: api.Image, Tag: "odd", MaxResults: 100})
	if err != nil || len(odd.Assets) != 12 || odd.NextCursor != "" {
		t.Fatalf("by tag: %v %d %q", err, len(odd.Assets), odd.NextCursor)
	}

	one, err := cld.Admin.Asset(bg, admin.AssetParams{AssetType: api.Image, DeliveryType: "upload", PublicID: "page/p03"})
	if err != nil || one.PublicID != "page/p03" || one.Width != 50 || !slices.Equal(one.Tags, []string{"all", "odd"}) {
		t.Fatalf("single asset: %v %+v", err, one)
	}
	missing, err := cld.Admin.Asset(bg, admin.AssetParams{AssetType: api.Image, DeliveryType: "upload", PublicID: "nope"})
	if err != nil || !strings.Contains(missing.Error.Message, "not found") {
		t.Fatalf("unknown asset: %v %+v", err, missing.Error)
	}

	del, err := cld.Admin.DeleteAssets(bg, admin.DeleteAssetsParams{AssetType: api.Image, DeliveryType: "upload",
		PublicIDs: []string{"page/p00", "page/p01", "ghost"}})
	if err != nil || del.Deleted["page/p00"] != "deleted" || del.Deleted["ghost"] != "not_found" {
		t.Fatalf("delete: %v %+v", err, del)
	}
	odd, _ = cld.Admin.AssetsByTag(bg, admin.AssetsByTagParams{AssetType: api.Image, Tag: "odd", MaxResults: 100})
	if len(odd.Assets) != 11 {
		t.Errorf("a deleted asset is still listed by tag: %d", len(odd.Assets))
	}
	all, _ := cld.Admin.Assets(bg, admin.AssetsParams{AssetType: api.Image, MaxResults: 500})
	if len(all.Assets) != 24 {
		t.Errorf("%d assets listed after deleting 2 of 26", len(all.Assets))
	}
	bad, err := cld.Admin.Assets(bg, admin.AssetsParams{AssetType: api.Image, MaxResults: 501})
	if err != nil || !strings.Contains(bad.Error.Message, "max_results") {
		t.Errorf("max_results=501: %v %+v", err, bad.Error)
	}
}

// TestTagsContextRename round-trips tags, context and rename through the
// SDK's upload API, and checks deliveries follow a rename.
func TestTagsContextRename(t *testing.T) {
	_, cld := start(t)
	file := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	res := upload(t, cld, file, uploader.UploadParams{PublicID: "snake", Tags: []string{"a", "b"},
		Context: api.CldAPIMap{"alt": "a snake", "caption": "café, au lait"}})
	if res.Context["custom"] == nil {
		t.Fatalf("upload result context: %#v", res.Context)
	}
	custom := res.Context["custom"].(map[string]any)
	if custom["alt"] != "a snake" || custom["caption"] != "café, au lait" {
		t.Errorf("context round trip: %#v", custom)
	}
	upload(t, cld, file, uploader.UploadParams{PublicID: "other"})

	tags := func(id string) []string {
		t.Helper()
		r, err := cld.Admin.Asset(bg, admin.AssetParams{AssetType: api.Image, DeliveryType: "upload", PublicID: id})
		if err != nil || r.Error.Message != "" {
			t.Fatalf("asset %s: %v %s", id, err, r.Error.Message)
		}
		return r.Tags
	}
	if r, err := cld.Upload.AddTag(bg, uploader.AddTagParams{Tag: "c", PublicIDs: []string{"snake", "other", "ghost"}}); err != nil ||
		!slices.Equal(r.PublicIDs, []string{"snake", "other"}) {
		t.Fatalf("add tag: %v %+v", err, r)
	}
	if got := tags("snake"); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("after add: %v", got)
	}
	if _, err := cld.Upload.RemoveTag(bg, uploader.RemoveTagParams{Tag: "a", PublicIDs: []string{"snake"}}); err != nil {
		t.Fatal(err)
	}
	if got := tags("snake"); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("after remove: %v", got)
	}
	if _, err := cld.Upload.ReplaceTag(bg, uploader.ReplaceTagParams{Tag: "z", PublicIDs: []string{"snake"}}); err != nil {
		t.Fatal(err)
	}
	if got := tags("snake"); !slices.Equal(got, []string{"z"}) {
		t.Errorf("after replace: %v", got)
	}
	byTag, _ := cld.Admin.AssetsByTag(bg, admin.AssetsByTagParams{AssetType: api.Image, Tag: "c"})
	if len(byTag.Assets) != 1 || byTag.Assets[0].PublicID != "other" {
		t.Errorf("tag index after replace: %+v", byTag.Assets)
	}
	if _, err := cld.Upload.RemoveAllTags(bg, uploader.RemoveAllTagsParams{PublicIDs: []string{"other"}}); err != nil {
		t.Fatal(err)
	}
	if got := tags("other"); len(got) != 0 {
		t.Errorf("after remove_all: %v", got)
	}

	if _, err := cld.Upload.AddContext(bg, uploader.AddContextParams{Context: api.CldAPIMap{"credit": "me"},
		PublicIDs: []string{"snake"}}); err != nil {
		t.Fatal(err)
	}
	listed, _ := cld.Admin.Assets(bg, admin.AssetsParams{AssetType: api.Image, Context: api.Bool(true), Prefix: "snake"})
	if len(listed.Assets) != 1 {
		t.Fatalf("listing with context: %+v", listed)
	}
	c := fmt.Sprint(listed.Assets[0].Context)
	if !strings.Contains(c, "credit:me") || !strings.Contains(c, "alt:a snake") {
		t.Errorf("context after add: %s", c)
	}

	// Rename: delivered under the new id, gone under the old one.
	before, _ := get(t, deliveryURL(t, cld, "snake", "c_scale,w_60", false))
	if before.StatusCode != 200 {
		t.Fatalf("delivery before rename: %d", before.StatusCode)
	}
	rr, err := cld.Upload.Rename(bg, uploader.RenameParams{FromPublicID: "snake", ToPublicID: "reptiles/snake"})
	if err != nil || rr.PublicID != "reptiles/snake" || rr.Error != nil {
		t.Fatalf("rename: %v %+v", err, rr)
	}
	eventually(t, "the old id is purged from the edge after rename", func() bool {
		resp, _ := get(t, deliveryURL(t, cld, "snake", "c_scale,w_60", false))
		return resp.StatusCode == 404
	})
	resp, body := get(t, deliveryURL(t, cld, "reptiles/snake", "c_scale,w_60", false))
	if resp.StatusCode != 200 {
		t.Fatalf("new id after rename: %d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	if img, _, err := image.Decode(strings.NewReader(string(body))); err != nil || img.Bounds().Dx() != 60 {
		t.Errorf("renamed delivery: %v", err)
	}
	if rr, err := cld.Upload.Rename(bg, uploader.RenameParams{FromPublicID: "other", ToPublicID: "reptiles/snake"}); err != nil ||
		!strings.Contains(fmt.Sprint(rr.Error), "already exists") {
		t.Errorf("rename onto an existing id without overwrite: %v %+v", err, rr.Error)
	}
	if rr, err := cld.Upload.Rename(bg, uploader.RenameParams{FromPublicID: "ghost", ToPublicID: "x"}); err != nil ||
		!strings.Contains(fmt.Sprint(rr.Error), "not found") {
		t.Errorf("rename of an unknown id: %v %+v", err, rr.Error)
	}

	ex, err := cld.Upload.Explicit(bg, uploader.ExplicitParams{PublicID: "reptiles/snake", Type: "upload",
		Tags: []string{"explicit"}})
	if err != nil || ex.Error.Message != "" || !slices.Equal(ex.Tags, []string{"explicit"}) || ex.Width != 600 {
		t.Fatalf("explicit: %v %+v", err, ex)
	}
	if ex, err := cld.Upload.Explicit(bg, uploader.ExplicitParams{PublicID: "ghost", Type: "upload"}); err != nil ||
		!strings.Contains(ex.Error.Message, "not found") {
		t.Errorf("explicit of an unknown id: %v %+v", err, ex.Error)
	}
}

// TestNamedTransformations creates, uses, updates and deletes t_ names
// through the Admin API, also under --strict.
func TestNamedTransformations(t *testing.T) {
	a, cld := start(t, func(c *app.Config) { c.Strict = true })
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("snake"))
	if r, err := cld.Admin.CreateTransformation(bg, admin.CreateTransformationParams{Name: "thumb",
		Transformation: "c_fill,w_40,h_30"}); err != nil || r.Message != "created" {
		t.Fatalf("create: %v %+v", err, r)
	}
	if _, err := cld.Admin.UpdateTransformation(bg, admin.UpdateTransformationParams{Transformation: "thumb",
		AllowedForStrict: api.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if r, _ := cld.Admin.CreateTransformation(bg, admin.CreateTransformationParams{Name: "bad",
		Transformation: "c_fill,w_-4"}); r.Error.Message == "" {
		t.Error("an invalid definition was accepted")
	}
	if r, _ := cld.Admin.CreateTransformation(bg, admin.CreateTransformationParams{Name: "loop",
		Transformation: "t_loop"}); r.Error.Message == "" {
		t.Error("a self-referencing definition was accepted")
	}
	size := func(tx string) (int, int, int) {
		t.Helper()
		resp, body := get(t, a.EdgeURL+"/demo/image/upload/"+tx+"/snake.jpg")
		if resp.StatusCode != 200 {
			return resp.StatusCode, 0, 0
		}
		cfg, _, err := image.DecodeConfig(strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		return 200, cfg.Width, cfg.Height
	}
	if s, w, h := size("t_thumb"); s != 200 || w != 40 || h != 30 {
		t.Fatalf("t_thumb: %d %dx%d", s, w, h)
	}
	if s, _, _ := size("c_scale,w_50"); s != 401 {
		t.Errorf("an unsigned ad-hoc transformation under --strict: %d", s)
	}
	got, err := cld.Admin.GetTransformation(bg, admin.GetTransformationParams{Transformation: "thumb"})
	if err != nil || got.Name != "t_thumb" || len(got.Info) != 1 || got.Info[0]["width"] != "40" {
		t.Fatalf("get: %v %+v", err, got)
	}
	list, err := cld.Admin.ListTransformations(bg, admin.ListTransformationsParams{})
	if err != nil || len(list.Transformations) != 1 || list.Transformations[0].Name != "t_thumb" {
		t.Fatalf("list: %v %+v", err, list)
	}
	if _, err := cld.Admin.UpdateTransformation(bg, admin.UpdateTransformationParams{Transformation: "thumb",
		UnsafeUpdate: "c_fill,w_20,h_20"}); err != nil {
		t.Fatal(err)
	}
	// A new URL (the old one is cached at the edge, as on any CDN) follows
	// the new definition: the origin keys derived files by the expansion.
	if s, w, h := size("t_thumb/t_thumb"); s != 200 || w != 20 || h != 20 {
		t.Errorf("after update: %d %dx%d", s, w, h)
	}
	if r, err := cld.Admin.DeleteTransformation(bg, admin.DeleteTransformationParams{Transformation: "thumb"}); err != nil || r.Message != "deleted" {
		t.Fatalf("delete: %v %+v", err, r)
	}
	if s, _, _ := size("t_thumb/t_thumb/t_thumb"); s != 400 {
		t.Errorf("a deleted name still renders: %d", s)
	}
}

// TestPurges checks that destroy, and overwrite with invalidate, reach
// the edge's cache.
func TestPurges(t *testing.T) {
	a, cld := start(t)
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	upload(t, cld, snake, uploadParams("p"))
	u := a.EdgeURL + "/demo/image/upload/c_scale,w_100/p.jpg"
	get(t, u)
	if resp, _ := get(t, u); resp.Header.Get("X-Cache") != "HIT" {
		t.Fatal("second fetch is not a HIT")
	}
	upload(t, cld, fixtures.Path(t, "exif-orient1-synthetic-50x70.jpg"), uploader.UploadParams{PublicID: "p",
		Overwrite: api.Bool(true), Invalidate: api.Bool(true)})
	eventually(t, "overwrite with invalidate serves the new 50x70 image scaled to 100x140", func() bool {
		_, body := get(t, u)
		cfg, _, _ := image.DecodeConfig(strings.NewReader(string(body)))
		return cfg.Height == 140
	})
	if _, err := cld.Upload.Destroy(bg, uploader.DestroyParams{PublicID: "p"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a destroyed asset leaves the edge cache", func() bool {
		resp, _ := get(t, u)
		return resp.StatusCode == 404
	})
}

// TestChunkedUpload uploads through the SDK's chunked path
// (X-Unique-Upload-Id + Content-Range) with a small chunk size.
func TestChunkedUpload(t *testing.T) {
	a, cld := start(t)
	cld.Config.API.ChunkSize = 100 << 10
	file := fixtures.Path(t, "photo-storm-1920x1280.jpg") // 695 KB: 7 chunks
	res := upload(t, cld, file, uploadParams("storm"))
	if res.Width != 1920 || res.Height != 1280 || res.Bytes != 695070 || res.Error.Message != "" {
		t.Fatalf("chunked upload result: %+v", res)
	}
	resp, body := get(t, a.EdgeURL+"/demo/image/upload/storm.jpg")
	if resp.StatusCode != 200 || len(body) != 695070 {
		t.Fatalf("original after chunked upload: %d, %d bytes", resp.StatusCode, len(body))
	}
	_, cld2 := start(t, func(c *app.Config) { c.MaxUploadBytes = 300 << 10 })
	cld2.Config.API.ChunkSize = 100 << 10
	if r, err := cld2.Upload.Upload(bg, file, uploadParams("big")); err == nil && r.Error.Message == "" {
		t.Error("a chunked upload over --max-upload-bytes was accepted")
	}
}

// TestMetricsAndRequestIDs checks /metrics (on the origin, not on the
// public edge), nosniff and the request id header.
func TestMetricsAndRequestIDs(t *testing.T) {
	a, cld := start(t)
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploadParams("m"))
	u := a.EdgeURL + "/demo/image/upload/c_scale,w_30/m.jpg"
	get(t, u)
	resp, _ := get(t, u, "X-Request-Id", "trace-me")
	if resp.Header.Get("X-Request-Id") != "trace-me" {
		t.Errorf("request id not echoed: %q", resp.Header.Get("X-Request-Id"))
	}
	if first, _ := get(t, u); len(first.Header.Get("X-Request-Id")) != 16 {
		t.Errorf("no generated request id: %q", first.Header.Get("X-Request-Id"))
	}
	if a.MetricsURL != a.OriginURL+"/metrics" {
		t.Fatalf("metrics served at %q", a.MetricsURL)
	}
	_, body := get(t, a.MetricsURL)
	m := string(body)
	for _, want := range []string{`edgepix_edge_cache_requests_total{result="hit"} 2`,
		`edgepix_edge_cache_requests_total{result="miss"} 1`, `edgepix_origin_renders_total{result="ok"} 1`,
		`edgepix_http_request_duration_seconds_bucket{server="edge"`, `edgepix_origin_render_queue_depth 0`} {
		if !strings.Contains(m, want) {
			t.Errorf("%s lacks %s", a.MetricsURL, want)
		}
	}
	for _, r := range []string{u, a.EdgeURL + "/demo/image/upload/nothing.jpg", a.OriginURL + "/v1_1/demo/ping"} {
		if resp, _ := get(t, r); resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s (%d): no X-Content-Type-Options: nosniff", r, resp.StatusCode)
		}
	}
	// On the delivery port /metrics is a delivery path like any other.
	if resp, body := get(t, a.EdgeURL+"/metrics"); resp.StatusCode == 200 || strings.Contains(string(body), "edgepix_") {
		t.Errorf("the edge serves /metrics: %d %.100s", resp.StatusCode, body)
	}
}

// With --metrics-addr, /metrics is served there and on neither server.
func TestMetricsAddr(t *testing.T) {
	a, _ := start(t, func(c *app.Config) { c.MetricsAddr = "127.0.0.1:0" })
	get(t, a.EdgeURL+"/healthz")
	if a.MetricsURL == "" || strings.HasPrefix(a.MetricsURL, a.OriginURL) {
		t.Fatalf("metrics served at %q", a.MetricsURL)
	}
	if resp, body := get(t, a.MetricsURL); resp.StatusCode != 200 || !strings.Contains(string(body), "edgepix_http_requests_total") {
		t.Fatalf("%s: %d %.100s", a.MetricsURL, resp.StatusCode, body)
	}
	for _, base := range []string{a.EdgeURL, a.OriginURL} {
		if resp, body := get(t, base+"/metrics"); resp.StatusCode == 200 || strings.Contains(string(body), "edgepix_") {
			t.Errorf("%s/metrics served beside --metrics-addr: %d", base, resp.StatusCode)
		}
	}
}

// TestSearch runs the Search API through the SDK, with sorting and
// cursors.
func TestSearch(t *testing.T) {
	_, cld := start(t)
	for i, f := range []string{"photo-snake-600x450-grayscale.jpg", "interlaced-rgb-horse-200x200.png",
		"exif-orient1-synthetic-50x70.jpg"} {
		upload(t, cld, fixtures.Path(t, f), uploader.UploadParams{PublicID: fmt.Sprintf("zoo/a%d", i), Tags: []string{"zoo"}})
	}
	upload(t, cld, fixtures.Path(t, "avif-still-320x180.avif"), uploader.UploadParams{PublicID: "other"})
	res, err := cld.Admin.Search(bg, search.Query{Expression: "folder:zoo AND width>60",
		SortBy: []search.SortByField{{"width": search.Descending}}, MaxResults: 1})
	if err != nil || res.Error.Message != "" || res.TotalCount != 2 || len(res.Assets) != 1 || res.Assets[0].Width != 600 || res.NextCursor == "" {
		t.Fatalf("search: %v %+v", err, res)
	}
	next, err := cld.Admin.Search(bg, search.Query{Expression: "folder:zoo AND width>60",
		SortBy: []search.SortByField{{"width": search.Descending}}, MaxResults: 1, NextCursor: res.NextCursor})
	if err != nil || len(next.Assets) != 1 || next.Assets[0].Width != 200 || next.NextCursor != "" {
		t.Fatalf("search page 2: %v %+v", err, next)
	}
	if all, _ := cld.Admin.Search(bg, search.Query{}); all.TotalCount != 4 {
		t.Errorf("empty expression: %d assets", all.TotalCount)
	}
	if bad, _ := cld.Admin.Search(bg, search.Query{Expression: "width>big"}); !strings.Contains(bad.Error.Message, "Invalid search expression") {
		t.Errorf("bad expression: %+v", bad.Error)
	}
}

func TestAssetsByContext(t *testing.T) {
	_, cld := start(t)
	f := fixtures.Path(t, "exif-orient1-synthetic-50x70.jpg")
	upload(t, cld, f, uploader.UploadParams{PublicID: "c1", Context: api.CldAPIMap{"team": "red"}})
	upload(t, cld, f, uploader.UploadParams{PublicID: "c2", Context: api.CldAPIMap{"team": "blue"}})
	upload(t, cld, f, uploader.UploadParams{PublicID: "c3"})
	res, err := cld.Admin.AssetsByContext(bg, admin.AssetsByContextParams{AssetType: api.Image, Key: "team"})
	if err != nil || len(res.Assets) != 2 {
		t.Fatalf("by key: %v %+v", err, res)
	}
	res, err = cld.Admin.AssetsByContext(bg, admin.AssetsByContextParams{AssetType: api.Image, Key: "team", Value: "blue"})
	if err != nil || len(res.Assets) != 1 || res.Assets[0].PublicID != "c2" {
		t.Fatalf("by key and value: %v %+v", err, res)
	}
}
