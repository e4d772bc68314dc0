package grammar

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// SignURL returns the signature for the signed part of a delivery URL
// (§4.3): the first 8 characters of URL-safe base64 SHA-1 of part+secret, or
// 32 characters of SHA-256 when long is set.
func SignURL(part, secret string, long bool) string {
	if long {
		sum := sha256.Sum256([]byte(part + secret))
		return base64.URLEncoding.EncodeToString(sum[:])[:32]
	}
	sum := sha1.Sum([]byte(part + secret))
	return base64.URLEncoding.EncodeToString(sum[:])[:8]
}

// VerifySignature checks p's URL signature against secret, accepting both
// the short (SHA-1) and the long (SHA-256) form.
func (p *Path) VerifySignature(secret string) bool {
	if p.Signature == "" {
		return false
	}
	want := SignURL(p.SignedPart(), secret, len(p.Signature) == 32)
	return subtle.ConstantTimeCompare([]byte(want), []byte(p.Signature)) == 1
}
