package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/cloudinary/cloudinary-go/v2"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
)

// CLIFigure is the bulk upload throughput of `edgepix upload DIR` at one
// concurrency.
type CLIFigure struct {
	Concurrency int
	Files       int
	Bytes       int64
	Took        time.Duration
}

// FilesPerSecond and MBPerSecond are the figure's throughput.
func (f CLIFigure) FilesPerSecond() float64 { return float64(f.Files) / f.Took.Seconds() }

// MBPerSecond is the throughput in megabytes (10^6) per second.
func (f CLIFigure) MBPerSecond() float64 { return float64(f.Bytes) / 1e6 / f.Took.Seconds() }

// MeasureCLI uploads the same folder of files (each fixture named copies
// times) with the real binary's `upload DIR` at each concurrency, against
// the real binary's `serve`, each run into a fresh asset folder; the
// baseline is the official Go SDK uploading the same files one after
// another in a loop. The first figure returned is the baseline.
func MeasureCLI(fixtureDir string, names []string, copies int, concs []int) ([]CLIFigure, error) {
	tmp, err := os.MkdirTemp("", "edgepix-cli-bench-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "src")
	os.MkdirAll(src, 0o755)
	var files []string
	var total int64
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(fixtureDir, n))
		if err != nil {
			return nil, err
		}
		for i := range copies {
			p := filepath.Join(src, fmt.Sprintf("%d-%s", i, n))
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return nil, err
			}
			files = append(files, p)
			total += int64(len(b))
		}
	}
	bin, err := BuildBinary(tmp)
	if err != nil {
		return nil, err
	}
	srv, err := StartBinary(bin)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	cloudURL := benchAccount.URL(srv.OriginURL)

	cld, err := cloudinary.NewFromURL(cloudURL)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	for _, p := range files {
		id := "sdk/" + filepath.Base(p[:len(p)-len(filepath.Ext(p))])
		if _, err := cld.Upload.Upload(context.Background(), p, uploader.UploadParams{PublicID: id}); err != nil {
			return nil, fmt.Errorf("SDK upload %s: %w", p, err)
		}
	}
	out := []CLIFigure{{Concurrency: 1, Files: len(files), Bytes: total, Took: time.Since(start)}}
	for _, c := range concs {
		cmd := exec.Command(bin, "upload", src, "-folder", fmt.Sprintf("cli%d", c), "-concurrency", fmt.Sprint(c), "-quiet")
		cmd.Env = append(os.Environ(), "CLOUDINARY_URL="+cloudURL)
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("edgepix upload -concurrency %d: %v\n%s", c, err, b)
		}
		out = append(out, CLIFigure{Concurrency: c, Files: len(files), Bytes: total, Took: time.Since(start)})
	}
	return out, nil
}
