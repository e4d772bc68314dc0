package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/edgepix/edgepix/internal/fixtures"
)

// TestNodeSDK runs e2e/node/sdk.mjs: the official Cloudinary Node SDK
// (version pinned in e2e/node/package-lock.json) uploading, building and
// signing URLs, using the Admin API and verifying notifications against a
// running edgepix. npm installs the SDK on first use.
func TestNodeSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Node.js")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("Node.js is not installed: the Node SDK check needs node and npm")
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "cloudinary")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	fixtures.Path(t, "photo-snake-600x450-grayscale.jpg") // skips without the fixtures
	a, _ := start(t)
	cmd := exec.Command("node", "sdk.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CLOUDINARY_URL="+testAccount.URL(a.OriginURL),
		"EDGE_HOST="+strings.TrimPrefix(a.EdgeURL, "http://"), "FIXTURES="+fixtures.Dir())
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("Node SDK: %v", err)
	}
}
