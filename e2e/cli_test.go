package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/sdk"
)

// cliLine is one line of `edgepix upload -report`.
type cliLine struct {
	File, PublicID, Status, Error string
	Version                       int64
}

func readReport(t *testing.T, p string) []cliLine {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []cliLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct {
			File     string `json:"file"`
			PublicID string `json:"public_id"`
			Status   string `json:"status"`
			Error    string `json:"error"`
			Version  int64  `json:"version"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		out = append(out, cliLine{l.File, l.PublicID, l.Status, l.Error, l.Version})
	}
	return out
}

// goodFixtures copies n decodable images (some in a subfolder) into dir.
func goodFixtures(t *testing.T, dir string, n int) {
	t.Helper()
	entries, err := os.ReadDir(fixtures.Dir())
	if err != nil || fixtures.Dir() == "" {
		t.Skip("fixtures absent")
	}
	copied := 0
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if copied == n || (ext != ".jpg" && ext != ".png") || strings.HasPrefix(name, "bad-") || strings.HasPrefix(name, "bomb-") ||
			strings.HasPrefix(name, "misnamed-") {
			continue
		}
		to := filepath.Join(dir, name)
		if copied%3 == 0 {
			to = filepath.Join(dir, "sub", name)
		}
		os.MkdirAll(filepath.Dir(to), 0o755)
		b, _ := os.ReadFile(filepath.Join(fixtures.Dir(), name))
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
		copied++
	}
	if copied < n {
		t.Fatalf("only %d usable fixtures", copied)
	}
}

// TestCLIBulkUpload uploads a folder of 30 fixtures and one bad file with
// concurrency 4, interrupts it, and runs it again with -skip-existing:
// nothing is uploaded twice, the bad file is reported and the exit status
// says so.
func TestCLIBulkUpload(t *testing.T) {
	a, _ := start(t)
	bin := buildBinary(t)
	src, work := t.TempDir(), t.TempDir()
	goodFixtures(t, src, 30)
	bad, _ := os.ReadFile(fixtures.Path(t, "bad-text-file-named.jpg"))
	os.WriteFile(filepath.Join(src, "zz-bad.jpg"), bad, 0o644)
	env := append(os.Environ(), "CLOUDINARY_URL="+testAccount.URL(a.OriginURL), "EDGEPIX_DELIVERY_URL="+a.EdgeURL)
	upload := func(report string, extra ...string) (*exec.Cmd, *bytes.Buffer) {
		args := append([]string{"upload", src, "-r", "-folder", "bulk", "-concurrency", "4", "-report", report}, extra...)
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &out
	}

	// First run, interrupted once a few files are through.
	r1 := filepath.Join(work, "r1.jsonl")
	cmd, out := upload(r1)
	interrupted := false
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if b, _ := os.ReadFile(r1); bytes.Count(b, []byte("\n")) >= 4 {
			interrupted = cmd.Process.Signal(syscall.SIGINT) == nil
			break
		}
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Errorf("the interrupted run exited %v\n%s", err, out)
	}
	first := map[string]int64{}
	for _, l := range readReport(t, r1) {
		if l.Status == "uploaded" {
			first[l.PublicID] = l.Version
		}
	}
	t.Logf("interrupted (%v) after %d uploads", interrupted, len(first))
	if interrupted && len(first) >= 30 {
		t.Errorf("the interrupt did not stop the run:\n%s", out)
	}

	// Second run: what is there already is skipped, the rest uploaded, the bad file reported.
	r2 := filepath.Join(work, "r2.jsonl")
	cmd, out = upload(r2, "-skip-existing")
	err = cmd.Wait()
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("run with a bad file: exit %v, want 1\n%s", err, out)
	}
	lines := readReport(t, r2)
	counts := map[string]int{}
	for _, l := range lines {
		counts[l.Status]++
		if _, ok := first[l.PublicID]; ok && l.Status != "skipped" {
			t.Errorf("%s was uploaded in the first run and again (%s)", l.PublicID, l.Status)
		}
		if l.Status == "failed" && (l.PublicID != "bulk/zz-bad" || !strings.Contains(l.Error, "Invalid image")) {
			t.Errorf("failure reported: %+v", l)
		}
	}
	if len(lines) != 31 || counts["failed"] != 1 || counts["uploaded"]+counts["skipped"] != 30 || counts["skipped"] < len(first) {
		t.Errorf("second run: %d lines, %v\n%s", len(lines), counts, out)
	}
	if !strings.Contains(out.String(), "FAILED "+filepath.Join(src, "zz-bad.jpg")) {
		t.Errorf("the bad file is not listed at the end:\n%s", out)
	}

	// The assets of the first run still have their first version, and the
	// folder holds the 30 images with their relative paths.
	c := sdk.New(mustConfig(t, a.OriginURL, a.EdgeURL))
	var ids []string
	for cursor := ""; ; {
		page, err := c.Resources(bg, sdk.ListOptions{Prefix: "bulk/", MaxResults: 500, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Resources {
			ids = append(ids, r.PublicID)
			if v, ok := first[r.PublicID]; ok && v != r.Version {
				t.Errorf("%s: version %d, first run %d: uploaded twice", r.PublicID, r.Version, v)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(ids) != 30 || !slices.ContainsFunc(ids, func(id string) bool { return strings.HasPrefix(id, "bulk/sub/") }) {
		t.Errorf("assets: %d %v", len(ids), ids)
	}
}

func mustConfig(t *testing.T, api, edge string) sdk.Config {
	t.Helper()
	cfg, err := sdk.FromURL(testAccount.URL(api), edge)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCLISyncAndBatch: sync push then pull gives back the same bytes, a
// second push moves only the changed file; batch -wait returns when the
// batch is done; search and rm.
func TestCLISyncAndBatch(t *testing.T) {
	a, _ := start(t)
	bin := buildBinary(t)
	env := append(os.Environ(), "CLOUDINARY_URL="+testAccount.URL(a.OriginURL), "EDGEPIX_DELIVERY_URL="+a.EdgeURL)
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("edgepix %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	src, back := t.TempDir(), t.TempDir()
	goodFixtures(t, src, 4)
	run(true, "sync", "push", src, "-folder", "mirror")
	run(true, "sync", "pull", back, "-folder", "mirror")
	n := 0
	filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(back, rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: pulled back %d bytes (%v), pushed %d", rel, len(got), err, len(want))
		}
		n++
		return nil
	})
	if n != 4 {
		t.Errorf("%d files compared", n)
	}
	// Change one file: a dry run names it alone, a push uploads it alone.
	entries, _ := os.ReadDir(src)
	var changed string
	for _, e := range entries {
		if !e.IsDir() {
			changed = filepath.Join(src, e.Name())
			break
		}
	}
	other, _ := os.ReadFile(fixtures.Path(t, "interlaced-rgb-horse-200x200.png"))
	os.WriteFile(changed, other, 0o644)
	if out := run(true, "sync", "push", src, "-folder", "mirror", "-dry-run"); strings.Count(out, "would upload") != 1 ||
		!strings.Contains(out, changed) {
		t.Errorf("dry run:\n%s", out)
	}
	if out := run(true, "sync", "push", src, "-folder", "mirror"); !strings.Contains(out, "4 files: 1 uploaded, 3 unchanged") {
		t.Errorf("second push:\n%s", out)
	}

	// batch -wait: until the eager work of an upload is done.
	c := sdk.New(mustConfig(t, a.OriginURL, a.EdgeURL))
	res, err := c.Upload(bg, "image", fixtures.Path(t, "photo-storm-1920x1280.jpg"), url.Values{"public_id": {"waited"},
		"eager": {"c_scale,w_300|c_fill,w_100,h_100|e_sepia"}, "eager_async": {"true"}})
	if err != nil {
		t.Fatal(err)
	}
	id := res["eager"].([]any)[0].(map[string]any)["batch_id"].(string)
	var b sdk.BatchInfo
	out := run(true, "batch", id, "-wait", "-interval", "50ms")
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &b); err != nil ||
		b.Status != "complete" || b.Progress.Done != b.Progress.Total {
		t.Errorf("batch -wait: %v %+v", err, b)
	}

	// search and rm.
	if out := run(true, "search", "public_id=waited"); !strings.Contains(out, "waited") || strings.Contains(out, "mirror/") {
		t.Errorf("search:\n%s", out)
	}
	if out := run(true, "rm", "waited"); !strings.Contains(out, "waited\tdeleted") {
		t.Errorf("rm:\n%s", out)
	}
	if out := run(false, "rm", "waited"); !strings.Contains(out, "not_found") {
		t.Errorf("rm of a missing asset:\n%s", out)
	}
}
