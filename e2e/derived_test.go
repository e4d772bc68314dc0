package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/admin"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/fixtures"
)

// TestDerivedListing: an asset's details list the derived files that
// exist for its current version (eager ones and those the edge asked
// for), each with a URL that delivers it, paged with max_results and
// derived_next_cursor as the SDK sends them; a new version lists only its own.
func TestDerivedListing(t *testing.T) {
	_, cld := start(t)
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	upload(t, cld, snake, uploader.UploadParams{PublicID: "listed", Eager: "c_fill,w_100,h_100"})
	if resp, _ := get(t, deliveryURL(t, cld, "listed", "c_scale,w_120/e_sepia", false)); resp.StatusCode != 200 {
		t.Fatalf("delivery: %d", resp.StatusCode)
	}
	// A missing image with this one as its default: not one of its files.
	if resp, _ := get(t, deliveryURL(t, cld, "missing", "d_listed,c_scale,w_90", false)); resp.StatusCode != 200 {
		t.Fatalf("delivery of a default image: %d", resp.StatusCode)
	}
	details := func(p admin.AssetParams) *admin.AssetResult {
		t.Helper()
		p.PublicID = "listed"
		res, err := cld.Admin.Asset(bg, p)
		if err != nil || res.Error.Message != "" {
			t.Fatalf("asset details: %v %+v", err, res.Error)
		}
		return res
	}
	res := details(admin.AssetParams{})
	var txs []string
	for _, d := range res.Derived {
		m := d.(map[string]any)
		txs = append(txs, m["transformation"].(string))
		u, _ := m["secure_url"].(string)
		resp, body := get(t, u)
		if resp.StatusCode != 200 || float64(len(body)) != m["bytes"] || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/"+m["format"].(string)[:2]) {
			t.Errorf("derived %v: its URL gives %d, %d bytes, %s", m, resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
		}
	}
	slices.Sort(txs)
	if !slices.Equal(txs, []string{"c_fill,h_100,w_100", "c_scale,w_120/e_sepia"}) {
		t.Fatalf("derived transformations: %q", txs)
	}

	// The SDK sends the cursor; its result keeps it only in the raw answer.
	first := details(admin.AssetParams{MaxResults: 1})
	cursor, _ := raw(first.Response)["derived_next_cursor"].(string)
	if len(first.Derived) != 1 || cursor == "" {
		t.Fatalf("first page of one: %d derived, cursor %q", len(first.Derived), cursor)
	}
	second := details(admin.AssetParams{MaxResults: 1, DerivedNextCursor: cursor})
	if len(second.Derived) != 1 || raw(second.Response)["derived_next_cursor"] != nil ||
		second.Derived[0].(map[string]any)["id"] == first.Derived[0].(map[string]any)["id"] {
		t.Fatalf("second page: %+v after %+v", second.Derived, first.Derived)
	}

	// A new version lists its own eager file, made before the old
	// version's files were dropped, and none of the old version's.
	upload(t, cld, snake, uploader.UploadParams{PublicID: "listed", Overwrite: api.Bool(true), Invalidate: api.Bool(true),
		Eager: "c_fill,w_60,h_60"})
	if res := details(admin.AssetParams{}); len(res.Derived) != 1 || res.Derived[0].(map[string]any)["transformation"] != "c_fill,h_60,w_60" {
		t.Fatalf("the new version's derived files: %+v", res.Derived)
	}
}
