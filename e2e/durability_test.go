package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudinary/cloudinary-go/v2"
	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/admin"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/internal/testport"
)

// buildBinary compiles cmd/edgepix once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..")
	bin := filepath.Join(t.TempDir(), "edgepix")
	cmd := exec.Command("go", "build", "-tags", "nodynamic", "-o", bin, "./cmd/edgepix")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr is a loopback address to start a server on, and to restart
// it on (see testport).
func freeAddr(t *testing.T) string { return testport.Addr(t) }

// startChild runs `edgepix serve` and waits until both servers answer.
func startChild(t *testing.T, bin, data, edgeAddr, originAddr string, extra ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--data", data, "--edge-addr", edgeAddr,
		"--origin-addr", originAddr, "--log-level", "warn"}, extra...)...)
	cmd.Env = append(os.Environ(), "CLOUDINARY_URL=cloudinary://"+testAccount.APIKey+":"+testAccount.APISecret+"@demo")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range []string{edgeAddr, originAddr} {
		for {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil && resp.StatusCode == 200 {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("edgepix serve did not come up on %s: %v", addr, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return cmd
}

func TestSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	edgeAddr, originAddr := freeAddr(t), freeAddr(t)
	child := startChild(t, bin, data, edgeAddr, originAddr)

	cld, err := cloudinary.NewFromURL(testAccount.URL("http://" + originAddr))
	if err != nil {
		t.Fatal(err)
	}
	cld.Config.URL.Secure = false
	cld.Config.URL.CName = edgeAddr
	res, err := cld.Upload.Upload(context.Background(), fixtures.Path(t, "photo-flower-1600x1203-progressive.jpg"),
		uploader.UploadParams{PublicID: "durable/flower"})
	if err != nil || res.Error.Message != "" {
		t.Fatalf("upload: %v %s", err, res.Error.Message)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()

	child = startChild(t, bin, data, edgeAddr, originAddr)
	defer func() {
		child.Process.Signal(syscall.SIGTERM)
		if err := child.Wait(); err != nil {
			t.Errorf("SIGTERM must shut down cleanly: %v", err)
		}
	}()
	img, _ := cld.Image("durable/flower")
	img.Transformation = "c_fill,w_100,h_100"
	u, _ := img.String()
	resp, body := get(t, u)
	if resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("after kill -9: %d %s", resp.StatusCode, resp.Header.Get("X-Cld-Error"))
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/jpeg") {
		t.Fatalf("content type %s", resp.Header.Get("Content-Type"))
	}
	list, err := cld.Admin.Assets(context.Background(), admin.AssetsParams{AssetType: api.Image, Prefix: "durable/"})
	if err != nil || len(list.Assets) != 1 || list.Assets[0].PublicID != "durable/flower" || list.Assets[0].Width != 1600 {
		t.Fatalf("listing after kill -9: %v %+v", err, list)
	}
}
