package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/edgepix/edgepix/sdk"
)

// cmdSync mirrors a local folder to an asset folder (push) or an asset
// folder to a local one (pull), moving only what differs by etag (MD5).
func cmdSync(c *sdk.Client, args []string) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	folder := fs.String("folder", "", "the asset folder")
	dry := fs.Bool("dry-run", false, "only say what would move")
	conc := fs.Int("concurrency", 4, "files moved at once")
	retries := fs.Int("retries", 5, "times a transient failure is retried")
	quiet := fs.Bool("quiet", false, "no progress, only the summary")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || (pos[0] != "push" && pos[0] != "pull") {
		return errors.New("usage: edgepix sync push|pull DIR -folder F [-dry-run]")
	}
	if strings.Trim(*folder, "/") == "" {
		return errors.New("sync needs -folder (the asset folder to mirror)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	remote, err := remoteEtags(ctx, c, *folder)
	if err != nil {
		return fmt.Errorf("listing the asset folder: %w", err)
	}
	dir := pos[1]
	if pos[0] == "push" {
		files, err := collect([]string{dir}, true, *folder)
		if err != nil {
			return err
		}
		if *dry {
			return dryRun("upload", files, remote)
		}
		start := time.Now()
		res := uploadAll(ctx, c, files, transferOptions{concurrency: *conc, retries: *retries, skip: remote, quiet: *quiet})
		return summarize("uploaded", res, time.Since(start), len(files))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var want []sdk.Resource
	var total int64
	for _, r := range remote {
		if r.Type == "upload" {
			want = append(want, r)
			total += r.Bytes
		}
	}
	prefix := strings.Trim(*folder, "/") + "/"
	if *dry {
		n := 0
		for _, r := range want {
			if p := localPath(dir, prefix, r); !sameFile(p, r.Etag) {
				fmt.Printf("would download %s to %s\n", r.PublicID, p)
				n++
			}
		}
		fmt.Fprintf(os.Stderr, "%d of %d assets would be downloaded\n", n, len(want))
		return nil
	}
	start := time.Now()
	res := downloadAll(ctx, c, dir, prefix, want, total, *conc, *quiet)
	return summarize("downloaded", res, time.Since(start), len(want))
}

// dryRun prints the files a push would upload.
func dryRun(verb string, files []localFile, remote map[string]sdk.Resource) error {
	n := 0
	for _, f := range files {
		if r, ok := remote[f.PublicID]; ok && sameFile(f.Path, r.Etag) {
			continue
		}
		fmt.Printf("would %s %s as %s\n", verb, f.Path, f.PublicID)
		n++
	}
	fmt.Fprintf(os.Stderr, "%d of %d files would be %sed\n", n, len(files), strings.TrimSuffix(verb, "e"))
	return nil
}

// sameFile says whether the file at p exists with this etag.
func sameFile(p, etag string) bool {
	sum, err := md5File(p)
	return err == nil && sum == etag
}

// localPath is where an asset goes: its path below the folder, with its
// format as extension for images.
func localPath(dir, prefix string, r sdk.Resource) string {
	rel := strings.TrimPrefix(r.PublicID, prefix)
	if r.ResourceType == "image" && r.Format != "" {
		rel += "." + r.Format
	}
	return filepath.Join(dir, filepath.FromSlash(path.Clean("/"+rel)))
}

// downloadAll fetches the originals that differ from the local files,
// through the delivery URL (the edge), each checked against its etag.
func downloadAll(ctx context.Context, c *sdk.Client, dir, prefix string, want []sdk.Resource, total int64, conc int, quiet bool) []outcome {
	m := newMeter("download", len(want), total, quiet)
	defer m.close()
	work := make(chan sdk.Resource)
	var mu sync.Mutex
	var out []outcome
	var wg sync.WaitGroup
	for range max(conc, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				o := downloadOne(ctx, c, localPath(dir, prefix, r), r, m)
				mu.Lock()
				out = append(out, o)
				mu.Unlock()
				m.finished(fmt.Sprintf("%s %s to %s %s", o.Status, o.PublicID, o.File, o.Error))
			}
		}()
	}
feed:
	for _, r := range want {
		select {
		case work <- r:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return out
}

func downloadOne(ctx context.Context, c *sdk.Client, dst string, r sdk.Resource, m *meter) outcome {
	start := time.Now()
	o := outcome{File: dst, PublicID: r.PublicID, Bytes: r.Bytes, Etag: r.Etag, Version: r.Version}
	if sameFile(dst, r.Etag) {
		m.add(r.Bytes)
		o.Status = "skipped"
		return o
	}
	err := func() error {
		format := ""
		if r.ResourceType == "image" {
			format = r.Format
		}
		u, err := c.URL(r.PublicID, sdk.URLOptions{ResourceType: r.ResourceType, Format: format, Version: r.Version})
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s answered %d %s", u, resp.StatusCode, resp.Header.Get("X-Cld-Error"))
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		tmp, err := os.CreateTemp(filepath.Dir(dst), ".edgepix-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		n, err := io.Copy(tmp, io.TeeReader(resp.Body, &runningTotal{report: m.fileProgress()}))
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if !sameFile(tmp.Name(), r.Etag) {
			return fmt.Errorf("the %d bytes received do not match the asset's etag %s", n, r.Etag)
		}
		return os.Rename(tmp.Name(), dst)
	}()
	o.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		o.Status, o.Error = "failed", err.Error()
		return o
	}
	o.Status = "downloaded"
	return o
}

// runningTotal reports the running total of bytes written to it.
type runningTotal struct {
	n      int64
	report func(int64)
}

func (r *runningTotal) Write(b []byte) (int, error) {
	r.n += int64(len(b))
	r.report(r.n)
	return len(b), nil
}
