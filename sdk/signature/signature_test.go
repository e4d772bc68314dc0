package signature

import "testing"

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
