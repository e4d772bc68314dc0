package signature

import (
	"encoding/base64"
	"testing"
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

func TestSignatures(t *testing.T) {
	// sha1/sha256 of body + timestamp + secret, computed independently.
	if got := Notification([]byte(`{"a":1}`), 1368881627, "secret", false); got != "d0c4239a35adfa108aae9ea2c93f11feb799a326" {
		t.Errorf("SHA-1 signature %q", got)
	}
	if got := Notification([]byte(`{"a":1}`), 1368881627, "secret", true); got != "416f2cae034da3ce20cf25f62b6825dbfd2190323a0f7488e4d696985ee446e9" {
		t.Errorf("SHA-256 signature %q", got)
	}
	// The Standard Webhooks specification's published test vector.
	secret, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	got := StandardWebhook("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`), secret)
	if got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Errorf("Standard Webhooks vector: %s", got)
	}
}
