package sdk

import (
	"crypto/hmac"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgepix/edgepix/sdk/signature"
)

// ErrBadNotification is returned for a notification whose signature or
// timestamp does not check out.
var ErrBadNotification = errors.New("sdk: notification signature or timestamp is invalid")

// VerifyNotification checks a received notification's raw body against
// its headers: the Standard Webhooks signature (webhook-id,
// webhook-timestamp, webhook-signature) when present, else Cloudinary's
// X-Cld-Timestamp and X-Cld-Signature; the timestamp must be within
// tolerance of now (5 min when 0). Dedupe on the webhook-id header.
func (c *Client) VerifyNotification(h http.Header, body []byte, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = 5 * time.Minute
	}
	fresh := func(ts string) bool {
		n, err := strconv.ParseInt(ts, 10, 64)
		return err == nil && time.Since(time.Unix(n, 0)).Abs() <= tolerance
	}
	if id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"); sigs != "" {
		if !fresh(ts) {
			return ErrBadNotification
		}
		n, _ := strconv.ParseInt(ts, 10, 64)
		want := signature.StandardWebhook(id, n, body, []byte(c.APISecret))
		for _, s := range strings.Fields(sigs) {
			if hmac.Equal([]byte(s), []byte(want)) {
				return nil
			}
		}
		return ErrBadNotification
	}
	ts, sig := h.Get("X-Cld-Timestamp"), h.Get("X-Cld-Signature")
	if !fresh(ts) {
		return ErrBadNotification
	}
	n, _ := strconv.ParseInt(ts, 10, 64)
	want := signature.Notification(body, n, c.APISecret, len(sig) == 64)
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return ErrBadNotification
	}
	return nil
}
