package origin

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxRequestAge is how old a signed request's timestamp may be.
const maxRequestAge = time.Hour

// excludedFromSignature are the parameters the SDKs leave out of the string
// to sign (§1.4).
var excludedFromSignature = map[string]bool{
	"file": true, "cloud_name": true, "resource_type": true, "api_key": true, "signature": true,
}

var arrayKey = regexp.MustCompile(`^(.*)\[(\d*)\]$`)

// arrayOrder returns the parameter names sorted so that the elements of
// an array sent as name[0], name[1], ..., name[10] come in index order.
func arrayOrder(params map[string][]string) []string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	index := func(k string) (string, int) {
		if m := arrayKey.FindStringSubmatch(k); m != nil {
			n, _ := strconv.Atoi(m[2])
			return m[1], n
		}
		return k, -1
	}
	slices.SortFunc(keys, func(a, b string) int {
		na, ia := index(a)
		nb, ib := index(b)
		if c := strings.Compare(na, nb); c != 0 {
			return c
		}
		return ia - ib
	})
	return keys
}

// StringToSign builds the string the SDKs sign: parameters (arrays
// collapsed with ',', empty values dropped) sorted by key, joined with '&';
// version 2 escapes '&' inside values as %26.
func StringToSign(params map[string][]string, version int) string {
	collapsed := map[string]string{}
	var keys []string
	for _, k := range arrayOrder(params) {
		vs := params[k]
		name := k
		if m := arrayKey.FindStringSubmatch(k); m != nil {
			name = m[1]
		}
		if excludedFromSignature[name] {
			continue
		}
		v := strings.Join(vs, ",")
		if v == "" {
			continue
		}
		if _, seen := collapsed[name]; seen {
			collapsed[name] += "," + v
			continue
		}
		collapsed[name] = v
		keys = append(keys, name)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		p := k + "=" + collapsed[k]
		if version >= 2 {
			p = strings.ReplaceAll(p, "&", "%26")
		}
		parts[i] = p
	}
	return strings.Join(parts, "&")
}

// Sign hashes s+secret with SHA-1 or SHA-256 as lowercase hex.
func Sign(s, secret string, sha256Alg bool) string {
	if sha256Alg {
		sum := sha256.Sum256([]byte(s + secret))
		return hex.EncodeToString(sum[:])
	}
	sum := sha1.Sum([]byte(s + secret))
	return hex.EncodeToString(sum[:])
}

// AuthError is an authentication failure with its HTTP status.
type AuthError struct {
	Status int
	Msg    string
}

func (e *AuthError) Error() string { return e.Msg }

// VerifyRequest checks api_key, timestamp and signature of an upload-API
// request. Both signature versions and both algorithms (told apart by
// length) are accepted.
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
	sig := strings.ToLower(first("signature"))
	if sig == "" {
		return &AuthError{400, "Missing required parameter - signature"}
	}
	long := len(sig) == 64
	for _, v := range []int{2, 1} {
		s := StringToSign(params, v)
		if subtle.ConstantTimeCompare([]byte(Sign(s, a.APISecret, long)), []byte(sig)) == 1 {
			return nil
		}
	}
	return &AuthError{401, fmt.Sprintf("Invalid Signature %s. String to sign - '%s'.", sig, StringToSign(params, 2))}
}
