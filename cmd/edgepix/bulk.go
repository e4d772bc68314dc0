package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/edgepix/edgepix/sdk"
)

// imageExts are the extensions uploaded as images (public_id without the
// extension); anything else is a raw file (public_id keeps it).
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true,
	".avif": true, ".pdf": true}

// localFile is one file to transfer.
type localFile struct {
	Path, Rel, PublicID, ResourceType string
	Size                              int64
}

// collect lists the files named (directories walked, recursively with
// -r), skipping hidden ones, each with its public_id under folder.
func collect(args []string, recursive bool, folder string) ([]localFile, error) {
	var out []localFile
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, newLocal(a, filepath.Base(a), st.Size(), folder))
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != a && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if p != a && !recursive {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(a, p)
			out = append(out, newLocal(p, filepath.ToSlash(rel), info.Size(), folder))
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func newLocal(p, rel string, size int64, folder string) localFile {
	f := localFile{Path: p, Rel: rel, Size: size, ResourceType: "raw"}
	id := rel
	if ext := strings.ToLower(path.Ext(rel)); imageExts[ext] {
		f.ResourceType, id = "image", strings.TrimSuffix(rel, path.Ext(rel))
	}
	f.PublicID = path.Join(strings.Trim(folder, "/"), id)
	return f
}

// md5File is a file's etag as the API computes it.
func md5File(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// remoteEtags lists the etags of a folder's assets (image and raw,
// type upload), by public_id.
func remoteEtags(ctx context.Context, c *sdk.Client, folder string) (map[string]sdk.Resource, error) {
	out := map[string]sdk.Resource{}
	prefix := strings.Trim(folder, "/")
	if prefix != "" {
		prefix += "/"
	}
	for _, rt := range []string{"image", "raw"} {
		cursor := ""
		for {
			page, err := c.Resources(ctx, sdk.ListOptions{ResourceType: rt, Type: "upload", Prefix: prefix, MaxResults: 500, Cursor: cursor})
			if err != nil {
				return nil, err
			}
			for _, r := range page.Resources {
				out[r.PublicID] = r
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
	}
	return out, nil
}

// outcome is one line of the JSON-lines report.
type outcome struct {
	File       string `json:"file"`
	PublicID   string `json:"public_id"`
	Status     string `json:"status"` // uploaded, skipped, failed
	Bytes      int64  `json:"bytes"`
	Etag       string `json:"etag,omitempty"`
	Version    int64  `json:"version,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// transferOptions set how many files move at once and how.
type transferOptions struct {
	concurrency int
	retries     int
	chunkSize   int64
	params      url.Values // added to every upload
	skip        map[string]sdk.Resource
	report      io.Writer
	quiet       bool
}

// uploadAll uploads the files with o.concurrency workers, skipping those
// whose public_id already holds the same bytes (o.skip), and returns one
// outcome per file (in the order they finished). It stops taking files
// when ctx ends.
func uploadAll(ctx context.Context, c *sdk.Client, files []localFile, o transferOptions) []outcome {
	var total int64
	for _, f := range files {
		total += f.Size
	}
	m := newMeter("upload", len(files), total, o.quiet)
	defer m.close()
	work := make(chan localFile)
	var mu sync.Mutex
	var out []outcome
	enc := json.NewEncoder(io.Discard)
	if o.report != nil {
		enc = json.NewEncoder(o.report)
	}
	record := func(r outcome) {
		mu.Lock()
		out = append(out, r)
		enc.Encode(r)
		mu.Unlock()
		line := fmt.Sprintf("%s %s as %s", r.Status, r.File, r.PublicID)
		if r.Error != "" {
			line += ": " + r.Error
		}
		m.finished(line)
	}
	var wg sync.WaitGroup
	for range max(o.concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				record(uploadOne(ctx, c, f, o, m))
			}
		}()
	}
feed:
	for _, f := range files {
		select {
		case work <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return out
}

func uploadOne(ctx context.Context, c *sdk.Client, f localFile, o transferOptions, m *meter) outcome {
	start := time.Now()
	r := outcome{File: f.Path, PublicID: f.PublicID, Bytes: f.Size}
	if prev, ok := o.skip[f.PublicID]; ok {
		sum, err := md5File(f.Path)
		if err == nil && sum == prev.Etag {
			m.add(f.Size)
			r.Status, r.Etag, r.Version = "skipped", sum, prev.Version
			return r
		}
	}
	p := cloneParams(o.params)
	p.Set("public_id", f.PublicID)
	res, err := c.UploadFile(ctx, f.ResourceType, f.Path, p, sdk.UploadOptions{ChunkSize: o.chunkSize,
		Retries: o.retries, Progress: m.fileProgress()})
	r.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		r.Status, r.Error = "failed", err.Error()
		var ae *sdk.APIError
		if errors.As(err, &ae) && ae.Message != "" {
			r.Error = fmt.Sprintf("%s (HTTP %d)", ae.Message, ae.Status)
		}
		return r
	}
	r.Status = "uploaded"
	r.Etag, _ = res["etag"].(string)
	if v, ok := res["version"].(float64); ok {
		r.Version = int64(v)
	}
	return r
}

func cloneParams(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// summarize prints the totals, and every failure, to stderr; it returns
// an error when something failed.
func summarize(verb string, res []outcome, took time.Duration, want int) error {
	var up, skipped int
	var bytes int64
	var failed []outcome
	for _, r := range res {
		switch r.Status {
		case "uploaded", "downloaded":
			up++
			bytes += r.Bytes
		case "skipped":
			skipped++
		default:
			failed = append(failed, r)
		}
	}
	secs := max(took.Seconds(), 1e-3)
	fmt.Fprintf(os.Stderr, "%d files: %d %s, %d unchanged (skipped), %d failed; %.1f MB in %s (%.1f files/s, %.2f MB/s)\n",
		want, up, verb, skipped, len(failed), float64(bytes)/1e6, took.Round(time.Millisecond), float64(up)/secs, float64(bytes)/1e6/secs)
	for _, f := range failed {
		fmt.Fprintf(os.Stderr, "  FAILED %s: %s\n", f.File, f.Error)
	}
	if n := want - len(res); n > 0 {
		fmt.Fprintf(os.Stderr, "  %d files not attempted (interrupted)\n", n)
	}
	if len(failed) > 0 || len(res) < want {
		return fmt.Errorf("%d of %d files failed or were not attempted", len(failed)+want-len(res), want)
	}
	return nil
}
