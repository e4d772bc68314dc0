package edge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/metrics"
)

// Some cache faults kill the process (a panic in a Badger goroutine, a
// SIGBUS, Badger's own log.Fatal), so the cache runs in a child: the test
// binary again, running TestCacheChild with an action in the environment.

// childResult is what a child reports on its last line.
type childResult struct {
	Disk     bool    `json:"disk"`     // a disk tier is open and writable
	Hits     int     `json:"hits"`     // seeded entries served
	Corrupt  int     `json:"corrupt"`  // seeded entries served with a wrong body
	Works    bool    `json:"works"`    // a new entry is served after being put
	Faults   string  `json:"faults"`   // the fault metric, as text
	CloseErr string  `json:"closeErr"` // what close returned
	FreeMiB  float64 `json:"freeMiB"`  // free space after the writes (space tests)
	Skipped  string  `json:"skipped"`  // why the child could not run its action
}

const (
	seeded  = 120
	childMB = 64 << 20 // the children's disk bound
)

// seedBody is the body of seeded entry i: every tenth one goes to
// Badger's value log, the others inline in its tables.
func seedBody(i int) []byte {
	n := 40 << 10
	if i%10 == 0 {
		n = 300 << 10
	}
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i*7 + j%251)
	}
	return b
}

func seedKey(i int) string { return fmt.Sprintf("demo/image/upload/s%03d\x00k", i) }

func seed(c *cache, n int) {
	for i := range n {
		c.put(seedKey(i), newEntry("image/png", "", time.Time{}, seedBody(i)), c.generation())
		settle(c) // one at a time: the queue must not drop any
	}
}

// runChild runs action on dir in a child and returns its result; a child
// that dies fails the test with its output.
func runChild(t *testing.T, action, dir string, env ...string) childResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCacheChild$", "-test.v")
	cmd.Env = append(append(os.Environ(), "EDGEPIX_CACHE_CHILD="+action, "EDGEPIX_CACHE_DIR="+dir), env...)
	out, err := cmd.CombinedOutput()
	if os.Getenv("EDGEPIX_CHILD_LOG") != "" {
		t.Logf("%s", out)
	}
	i := bytes.LastIndex(out, []byte("RESULT "))
	var r childResult
	if err != nil || i < 0 {
		t.Fatalf("the child (%s) died: %v\n%s", action, err, tail(out))
	}
	line, _, _ := bytes.Cut(out[i+7:], []byte("\n"))
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatalf("child output: %v\n%s", err, tail(out))
	}
	return r
}

func tail(b []byte) []byte {
	if len(b) > 4000 {
		return b[:4000]
	}
	return b
}

// TestCacheChild is the child's side; it does nothing in a normal run.
func TestCacheChild(t *testing.T) {
	action, dir := os.Getenv("EDGEPIX_CACHE_CHILD"), os.Getenv("EDGEPIX_CACHE_DIR")
	if action == "" {
		t.Skip("run by the cache fault tests")
	}
	m := metrics.New()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	c := openCache(dir, 1<<20, childMB, m, log)
	var r childResult
	switch action {
	case "seed-and-crash": // a process killed with its memtable unflushed
		n := seeded
		if s := os.Getenv("EDGEPIX_CACHE_SEED"); s != "" {
			n, _ = strconv.Atoi(s)
		}
		seed(c, n)
		fmt.Println("RESULT {}")
		os.Exit(0)
	case "reopen":
		for i := range seeded {
			if e, ok := c.get(seedKey(i)); ok {
				r.Hits++
				if !bytes.Equal(e.body(), seedBody(i)) {
					r.Corrupt++
				}
			}
		}
	case "fill": // put until the disk tier stops (space tests)
		fill(c)
		free, _ := freeBytes(dir)
		r.FreeMiB = float64(free) / (1 << 20)
	case "folder-gone": // the cache folder is removed under a running edge
		seed(c, 10)
		os.RemoveAll(dir)
		fill(c)
	case "folder-unwritable": // no new file can be made in it
		seed(c, 10)
		os.RemoveAll(dir)
		os.WriteFile(dir, nil, 0o644) // the space guard's statfs still answers
		fill(c)
	case "folder-read-only": // an empty read-only folder mounted over it: only Badger's writes fail
		seed(c, 10)
		ro := t.TempDir()
		if out, err := exec.Command("mount", "--bind", ro, dir).CombinedOutput(); err != nil {
			fmt.Printf("RESULT {\"skipped\": %q}\n", fmt.Sprint(err, string(out)))
			return
		}
		defer exec.Command("umount", dir).Run()
		if out, err := exec.Command("mount", "-o", "remount,bind,ro", dir).CombinedOutput(); err != nil {
			fmt.Printf("RESULT {\"skipped\": %q}\n", fmt.Sprint(err, string(out)))
			return
		}
		fill(c)
	case "fill-by-another": // another writer fills the filesystem, then a delivery is cached
		seed(c, seeded)
		fillFS(t, filepath.Dir(dir))
	}
	big := bodyEntry(bytes.Repeat([]byte("new"), 200<<10)) // 600 KiB: disk only, past the memory tier
	c.put("new", big, c.generation())
	settle(c)
	small := bodyEntry([]byte("small"))
	c.put("small", small, c.generation())
	_, okBig := c.get("new")
	_, okSmall := c.get("small")
	r.Works = okSmall && (okBig || c.disk == nil || !c.disk.writable.Load())
	r.Disk = c.disk != nil && c.disk.writable.Load()
	r.Faults = faultsText(m)
	if err := c.close(time.Minute); err != nil {
		r.CloseErr = err.Error()
	}
	b, _ := json.Marshal(r)
	fmt.Printf("RESULT %s\n", b)
}

// fill puts distinct entries, inline in Badger's tables and in its value
// log in turn, until the disk tier stops taking them (or 600 went in).
func fill(c *cache) {
	for i := 0; i < 600 && c.disk != nil && c.disk.writable.Load(); i++ {
		size := 50 << 10
		if i%2 == 1 {
			size = 200 << 10
		}
		c.put(fmt.Sprintf("demo/image/upload/f%03d\x00k", i), bodyEntry(bytes.Repeat([]byte{byte(i)}, size)), c.generation())
		settle(c)
	}
}

// faultsText is the fault counter as "fault=n,…" (sorted by fault).
func faultsText(m *metrics.Metrics) string {
	mfs, _ := m.Registry.Gather()
	var parts []string
	for _, mf := range mfs {
		if mf.GetName() != "edgepix_edge_cache_faults_total" {
			continue
		}
		for _, c := range mf.GetMetric() {
			parts = append(parts, fmt.Sprintf("%s=%v", c.GetLabel()[0].GetValue(), c.GetCounter().GetValue()))
		}
	}
	return strings.Join(parts, ",")
}

// copyDir copies a closed (or crashed) cache directory.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// damage truncates or garbles one file.
func damage(t *testing.T, path, how string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch how {
	case "empty":
		b = nil
	case "tiny": // shorter than any header
		b = b[:min(len(b), 10)]
	case "half":
		b = b[:len(b)/2]
	case "tail": // a torn last write
		b = b[:len(b)-7]
	case "head": // its first 64 bytes flipped
		for i := 0; i < 64 && i < len(b); i++ {
			b[i] ^= 0x5a
		}
	case "garbled": // 64 bytes flipped a third of the way in
		for i := len(b) / 3; i < len(b)/3+64 && i < len(b); i++ {
			b[i] ^= 0x5a
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Issue 9 item 16: every kind of Badger file, truncated or garbled, in a
// directory the cache wrote itself: reopening never kills the process and
// never serves a damaged body, the cache works after, and a directory
// Badger cannot read consistently is moved aside for an empty one.
func TestCacheSurvivesDamagedFiles(t *testing.T) {
	base := t.TempDir()
	clean := filepath.Join(base, "clean")
	c := openCache(clean, 1<<20, childMB, metrics.New(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	seed(c, seeded)
	closeCache(t, c)
	crashed := filepath.Join(base, "crashed")
	runChild(t, "seed-and-crash", crashed)

	// What Badger cannot open, or only by dropping changes it cannot
	// account for, must be rebuilt. A torn value log or write-ahead log
	// tail is Badger's ordinary crash recovery, and a garbled table block
	// or value fails its checksum when read: a miss, never served.
	rebuild := map[string]bool{"sst/empty": true, "sst/tiny": true, "sst/half": true, "sst/tail": true,
		"MANIFEST": true, "KEYREGISTRY": true, "vlog/empty": true, "vlog/head": true,
		"mem/empty": true, "mem/head": true}
	kinds := map[string]string{"sst": clean, "vlog": clean, "MANIFEST": clean, "KEYREGISTRY": clean,
		"DISCARD": clean, "mem": crashed}
	cases := 0
	for kind, src := range kinds {
		var file string
		ents, _ := os.ReadDir(src)
		for _, e := range ents {
			if e.Name() == kind || strings.HasSuffix(e.Name(), "."+kind) {
				file = e.Name() // the first table, log or value log
				break
			}
		}
		if file == "" {
			t.Fatalf("the cache wrote no %s file in %s", kind, src)
		}
		for _, how := range []string{"empty", "tiny", "half", "tail", "head", "garbled"} {
			name := kind + "/" + how
			t.Run(name, func(t *testing.T) {
				dir := filepath.Join(base, kind+"-"+how, "cache")
				copyDir(t, src, dir)
				damage(t, filepath.Join(dir, file), how)
				r := runChild(t, "reopen", dir)
				if r.Corrupt > 0 {
					t.Errorf("%d damaged bodies served", r.Corrupt)
				}
				if !r.Works || !r.Disk || r.CloseErr != "" {
					t.Errorf("the cache does not work after reopening: %+v", r)
				}
				aside, _ := filepath.Glob(dir + ".corrupt-*")
				if rebuild[kind] || rebuild[name] {
					if len(aside) != 1 || r.Hits != 0 || !strings.Contains(r.Faults, "rebuilt=1") {
						t.Errorf("must be moved aside and rebuilt empty: aside %v, %+v", aside, r)
					}
				}
				t.Logf("%s %s: hits %d/%d, aside %d, faults %q", file, how, r.Hits, seeded, len(aside), r.Faults)
			})
			cases++
		}
	}
	if cases != 36 {
		t.Errorf("%d cases", cases)
	}
}
