package e2e

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudinary/cloudinary-go/v2/api/admin"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
)

// filler is n bytes generated as they are read: a body the test never
// holds in memory.
type filler struct{ n int64 }

func (f *filler) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), f.n)]
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	f.n -= int64(len(p))
	return len(p), nil
}

// hostileUpload posts size bytes as the file part, before the (wrong)
// signature fields, so the origin has to get through the whole file before
// it can refuse; chunked is sent without a Content-Length.
func hostileUpload(client *http.Client, url string, size int64, chunked bool) (int, error) {
	const boundary = "hostileboundary"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jpg\"\r\n" +
		"Content-Type: image/jpeg\r\n\r\n"
	tail := ""
	for k, v := range map[string]string{"api_key": testAccount.APIKey, "timestamp": fmt.Sprint(time.Now().Unix()),
		"signature": strings.Repeat("0", 40)} {
		tail += "\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v
	}
	tail += "\r\n--" + boundary + "--\r\n"
	body := io.MultiReader(strings.NewReader(head), &filler{n: size}, strings.NewReader(tail))
	req, err := http.NewRequest("POST", url, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	if !chunked {
		req.ContentLength = int64(len(head)) + size + int64(len(tail))
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// heapPeak samples the heap in use until stop is closed, and returns the
// peak above what was in use when it started.
func heapPeak(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	go func() {
		var peak uint64
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				out <- peak - min(peak, base)
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// peakRSS is the process's peak resident set (VmHWM), for the log.
func peakRSS() string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return "peak RSS " + strings.TrimSpace(v)
		}
	}
	return "peak RSS unknown"
}

// openIn counts this process's file descriptors open on files in dir.
// declared sends the headers of a request declaring a body of size bytes
// and its first 8 KiB (what the server reads ahead before a handler sees
// the request), and returns the status of the answer, which must come
// before any more of the body is sent. (A client writing the whole body
// races the server's close: it may see a reset instead of the 413.)
func declared(t *testing.T, base, path, ct string, size int64) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\nAuthorization: Basic %s\r\n\r\n",
		path, ct, size, base64.StdEncoding.EncodeToString([]byte(testAccount.APIKey+":"+testAccount.APISecret)))
	io.CopyN(conn, &filler{n: 8 << 10}, 8<<10)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Errorf("%s: no answer before the body: %v", path, err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func openIn(t *testing.T, dir string) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	n := 0
	for _, e := range ents {
		if p, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(p, dir+"/") {
			n++
		}
	}
	return n
}

// TestHostileUploadBodies: 16 unauthenticated 100 MB posts at once keep
// the heap small (bodies are streamed, files spooled to disk until the
// signature is checked), a signed upload made meanwhile succeeds, and no
// spool file or descriptor is left, also after a client gives up mid-body.
func TestHostileUploadBodies(t *testing.T) {
	var dataDir string
	a, cld := start(t, func(c *app.Config) { dataDir = c.DataDir }) // default limits: 100 MiB uploads
	spoolDir := filepath.Join(dataDir, "tmp")
	url := a.OriginURL + "/v1_1/demo/image/upload"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	defer client.CloseIdleConnections()

	stop := make(chan struct{})
	peak := heapPeak(stop)
	var wg sync.WaitGroup
	var refused atomic.Int32
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, err := hostileUpload(client, url, 100<<20, i%2 == 1)
			if err != nil {
				t.Errorf("hostile upload %d: %v", i, err)
			} else if code == 401 {
				refused.Add(1)
			} else {
				t.Errorf("hostile upload %d: %d, want 401", i, code)
			}
		}()
	}
	res := upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploader.UploadParams{PublicID: "meanwhile"})
	if res.PublicID != "meanwhile" || res.Width != 600 {
		t.Errorf("signed upload during the hostile ones: %+v", res)
	}
	wg.Wait()
	close(stop)
	grown := <-peak
	t.Logf("16 × 100 MB unauthenticated posts: %d refused, heap in use peaked %.1f MiB above the start (process %s)",
		refused.Load(), float64(grown)/(1<<20), peakRSS())
	if grown > 256<<20 {
		t.Errorf("heap grew by %d MiB: bodies are buffered", grown>>20)
	}

	// A client that stops mid-body leaves nothing behind either.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n"))
		io.CopyN(pw, &filler{n: 10 << 20}, 10<<20)
		pw.CloseWithError(io.ErrUnexpectedEOF)
	}()
	req, _ := http.NewRequest("POST", url, pr)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}
	eventually(t, "spool files and descriptors are released", func() bool {
		ents, _ := os.ReadDir(spoolDir)
		return len(ents) == 0 && openIn(t, spoolDir) == 0
	})
}

// TestBodyLimits: bodies other than uploads are read up to 2 MiB (413
// beyond, chunked or not), an upload declaring more than the upload limit
// is refused before it is read, one found larger as it is read is refused
// then, and ordinary Admin and Upload API calls keep working.
func TestBodyLimits(t *testing.T) {
	a, cld := start(t, func(c *app.Config) { c.MaxUploadBytes = 1 << 20 })
	post := func(path, ct string, body io.Reader, size int64) int {
		req, _ := http.NewRequest("POST", a.OriginURL+path, body)
		req.Header.Set("Content-Type", ct)
		req.SetBasicAuth(testAccount.APIKey, testAccount.APISecret)
		req.ContentLength = size
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	big := func() io.Reader { return io.MultiReader(strings.NewReader(`{"public_ids":["`), &filler{n: 3 << 20}) }
	for name, code := range map[string]int{
		"admin JSON":         post("/v1_1/demo/resources/image/upload", "application/json", big(), -1),
		"destroy":            declared(t, a.OriginURL, "/v1_1/demo/image/destroy", "application/x-www-form-urlencoded", 3<<20),
		"declared too large": declared(t, a.OriginURL, "/v1_1/demo/image/upload", "multipart/form-data; boundary=b", 8<<20),
		// A client writing the whole body reads the 413, not a reset.
		"destroy, whole body": post("/v1_1/demo/image/destroy", "application/x-www-form-urlencoded", &filler{n: 3 << 20}, 3<<20),
		"upload, whole body":  post("/v1_1/demo/image/upload", "multipart/form-data; boundary=b", &filler{n: 8 << 20}, 8<<20),
	} {
		if code != 413 {
			t.Errorf("%s: %d, want 413", name, code)
		}
	}
	// Refused mid-body, an upload tells the client its connection closes:
	// the SDK's next request, on a new connection, succeeds.
	if res, err := cld.Upload.Upload(bg, fixtures.Path(t, "photo-nuthatch-6028x3391.jpg"), uploader.UploadParams{}); err != nil ||
		!strings.Contains(res.Error.Message, "File size too large") {
		t.Errorf("oversized upload: %+v %v", res, err)
	}
	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploader.UploadParams{PublicID: "small"})
	if res, err := cld.Admin.Asset(bg, admin.AssetParams{PublicID: "small"}); err != nil || res.PublicID != "small" {
		t.Errorf("admin call after the refusals: %+v %v", res, err)
	}
	if res, err := cld.Upload.Destroy(bg, uploader.DestroyParams{PublicID: "small"}); err != nil || res.Result != "ok" {
		t.Errorf("destroy after the refusals: %+v %v", res, err)
	}
}
