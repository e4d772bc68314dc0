package origin

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgepix/edgepix/sdk/signature"
)

func TestVerifyRequest(t *testing.T) {
	a := Account{Cloud: "demo", APIKey: "123", APISecret: "s3cret"}
	now := time.Unix(1_800_000_000, 0)
	signed := func(ts int64, sha256 bool, version int) url.Values {
		p := url.Values{"public_id": {"a&b"}, "timestamp": {itoa(ts)}, "api_key": {"123"}}
		p.Set("signature", signature.Sign(signature.StringToSign(p, version), a.APISecret, sha256))
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
	// A timestamp far ahead would make a request that never goes stale.
	future := signed(now.Add(2*time.Hour).Unix(), false, 2)
	if err := VerifyRequest(a, future, now); err == nil || err.(*AuthError).Status != 400 {
		t.Errorf("future timestamp accepted: %v", err)
	}
	if err := VerifyRequest(a, signed(now.Add(time.Minute).Unix(), false, 2), now); err != nil {
		t.Errorf("a minute of clock skew refused: %v", err)
	}
	// An account set to SHA-256 does not take the weaker SHA-1.
	a256 := a
	a256.SignatureAlgorithm = "sha256"
	if err := VerifyRequest(a256, signed(now.Unix(), false, 2), now); err == nil || err.(*AuthError).Status != 401 {
		t.Errorf("sha256 account accepted a SHA-1 signature: %v", err)
	}
	if err := VerifyRequest(a256, signed(now.Unix(), true, 2), now); err != nil {
		t.Errorf("sha256 account: %v", err)
	}
	wrongKey := signed(now.Unix(), false, 2)
	wrongKey.Set("api_key", "999")
	if err := VerifyRequest(a, wrongKey, now); err == nil || err.(*AuthError).Status != 401 {
		t.Errorf("unknown key: %v", err)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
