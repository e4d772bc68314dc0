package origin

import (
	"bytes"
	"encoding/base64"
	"io"
	"maps"
	"mime/multipart"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/valyala/fasthttp"
)

func TestParseContextEscapes(t *testing.T) {
	for in, want := range map[string]map[string]string{
		"alt=a snake|caption=hi": {"alt": "a snake", "caption": "hi"},
		`eq=x\=y|pipe=a\|b`:      {"eq": "x=y", "pipe": "a|b"},
		"empty=|novalue":         {"empty": "", "novalue": ""},
		`k\=ey=v`:                {"k=ey": "v"},
		"":                       {},
	} {
		if got := parseContext(in); !maps.Equal(got, want) {
			t.Errorf("parseContext(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseCloudinaryURL(t *testing.T) {
	a, err := ParseCloudinaryURL("cloudinary://k:s@my-cloud?signature_algorithm=sha256&notification_url=http://h/n&fetch_domains=a.com,b.org&plugin_timeout_ms=500&plugin_cpu_ms=300")
	if err != nil || a.Cloud != "my-cloud" || a.SignatureAlgorithm != "sha256" || a.NotificationURL != "http://h/n" ||
		len(a.FetchDomains) != 2 || a.PluginLimits().Timeout.Milliseconds() != 500 ||
		a.PluginLimits().CPUTime.Milliseconds() != 300 {
		t.Fatalf("%+v %v", a, err)
	}
	for _, bad := range []string{"cloudinary://k:s@my.cloud", "cloudinary://k@c", "http://k:s@c", "cloudinary://:s@c"} {
		if _, err := ParseCloudinaryURL(bad); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}

// bodyCtx is a request whose body arrives as a stream, as the origin's
// server hands it over.
func bodyCtx(contentType string, body io.Reader) *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/v1_1/demo/image/upload?q=1")
	ctx.Request.Header.SetMethod("POST")
	ctx.Request.Header.SetContentType(contentType)
	ctx.Request.SetBodyStream(body, -1)
	return &ctx
}

// The streaming url-encoded reader agrees with url.ParseQuery, also when
// escapes are split across reads.
func TestReadURLEncodedMatchesParseQuery(t *testing.T) {
	for _, body := range []string{
		"", "a=1", "a=1&b=2&a=3", "a", "a&b=", "=x&&c=%41%2b+", "file=data%3Aimage%2Fpng%3Bbase64%2CAA%3D%3D&x=1",
		"file=http%3A%2F%2Fh%2Fa+b.jpg", "k%20ey=v%26al", "tags[]=a&tags[]=b",
	} {
		want, _ := url.ParseQuery(body)
		want.Add("q", "1")
		f, err := parseForm(bodyCtx("application/x-www-form-urlencoded", iotest.OneByteReader(strings.NewReader(body))), smallForm)
		if err != nil {
			t.Errorf("%q: %v", body, err)
			continue
		}
		if !reflect.DeepEqual(f.params, want) {
			t.Errorf("%q: %v, want %v", body, f.params, want)
		}
	}
	for _, bad := range []string{"a=%zz", "file=%4", "a;b=1"} {
		if _, err := parseForm(bodyCtx("", strings.NewReader(bad)), smallForm); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// spoolLimits spool to dir beyond spoolMemory, for files up to 4 MiB.
func spoolLimits(dir string) formLimits {
	return formLimits{body: 8 << 20, fields: 1 << 10, file: 4 << 20, dir: dir}
}

// Large file parameters, a file part or a data URI, wait on disk until
// load, and close removes them.
func TestSpooledFile(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	fw, _ := w.CreateFormFile("file", "big.bin")
	fw.Write(data)
	w.WriteField("public_id", "x")
	w.Close()
	uri := "data:application/octet-stream;base64," + base64.StdEncoding.EncodeToString(data)
	for name, ctx := range map[string]*fasthttp.RequestCtx{
		"multipart":   bodyCtx(w.FormDataContentType(), &mp),
		"url-encoded": bodyCtx("application/x-www-form-urlencoded", strings.NewReader("public_id=x&file="+url.QueryEscape(uri))),
	} {
		f, err := parseForm(ctx, spoolLimits(dir))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 || f.get("public_id") != "x" || f.get("file") != "" {
			t.Fatalf("%s: %d spool files, params %v", name, len(ents), f.params)
		}
		if err := f.load(); err != nil {
			t.Fatal(err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s: load left the spool file", name)
		}
		if got := string(f.file) + f.get("file"); got != string(data) && got != uri {
			t.Errorf("%s: loaded %d bytes, not the file", name, len(got))
		}
	}
	var small bytes.Buffer
	w = multipart.NewWriter(&small)
	fw, _ = w.CreateFormFile("file", "big.bin")
	fw.Write(data)
	w.Close()
	f, err := parseForm(bodyCtx(w.FormDataContentType(), &small), spoolLimits(dir))
	if err != nil {
		t.Fatal(err)
	}
	f.close() // refused before load
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Error("close left the spool file")
	}
}

// Each limit refuses with its status, and a refused body leaves no file.
func TestFormLimits(t *testing.T) {
	dir := t.TempDir()
	// multi writes the file part first: a later refusal must remove it.
	multi := func(file int, fields ...string) (string, io.Reader) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		if file > 0 {
			fw, _ := w.CreateFormFile("file", "f")
			fw.Write(make([]byte, file))
		}
		for _, v := range fields {
			w.WriteField("a", v)
		}
		w.Close()
		return w.FormDataContentType(), &b
	}
	type body struct {
		ct string
		r  io.Reader
	}
	form := func(s string) body { return body{"application/x-www-form-urlencoded", strings.NewReader(s)} }
	mp := func(ct string, r io.Reader) body { return body{ct, r} }
	for name, c := range map[string]struct {
		body   body
		status int
	}{
		"fields":           {form("a=" + strings.Repeat("x", 2<<10)), 413},
		"file":             {form("file=" + strings.Repeat("x", 5<<20)), 400},
		"body":             {body{"application/x-www-form-urlencoded", io.LimitReader(zeros{}, 9<<20)}, 413},
		"multipart fields": {mp(multi(1<<20, strings.Repeat("x", 2<<10))), 413},
		"multipart file":   {mp(multi(5 << 20)), 400},
		"multipart parts":  {mp(multi(1<<20, make([]string, maxParts)...)), 413},
		"encoding":         {form("a=1"), 415},
	} {
		ctx := bodyCtx(c.body.ct, c.body.r)
		if name == "encoding" {
			ctx.Request.Header.Set("Content-Encoding", "gzip")
		}
		if _, err := parseForm(ctx, spoolLimits(dir)); statusOf(err, 0) != c.status {
			t.Errorf("%s: %v, want %d", name, err, c.status)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("refused bodies left %d spool files", len(ents))
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
