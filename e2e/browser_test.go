package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// newBrowser starts Debian's headless Chromium (installed by `make
// chromium`) with the flags this closed network needs, and returns a tab's
// context. Without Chromium the test is skipped, saying so loudly.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("SKIPPED: Debian's chromium is not installed (run `make chromium`): the console's browser test did not run")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// screenshot saves the page as NAME.png in the test's temp dir (and in
// $EDGEPIX_SCREENSHOTS when set), for a person to look at.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	var png []byte
	var err error
	// A page still being laid out (just after a navigation) has no size
	// yet: try again for a few seconds.
	for range 50 {
		if png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	if d := os.Getenv("EDGEPIX_SCREENSHOTS"); d != "" {
		os.WriteFile(filepath.Join(d, name+".png"), png, 0o644)
	}
}

// waitJS evaluates a JavaScript expression every 100 ms until it is true,
// for up to a minute; a page being replaced meanwhile (a navigation, a
// reload) is waited out.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	var last error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		last = err
	}
	page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 2000) : ""`))
	t.Fatalf("%s: not within a minute (%v)\npage:\n%s", what, last, page)
}
