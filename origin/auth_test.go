package origin

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Vectors from the wire reference §1.4 (secret abcdefghijklmnopqrstuvwxyz12).
func TestSignatureVectors(t *testing.T) {
	const secret = "abcdefghijklmnopqrstuvwxyz12"
	cases := []struct {
		params map[string][]string
		want   string
	}{
		{map[string][]string{"public_id": {"remote"}, "timestamp": {"1380000000"}, "api_key": {"k"}, "file": {"x"}},
			"86976275ff7c253f5bb00d06cf1f28621a5dc30e"},
		{map[string][]string{"command": {"add"}, "public_ids[0]": {"a"}, "public_ids[1]": {"b"}, "tag": {"t"}, "timestamp": {"1795749426"}},
			"f7dde7768824b2d968399bc402a31d7e0c757cc4"},
		{map[string][]string{"context": {"alt=x"}, "eager": {"c_fill,w_150,h_100|e_sepia,w_0.5,c_scale/png"},
			"eager_async": {"true"}, "eager_notification_url": {"http://hook/e"}, "notification_url": {"http://hook/u?a=1&b=2"},
			"public_id": {"sample"}, "tags": {"t1,t2"}, "timestamp": {"1380000000"}, "resource_type": {"image"}},
			"70f8abb66c7c5e221da356dc8740c60394aa30e4"},
	}
	for _, c := range cases {
		if got := Sign(StringToSign(c.params, 2), secret, false); got != c.want {
			t.Errorf("%v: %s, want %s", c.params, got, c.want)
		}
	}
}

func TestVerifyRequest(t *testing.T) {
	a := Account{Cloud: "demo", APIKey: "123", APISecret: "s3cret"}
	now := time.Unix(1_800_000_000, 0)
	signed := func(ts int64, sha256 bool, version int) url.Values {
		p := url.Values{"public_id": {"a&b"}, "timestamp": {itoa(ts)}, "api_key": {"123"}}
		p.Set("signature", Sign(StringToSign(p, version), a.APISecret, sha256))
		return p
	}
	for _, alg := range []bool{false, true} {
		for _, v := range []int{1, 2} {
			if err := VerifyRequest(a, signed(now.Unix(), alg, v), now); err != nil {
				t.Errorf("sha256=%v v%d: %v", alg, v, err)
			}
		}
	}
	p := signed(now.Unix(), false, 2)
	p.Set("public_id", "other")
	if err := VerifyRequest(a, p, now); err == nil || err.(*AuthError).Status != 401 {
		t.Errorf("tampered: %v", err)
	}
	stale := signed(now.Add(-2*time.Hour).Unix(), false, 2)
	if err := VerifyRequest(a, stale, now); err == nil || err.(*AuthError).Status != 400 ||
		!strings.HasPrefix(err.Error(), "Stale request") {
		t.Errorf("stale: %v", err)
	}
	wrongKey := signed(now.Unix(), false, 2)
	wrongKey.Set("api_key", "999")
	if err := VerifyRequest(a, wrongKey, now); err == nil || err.(*AuthError).Status != 401 {
		t.Errorf("unknown key: %v", err)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
