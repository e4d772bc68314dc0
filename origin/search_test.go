package origin

import (
	"strings"
	"testing"
	"time"

	"github.com/edgepix/edgepix/catalog"
)

func TestSearchExpressions(t *testing.T) {
	now := time.Now()
	as := []*catalog.Asset{
		{PublicID: "shop/shoes/red", ResourceType: "image", Type: "upload", Format: "jpg", Width: 800, Height: 600,
			Bytes: 50_000, Tags: []string{"sale", "shoes"}, Context: map[string]string{"color": "red"}, CreatedAt: now},
		{PublicID: "shop/hats/blue", ResourceType: "image", Type: "upload", Format: "png", Width: 200, Height: 200,
			Bytes: 9_000, Tags: []string{"hats"}, CreatedAt: now.Add(-30 * 24 * time.Hour)},
		{PublicID: "docs/manual.pdf", ResourceType: "raw", Type: "upload", Bytes: 1_000_000, CreatedAt: now},
	}
	for expr, want := range map[string][]string{
		"":                                      {"shop/shoes/red", "shop/hats/blue", "docs/manual.pdf"},
		"tags=sale":                             {"shop/shoes/red"},
		"folder:shop/*":                         {"shop/shoes/red", "shop/hats/blue"},
		"folder=shop/hats":                      {"shop/hats/blue"},
		"resource_type:image AND width>=500":    {"shop/shoes/red"},
		"format=png OR tags:sale":               {"shop/shoes/red", "shop/hats/blue"},
		"NOT tags=sale AND resource_type=image": {"shop/hats/blue"},
		"-tags:hats resource_type:image":        {"shop/shoes/red"},
		"bytes>100000":                          {"docs/manual.pdf"},
		"created_at>1w":                         {"shop/shoes/red", "docs/manual.pdf"},
		"context.color=red":                     {"shop/shoes/red"},
		"(tags=hats OR tags=sale) AND pixels<100000": {"shop/hats/blue"},
		"manual":          {"docs/manual.pdf"},
		`filename="blue"`: {"shop/hats/blue"},
	} {
		m, err := parseSearch(expr)
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		var got []string
		for _, a := range as {
			if m(a) {
				got = append(got, a.PublicID)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%q: %v, want %v", expr, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%q: %v, want %v", expr, got, want)
				break
			}
		}
	}
	for _, bad := range []string{"(tags=a", "width>big", "colour=red", "tags>3", `public_id="x`, "tags=a OR", "created_at>soon"} {
		if _, err := parseSearch(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

// Expressions are bounded: a deep nest or a long chain would otherwise
// recurse until the process dies (a stack overflow is not recoverable).
func TestSearchExpressionBounds(t *testing.T) {
	for _, expr := range []string{
		strings.Repeat("(", 100000) + "a" + strings.Repeat(")", 100000),
		strings.Repeat("NOT ", 100000) + "a",
		strings.Repeat("a AND ", 100000) + "a",
	} {
		if _, err := parseSearch(expr); err == nil {
			t.Errorf("an expression of %d bytes was accepted", len(expr))
		}
	}
	if _, err := parseSearch(strings.Repeat("(", 10) + "tags=a" + strings.Repeat(")", 10) + " AND NOT format=png"); err != nil {
		t.Error(err)
	}
}
