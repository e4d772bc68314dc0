// Command peers measures edgepix next to the peers of issue 12 on
// loopback, in one run, and prints markdown tables with the ratios: the
// hit path against nginx serving the same bytes (a small and a large
// image, wrk at 8, 32 and 64 connections), the miss path against libvips'
// vipsthumbnail on the same files and sizes (and against imgproxy over
// HTTP when IMGPROXY_BIN names one), and edgepix's resident memory after
// a fill of unique results. Every figure is the median of interleaved
// repeats. bench/peers.sh installs the peers and runs it (make
// bench-peers); see bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cloudinary/cloudinary-go/v2"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/origin"
	"github.com/valyala/fasthttp"
)

var account = origin.Account{Cloud: "bench", APIKey: "111111111111111", APISecret: "bench-secret"}

type options struct {
	bin, edgepixArgs, only      string
	reps, vipsN                 int
	hitDur, missDur, fillDur    time.Duration
	skipHit, skipMiss, skipFill bool
	hitConns, missConns         []int
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/edgepix", "the edgepix binary")
	flag.StringVar(&o.edgepixArgs, "edgepix-args", "", "more arguments for `edgepix serve`, space-separated")
	flag.StringVar(&o.only, "only", "", "run only the miss scenarios whose name contains this")
	flag.IntVar(&o.reps, "reps", 3, "interleaved repeats of every run (the tables give medians)")
	flag.IntVar(&o.vipsN, "vips-n", 5, "vipsthumbnail runs per figure")
	flag.DurationVar(&o.hitDur, "hit-dur", 5*time.Second, "length of a hit-path run")
	flag.DurationVar(&o.missDur, "miss-dur", 8*time.Second, "length of a miss-path run")
	flag.DurationVar(&o.fillDur, "fill-dur", 40*time.Second, "length of the fill of unique results before the memory figures")
	flag.BoolVar(&o.skipHit, "skip-hit", false, "no hit-path table")
	flag.BoolVar(&o.skipMiss, "skip-miss", false, "no miss-path table")
	flag.BoolVar(&o.skipFill, "skip-fill", false, "no fill before the memory figures")
	flag.Parse()
	o.hitConns, o.missConns = []int{8, 32, 64}, []int{2, 4, 8}
	if err := runAll(o); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

// env is what every measurement uses.
type env struct {
	o        options
	tmp      string
	fixtures string
	edge     string // edgepix serve's delivery base URL
	edgepix  *server
	// lone is `edgepix edge` on its own, asking edgepix serve's origin:
	// the hit path and the memory figures are its.
	lone     *server
	loneURL  string
	imgproxy *server // nil without IMGPROXY_BIN
	proxyURL string
	origin   string // edgepix serve's origin URL
	w        wrk
	offset   int // the next unique URL number
}

func runAll(o options) error {
	fx := fixtures.Dir()
	if fx == "" {
		return fmt.Errorf("the fixtures (../shared/fixtures) are absent")
	}
	tmp, err := os.MkdirTemp("", "edgepix-peers-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	os.Chmod(tmp, 0o755) // nginx's workers run as another user
	e := &env{o: o, tmp: tmp, fixtures: fx, w: wrk{dir: tmp, threads: 2}}
	// Closures: the servers start below (a deferred e.edgepix.stop() would
	// take the nil server of now, and leave the processes running).
	defer func() { e.edgepix.stop() }()
	defer func() { e.lone.stop() }()
	defer func() { e.imgproxy.stop() }()
	if err := e.startEdgepix(); err != nil {
		return err
	}
	if err := e.startEdge(); err != nil {
		return err
	}
	if bin := os.Getenv("IMGPROXY_BIN"); bin != "" {
		if err := e.startImgproxy(bin); err != nil {
			return err
		}
	}
	fmt.Printf("edgepix %s; %s; wrk, %d repeats, medians; %s\n\n", o.bin, time.Now().UTC().Format(time.DateTime), o.reps, loadavg())
	if !o.skipHit {
		if err := e.hitTable(); err != nil {
			return err
		}
	}
	if !o.skipMiss {
		if err := e.missTable(); err != nil {
			return err
		}
	}
	return e.memoryTable()
}

// startEdgepix runs `edgepix serve` on two loopback ports, with the
// default log level, and uploads the fixtures the scenarios use.
func (e *env) startEdgepix() error {
	edgeAddr, err := freePort()
	if err != nil {
		return err
	}
	originAddr, err := freePort()
	if err != nil {
		return err
	}
	args := []string{"serve", "--data", filepath.Join(e.tmp, "data"), "--edge-addr", edgeAddr, "--origin-addr", originAddr}
	args = append(args, strings.Fields(e.o.edgepixArgs)...)
	originURL := "http://" + originAddr
	e.origin = originURL
	env := []string{"CLOUDINARY_URL=" + account.URL(originURL)}
	if e.edgepix, err = start(e.tmp, "edgepix", env, e.o.bin, args...); err != nil {
		return err
	}
	e.edge = "http://" + edgeAddr
	if err := waitHTTP(e.edge+"/healthz", time.Minute); err != nil {
		return err
	}
	cld, err := cloudinary.NewFromURL(account.URL(originURL))
	if err != nil {
		return err
	}
	files := []string{"photo-snake-600x450-grayscale.jpg"} // the memory fill's small renders
	for _, s := range scenarios {
		if !slices.Contains(files, s.file) {
			files = append(files, s.file)
		}
	}
	for _, f := range files {
		path := filepath.Join(e.fixtures, f)
		if strings.HasPrefix(f, "generated-") { // a PNG of a photo: libvips writes it from the JPEG
			path = filepath.Join(e.tmp, f)
			if out, err := exec.Command("vips", "copy", filepath.Join(e.fixtures, "photo-storm-1920x1280.jpg"), path).CombinedOutput(); err != nil {
				return fmt.Errorf("vips copy: %v: %s", err, out)
			}
		}
		res, err := cld.Upload.Upload(context.Background(), path, uploader.UploadParams{PublicID: publicID(f)})
		if err != nil {
			return fmt.Errorf("upload %s: %w", f, err)
		}
		if res.Error.Message != "" {
			return fmt.Errorf("upload %s: %s", f, res.Error.Message)
		}
	}
	return nil
}

// startEdge runs `edgepix edge` against edgepix serve's origin.
func (e *env) startEdge() error {
	addr, err := freePort()
	if err != nil {
		return err
	}
	token, err := os.ReadFile(filepath.Join(e.tmp, "data", "derive-token"))
	if err != nil {
		return err
	}
	args := []string{"edge", "--data", filepath.Join(e.tmp, "edge"), "--edge-addr", addr, "--origin", e.origin,
		"--derive-token", string(token)}
	args = append(args, strings.Fields(e.o.edgepixArgs)...)
	if e.lone, err = start(e.tmp, "edge", []string{"CLOUDINARY_URL=" + account.URL(e.origin)}, e.o.bin, args...); err != nil {
		return err
	}
	e.loneURL = "http://" + addr
	return waitHTTP(e.loneURL+"/healthz", time.Minute)
}

func publicID(file string) string { return strings.TrimSuffix(file, filepath.Ext(file)) }

// startImgproxy runs imgproxy on a loopback port over the fixtures.
func (e *env) startImgproxy(bin string) error {
	addr, err := freePort()
	if err != nil {
		return err
	}
	root := filepath.Join(e.tmp, "imgproxy-root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	for _, s := range scenarios {
		src := filepath.Join(e.fixtures, s.file)
		if strings.HasPrefix(s.file, "generated-") {
			src = filepath.Join(e.tmp, s.file)
		}
		os.Symlink(src, filepath.Join(root, s.file))
	}
	env := []string{"IMGPROXY_BIND=" + addr, "IMGPROXY_LOCAL_FILESYSTEM_ROOT=" + root, "IMGPROXY_MAX_SRC_RESOLUTION=100"}
	if e.imgproxy, err = start(e.tmp, "imgproxy", env, bin); err != nil {
		return err
	}
	e.proxyURL = "http://" + addr
	return waitHTTP(e.proxyURL+"/health", time.Minute)
}

// get fetches url and fails on anything but 200.
func get(url string) ([]byte, error) {
	status, body, err := fasthttp.GetTimeout(nil, url, 2*time.Minute)
	if err == nil && status != 200 {
		err = fmt.Errorf("%s: status %d: %.200s", url, status, body)
	}
	return body, err
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return "load average " + strings.Join(f[:3], " ")
}

// median of the values of f over runs.
func median[T any](runs []T, f func(T) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}

func ms(d float64) string { return fmt.Sprintf("%.1f", d/float64(time.Millisecond)) }
