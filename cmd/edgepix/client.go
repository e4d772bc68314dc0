package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/edgepix/edgepix/sdk"
)

// clientCommands are the commands that talk to a running edgepix.
var clientCommands = map[string]func(*sdk.Client, []string) error{
	"upload":    cmdUpload,
	"url":       cmdURL,
	"call":      cmdCall,
	"batch":     cmdBatch,
	"sync":      cmdSync,
	"search":    cmdSearch,
	"ls":        cmdLs,
	"rm":        cmdRm,
	"webhooks":  cmdWebhooks,
	"redeliver": cmdRedeliver,
}

const clientUsage = `client commands (CLOUDINARY_URL names the account and API; EDGEPIX_DELIVERY_URL the edge):
  upload FILE|URL [flags] [key=value ...]   upload one file and print the result
  upload DIR|FILES... [-r] [-folder F] [-concurrency N] [-tags T] [-eager TX] [-skip-existing] [-report FILE]
                                            upload many: a progress bar on a terminal, retries, a JSON-lines report
  sync push|pull DIR -folder F [-dry-run]   mirror a local folder to an asset folder, or back (what changed, by etag)
  search EXPR [-max N] [-json]              assets matching a search expression
  ls [-folder F] [-tag T] [-json]           list assets
  rm PUBLIC_ID... [-resource-type image]    delete assets
  url PUBLIC_ID [flags]                     print a delivery URL (canonical, optionally signed)
  call ACTION [key=value ...]               any signed Upload API action: destroy, rename, explicit,
                                            tags, context, sprite, multi, explode
  batch BATCH_ID [-wait]                    status of background work (-wait: a progress bar until it ends)
  webhooks [-failed]                        the webhook delivery log
  redeliver DELIVERY_ID                     send a webhook delivery again`

func runClient(name string, args []string) error {
	cfg, err := sdk.FromURL(os.Getenv("CLOUDINARY_URL"), env("delivery-url", ""))
	if err != nil {
		return err
	}
	return clientCommands[name](sdk.New(cfg), args)
}

// params turns key=value arguments into parameters.
func params(args []string) (url.Values, error) {
	v := url.Values{}
	for _, a := range args {
		k, val, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("expected key=value, got %q", a)
		}
		v.Add(k, val)
	}
	return v, nil
}

func printJSON(v any) error {
	e := json.NewEncoder(os.Stdout)
	e.SetIndent("", "  ")
	return e.Encode(v)
}

func cmdUpload(c *sdk.Client, args []string) error {
	fs := flag.NewFlagSet("upload", flag.ContinueOnError)
	rt := fs.String("resource-type", "auto", "image, raw or auto (one file)")
	id := fs.String("public-id", "", "public_id (one file)")
	tags := fs.String("tags", "", "comma-separated tags")
	eager := fs.String("eager", "", "eager transformations, |-separated")
	eagerAsync := fs.Bool("eager-async", false, "render eager transformations in the background")
	async := fs.Bool("async", false, "process the whole upload in the background")
	notify := fs.String("notification-url", "", "URL told when the work is done")
	recursive := fs.Bool("r", false, "many: walk directories recursively")
	folder := fs.String("folder", "", "many: the asset folder the files go to (their paths below it)")
	conc := fs.Int("concurrency", 4, "many: files uploaded at once")
	skip := fs.Bool("skip-existing", false, "many: skip files whose public_id already holds the same bytes (etag)")
	report := fs.String("report", "", "many: write one JSON line per file to this file")
	retries := fs.Int("retries", 5, "times a transient failure (429, 503, connection) is retried, with backoff")
	chunk := fs.Int64("chunk-size", sdk.DefaultChunkSize, "files larger than this go in parts of this size")
	quiet := fs.Bool("quiet", false, "many: no progress, only the summary")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	var paths, kv []string
	for _, a := range pos {
		if _, err := os.Stat(a); err != nil && strings.Contains(a, "=") && !isRemote(a) {
			kv = append(kv, a)
		} else {
			paths = append(paths, a)
		}
	}
	if len(paths) == 0 {
		return errors.New("usage: edgepix upload FILE|URL|DIR... [flags] [key=value ...]")
	}
	p, err := params(kv)
	if err != nil {
		return err
	}
	for k, v := range map[string]string{"public_id": *id, "tags": *tags, "eager": *eager, "notification_url": *notify} {
		if v != "" {
			p.Set(k, v)
		}
	}
	if *eagerAsync {
		p.Set("eager_async", "true")
	}
	if *async {
		p.Set("async", "true")
	}
	st, statErr := os.Stat(paths[0])
	many := len(paths) > 1 || (statErr == nil && st.IsDir()) || *folder != "" || *skip || *report != "" || *recursive
	if !many {
		var res map[string]any
		if isRemote(paths[0]) {
			res, err = c.Upload(context.Background(), *rt, paths[0], p)
		} else {
			res, err = c.UploadFile(context.Background(), *rt, paths[0], p, sdk.UploadOptions{ChunkSize: *chunk, Retries: *retries})
		}
		if err != nil {
			return err
		}
		return printJSON(res)
	}
	if *id != "" {
		return errors.New("-public-id names one file: with several, public_ids come from -folder and the file paths")
	}
	files, err := collect(paths, *recursive, *folder)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := transferOptions{concurrency: *conc, retries: *retries, chunkSize: *chunk, params: p, quiet: *quiet}
	if *skip {
		if o.skip, err = remoteEtags(ctx, c, *folder); err != nil {
			return fmt.Errorf("listing what is there already: %w", err)
		}
	}
	if *report != "" {
		f, err := os.Create(*report)
		if err != nil {
			return err
		}
		defer f.Close()
		o.report = f
	}
	start := time.Now()
	res := uploadAll(ctx, c, files, o)
	return summarize("uploaded", res, time.Since(start), len(files))
}

// isRemote says whether a file argument is a URL or data URI the API reads.
func isRemote(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "data:")
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments, which it returns.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func cmdURL(c *sdk.Client, args []string) error {
	fs := flag.NewFlagSet("url", flag.ContinueOnError)
	var o sdk.URLOptions
	fs.StringVar(&o.Transformation, "tx", "", "transformation, e.g. c_fill,w_300,h_200")
	fs.StringVar(&o.Format, "format", "", "extension")
	fs.StringVar(&o.ResourceType, "resource-type", "image", "image or raw")
	fs.StringVar(&o.Type, "type", "upload", "upload, private, authenticated, sprite, multi")
	fs.Int64Var(&o.Version, "version", 0, "version to put in the URL")
	fs.BoolVar(&o.Sign, "sign", false, "sign the URL (s--...--)")
	if len(args) == 0 {
		return errors.New("usage: edgepix url PUBLIC_ID [flags]")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	u, err := c.URL(args[0], o)
	if err != nil {
		return err
	}
	fmt.Println(u)
	return nil
}

func cmdCall(c *sdk.Client, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: edgepix call ACTION [resource_type=image] [key=value ...]")
	}
	p, err := params(args[1:])
	if err != nil {
		return err
	}
	rt := p.Get("resource_type")
	p.Del("resource_type")
	res, err := c.Call(context.Background(), rt, args[0], p)
	if err != nil {
		return err
	}
	return printJSON(res)
}

func cmdBatch(c *sdk.Client, args []string) error {
	fs := flag.NewFlagSet("batch", flag.ContinueOnError)
	wait := fs.Bool("wait", false, "wait until the batch ends, with a progress bar; fail if it failed")
	every := fs.Duration("interval", 500*time.Millisecond, "how often -wait asks")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: edgepix batch BATCH_ID [-wait]")
	}
	if !*wait {
		res, err := c.Batch(context.Background(), pos[0])
		if err != nil {
			return err
		}
		return printJSON(res)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var m *meter
	seen := 0
	b, err := c.WaitBatch(ctx, pos[0], *every, func(b *sdk.BatchInfo) {
		if m == nil {
			m = newMeter("batch", b.Progress.Total, int64(b.Progress.Total), false)
		}
		for ; seen < b.Progress.Done; seen++ {
			m.add(1)
			m.finished(fmt.Sprintf("%s: %d/%d done", b.Status, seen+1, b.Progress.Total))
		}
	})
	if m != nil {
		m.close()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "batch %s %s: %d/%d done\n", b.ID, b.Status, b.Progress.Done, b.Progress.Total)
	for _, e := range b.Errors {
		fmt.Fprintf(os.Stderr, "  error: %s\n", e)
	}
	if err := printJSON(b); err != nil {
		return err
	}
	if b.Status == "failed" {
		return fmt.Errorf("batch %s failed", b.ID)
	}
	return nil
}
