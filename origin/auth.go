package origin

import (
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/edgepix/edgepix/sdk/signature"
)

// maxRequestAge is how old a signed request's timestamp may be, and
// maxClockSkew how far in the future (a later one would make a request
// that never goes stale).
const (
	maxRequestAge = time.Hour
	maxClockSkew  = 5 * time.Minute
)

// AuthError is an authentication failure with its HTTP status.
type AuthError struct {
	Status int
	Msg    string
}

func (e *AuthError) Error() string { return e.Msg }

// VerifyRequest checks api_key, timestamp and signature of an upload-API
// request. Both signature versions are accepted; SHA-1 and SHA-256 (told
// apart by length), except that an account set to SHA-256 accepts only
// SHA-256.
func VerifyRequest(a Account, params map[string][]string, now time.Time) error {
	first := func(k string) string {
		if v := params[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if first("api_key") != a.APIKey {
		return &AuthError{401, "Unknown API key " + first("api_key")}
	}
	ts, err := strconv.ParseInt(first("timestamp"), 10, 64)
	if err != nil {
		return &AuthError{400, "Missing required parameter - timestamp"}
	}
	if t := time.Unix(ts, 0); now.Sub(t) > maxRequestAge {
		return &AuthError{400, fmt.Sprintf("Stale request - reported time is %s which is more than 1 hour ago",
			t.UTC().Format("2006-01-02 15:04:05 -0700"))}
	}
	if t := time.Unix(ts, 0); t.Sub(now) > maxClockSkew {
		return &AuthError{400, fmt.Sprintf("Invalid timestamp - reported time is %s which is more than %v ahead of the server's clock",
			t.UTC().Format("2006-01-02 15:04:05 -0700"), maxClockSkew)}
	}
	sig := strings.ToLower(first("signature"))
	if sig == "" {
		return &AuthError{400, "Missing required parameter - signature"}
	}
	long := len(sig) == 64
	if a.SignatureAlgorithm == "sha256" && !long {
		return &AuthError{401, "Invalid Signature " + sig + ". This account signs with SHA-256"}
	}
	for _, v := range []int{2, 1} {
		s := signature.StringToSign(params, v)
		if subtle.ConstantTimeCompare([]byte(signature.Sign(s, a.APISecret, long)), []byte(sig)) == 1 {
			return nil
		}
	}
	return &AuthError{401, fmt.Sprintf("Invalid Signature %s. String to sign - '%s'.", sig, signature.StringToSign(params, 2))}
}
