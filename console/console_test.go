package console

import (
	"testing"
	"time"
)

func TestPublicIDFor(t *testing.T) {
	for _, c := range []struct {
		folder, file string
		raw          bool
		want         string
	}{
		{"", "photo.jpg", false, "photo"},
		{"/shoot/", "photo.JPG", false, "shoot/photo"},
		{"shoot", "C:\\Users\\me\\a b?.png", false, "shoot/a b_"},
		{"", "duotone.wasm", true, "duotone.wasm"},
		{"x", "../../etc/passwd", false, "x/passwd"},
	} {
		if got := publicIDFor(c.folder, c.file, c.raw); got != c.want {
			t.Errorf("publicIDFor(%q, %q, %v) = %q, want %q", c.folder, c.file, c.raw, got, c.want)
		}
	}
}

func TestSafeNextAndExpression(t *testing.T) {
	for in, want := range map[string]string{"/console/asset?id=a": "/console/asset?id=a", "//evil.example/console/": "/console/library",
		"https://evil.example": "/console/library", "/console/\\evil": "/console/library", "": "/console/library"} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q", in, got)
		}
	}
	if got := searchExpression("a b", "cat", "width>10 OR x"); got != `folder="a b" AND tags=cat AND (width>10 OR x)` {
		t.Errorf("expression %s", got)
	}
}

func TestLimiterAndSessions(t *testing.T) {
	l := newLimiter(3, time.Hour)
	for range 3 {
		if l.blocked("1.2.3.4") {
			t.Fatal("blocked before its failures")
		}
		l.failed("1.2.3.4")
	}
	if !l.blocked("1.2.3.4") || l.blocked("5.6.7.8") {
		t.Error("the limit is not per address")
	}
	s := newSessions()
	s.idle = time.Millisecond
	x := s.create("demo")
	if s.get(x.id) != x || x.csrf == "" || x.csrf == x.id {
		t.Fatal("session")
	}
	time.Sleep(5 * time.Millisecond)
	if s.get(x.id) != nil {
		t.Error("an idle session lived on")
	}
}
