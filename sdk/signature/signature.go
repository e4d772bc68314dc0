// Package signature computes Cloudinary's request signatures exactly as
// the official SDKs do (and as the edgepix origin verifies them): the
// string to sign from the parameters, then a SHA-1 or SHA-256 hex digest
// with the API secret appended. Standard library only.
package signature

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// excludedFromSignature are the parameters the SDKs leave out of the string
// to sign (§1.4).
var excludedFromSignature = map[string]bool{
	"file": true, "cloud_name": true, "resource_type": true, "api_key": true, "signature": true,
}

// ArrayKey matches an array parameter name: name[] or name[N].
var ArrayKey = regexp.MustCompile(`^(.*)\[(\d*)\]$`)

// ArrayOrder returns the parameter names sorted so that the elements of
// an array sent as name[0], name[1], ..., name[10] come in index order.
func ArrayOrder(params map[string][]string) []string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	index := func(k string) (string, int) {
		if m := ArrayKey.FindStringSubmatch(k); m != nil {
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
	for _, k := range ArrayOrder(params) {
		vs := params[k]
		name := k
		if m := ArrayKey.FindStringSubmatch(k); m != nil {
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
