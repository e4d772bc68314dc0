package origin

import (
	"maps"
	"testing"
)

func TestParseContextEscapes(t *testing.T) {
	for in, want := range map[string]map[string]string{
		"alt=a snake|caption=hi": {"alt": "a snake", "caption": "hi"},
		`eq=x\=y|pipe=a\|b`:      {"eq": "x=y", "pipe": "a|b"},
		"empty=|novalue":         {"empty": "", "novalue": ""},
		`k\=ey=v`:                {"k=ey": "v"},
		"":                       {},
	} {
		if got := parseContext(in); !maps.Equal(got, want) {
			t.Errorf("parseContext(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestValidPublicID(t *testing.T) {
	for id, want := range map[string]bool{
		"a": true, "folder/a.b": true, "../x": false, "/x": false, "x/": false, "a?b": false, "": false,
	} {
		if validPublicID(id) != want {
			t.Errorf("validPublicID(%q) = %v", id, !want)
		}
	}
}
