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

func TestParseCloudinaryURL(t *testing.T) {
	a, err := ParseCloudinaryURL("cloudinary://k:s@my-cloud?signature_algorithm=sha256&notification_url=http://h/n&fetch_domains=a.com,b.org&plugin_timeout_ms=500")
	if err != nil || a.Cloud != "my-cloud" || a.SignatureAlgorithm != "sha256" || a.NotificationURL != "http://h/n" ||
		len(a.FetchDomains) != 2 || a.PluginLimits().Timeout.Milliseconds() != 500 {
		t.Fatalf("%+v %v", a, err)
	}
	for _, bad := range []string{"cloudinary://k:s@my.cloud", "cloudinary://k@c", "http://k:s@c", "cloudinary://:s@c"} {
		if _, err := ParseCloudinaryURL(bad); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}
