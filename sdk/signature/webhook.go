package signature

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
)

// Notification is Cloudinary's notification signature (X-Cld-Signature):
// the hex SHA-1 (or SHA-256) digest of body + timestamp + API secret, a
// plain hash, not an HMAC. The official SDKs' VerifyNotificationSignature
// checks it.
func Notification(body []byte, ts int64, secret string, sha256Alg bool) string {
	msg := append(append(append([]byte(nil), body...), strconv.FormatInt(ts, 10)...), secret...)
	if sha256Alg {
		s := sha256.Sum256(msg)
		return hex.EncodeToString(s[:])
	}
	s := sha1.Sum(msg)
	return hex.EncodeToString(s[:])
}

// StandardWebhook is the Standard Webhooks v1 signature (webhook-signature):
// "v1," + base64 HMAC-SHA256 of "id.timestamp.body", keyed with key.
func StandardWebhook(id string, ts int64, body []byte, key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
