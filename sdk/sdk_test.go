package sdk

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/edgepix/edgepix/sdk/signature"
)

func TestFromURLAndURL(t *testing.T) {
	c, err := FromURL("cloudinary://k:abcdefghijklmnopqrstuvwxyz12@demo?upload_prefix=http://api:8081", "")
	if err != nil || c.APIBase != "http://api:8081" || c.DeliveryBase != "http://127.0.0.1:8080" || c.Cloud != "demo" {
		t.Fatalf("%+v %v", c, err)
	}
	cl := New(c)
	// The SDKs' vector (§4.3): c_fill,h_100,w_150/sample.jpg → s--EfExssaP--;
	// the version is not signed.
	u, err := cl.URL("sample", URLOptions{Transformation: "w_150,h_100,c_fill", Format: "jpg", Version: 12, Sign: true})
	if err != nil {
		t.Fatal(err)
	}
	want := "http://127.0.0.1:8080/demo/image/upload/s--EfExssaP--/c_fill,h_100,w_150/v12/sample.jpg"
	if u != want {
		t.Errorf("URL %s, want %s", u, want)
	}
	if _, err := FromURL("https://x", ""); err == nil {
		t.Error("a non-cloudinary URL was accepted")
	}
}

func TestVerifyNotification(t *testing.T) {
	cl := New(Config{APISecret: "s3cret"})
	body := []byte(`{"notification_type":"upload"}`)
	now := time.Now().Unix()
	ts := strconv.FormatInt(now, 10)
	h := http.Header{}
	h.Set("X-Cld-Timestamp", ts)
	h.Set("X-Cld-Signature", signature.Notification(body, now, "s3cret", false))
	if err := cl.VerifyNotification(h, body, 0); err != nil {
		t.Errorf("X-Cld: %v", err)
	}
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", "v1,bogus "+signature.StandardWebhook("msg_1", now, body, []byte("s3cret")))
	if err := cl.VerifyNotification(h, body, 0); err != nil {
		t.Errorf("Standard Webhooks (second of two signatures): %v", err)
	}
	if err := cl.VerifyNotification(h, append(body, '!'), 0); err == nil {
		t.Error("a changed body verified")
	}
	old := strconv.FormatInt(now-3600, 10)
	h.Set("webhook-timestamp", old)
	h.Set("webhook-signature", signature.StandardWebhook("msg_1", now-3600, body, []byte("s3cret")))
	if err := cl.VerifyNotification(h, body, time.Minute); err == nil {
		t.Error("an hour-old notification verified with a one-minute tolerance")
	}
}
