package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudinary/cloudinary-go/v2"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/origin"
	"github.com/valyala/fasthttp"
)

var bgctx = context.Background()

var benchAccount = origin.Account{Cloud: "bench", APIKey: "111111111111111", APISecret: "bench-secret"}

// Server is an in-process edgepix for the delivery benchmarks.
type Server struct {
	App *app.App
	dir string
}

// StartServer runs `serve` on loopback ports in a temporary directory,
// logging only warnings (request logs would measure the logger), with
// webhooks allowed to loopback receivers; mutate adjusts the
// configuration.
func StartServer(mutate ...func(*app.Config)) (*Server, error) {
	dir, err := os.MkdirTemp("", "edgepix-bench-*")
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := app.Config{DataDir: dir, EdgeAddr: "127.0.0.1:0", OriginAddr: "127.0.0.1:0",
		Accounts: []origin.Account{benchAccount}, AllowPrivateHooks: true}
	for _, m := range mutate {
		m(&cfg)
	}
	a, err := app.Start(cfg, log)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Server{App: a, dir: dir}, nil
}

// Close stops the server and removes its data.
func (s *Server) Close() {
	s.App.Close()
	os.RemoveAll(s.dir)
}

// Upload stores a file under publicID with the official SDK.
func (s *Server) Upload(path, publicID string) error {
	return s.UploadWith(path, uploader.UploadParams{PublicID: publicID})
}

// UploadWith uploads with any parameters.
func (s *Server) UploadWith(path string, p uploader.UploadParams) error {
	cld, err := cloudinary.NewFromURL(benchAccount.URL(s.App.OriginURL))
	if err != nil {
		return err
	}
	res, err := cld.Upload.Upload(context.Background(), path, p)
	if err != nil {
		return err
	}
	if res.Error.Message != "" {
		return fmt.Errorf("upload: %s", res.Error.Message)
	}
	return nil
}

// Load is the outcome of a load run.
type Load struct {
	Requests int
	Elapsed  time.Duration
	P50, P99 time.Duration
}

// PerSecond is the request rate.
func (l Load) PerSecond() float64 { return float64(l.Requests) / l.Elapsed.Seconds() }

// Drive sends GETs from conns goroutines until d has passed (or, when n >
// 0, until n requests are done), taking URLs from next. Any status but 200
// fails the run.
func Drive(conns int, d time.Duration, n int, next func(i int) string) (Load, error) {
	client := &fasthttp.Client{MaxConnsPerHost: conns * 2, ReadTimeout: time.Minute}
	var (
		count    atomic.Int64
		mu       sync.Mutex
		lats     []time.Duration
		firstErr error
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			var mine []time.Duration
			for {
				i := int(count.Add(1)) - 1
				if (n > 0 && i >= n) || (n == 0 && time.Now().After(deadline)) {
					break
				}
				req.SetRequestURI(next(i))
				t := time.Now()
				err := client.Do(req, resp)
				mine = append(mine, time.Since(t))
				if err == nil && resp.StatusCode() != 200 {
					err = fmt.Errorf("%s: status %d: %s", next(i), resp.StatusCode(), resp.Header.Peek("X-Cld-Error"))
				}
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	l := Load{Requests: len(lats), Elapsed: time.Since(start)}
	if firstErr != nil {
		return l, firstErr
	}
	slices.Sort(lats)
	if len(lats) > 0 {
		l.P50, l.P99 = lats[len(lats)/2], lats[min(len(lats)-1, len(lats)*99/100)]
	}
	return l, nil
}

// HitFigure compares cached deliveries with fasthttp's static file handler.
type HitFigure struct {
	Bytes          int
	Ours, Baseline Load
}

// Ratio is edgepix's request rate over the baseline's.
func (f HitFigure) Ratio() float64 { return f.Ours.PerSecond() / f.Baseline.PerSecond() }

// MeasureHit serves the original of path (a ~30 KB image) from the edge's
// cache and the same file through fasthttp.FSHandler, each for d at conns
// connections.
func MeasureHit(path string, conns int, d time.Duration) (HitFigure, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return HitFigure{}, err
	}
	s, err := StartServer()
	if err != nil {
		return HitFigure{}, err
	}
	defer s.Close()
	if err := s.Upload(path, "hit"); err != nil {
		return HitFigure{}, err
	}
	ours := s.App.EdgeURL + "/bench/image/upload/v1/hit" + filepath.Ext(path)
	if _, err := Drive(1, 0, 2, func(int) string { return ours }); err != nil { // fill the cache
		return HitFigure{}, err
	}

	static := filepath.Join(s.dir, "static")
	os.MkdirAll(static, 0o755)
	if err := os.WriteFile(filepath.Join(static, "hit.jpg"), data, 0o644); err != nil {
		return HitFigure{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return HitFigure{}, err
	}
	fs := &fasthttp.FS{Root: static, Compress: false, AcceptByteRange: true}
	srv := &fasthttp.Server{Handler: fs.NewRequestHandler()}
	go srv.Serve(ln)
	defer srv.Shutdown()
	base := "http://" + ln.Addr().String() + "/hit.jpg"

	f := HitFigure{Bytes: len(data)}
	// Alternate short rounds so neither side gets a warmer machine.
	for range 2 {
		b, err := Drive(conns, d/2, 0, func(int) string { return base })
		if err != nil {
			return f, err
		}
		o, err := Drive(conns, d/2, 0, func(int) string { return ours })
		if err != nil {
			return f, err
		}
		f.Baseline = merge(f.Baseline, b)
		f.Ours = merge(f.Ours, o)
	}
	return f, nil
}

func merge(a, b Load) Load {
	return Load{Requests: a.Requests + b.Requests, Elapsed: a.Elapsed + b.Elapsed,
		P50: max(a.P50, b.P50), P99: max(a.P99, b.P99)}
}

// MissFigure is the render throughput at one concurrency.
type MissFigure struct {
	Concurrency int
	Load        Load
	PeakRSS     int64 // bytes, the whole process so far
	Baseline    time.Duration
}

// MeasureMiss asks the edge for n distinct c_fill sizes of path at each
// concurrency (every request a miss that the origin renders), next to the
// time one render takes in-process with the same pipeline.
func MeasureMiss(path string, concs []int, n int) ([]MissFigure, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	one := Median(3, func() { OursFill(src) })
	s, err := StartServer()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := s.Upload(path, "miss"); err != nil {
		return nil, err
	}
	runtime.GC()
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM (Linux)
	var out []MissFigure
	w := 200
	for _, c := range concs {
		base := w
		l, err := Drive(c, 0, n, func(i int) string {
			return s.App.EdgeURL + "/bench/image/upload/c_fill,w_" + strconv.Itoa(base+i) + ",h_200/miss.jpg"
		})
		if err != nil {
			return nil, err
		}
		w += n
		out = append(out, MissFigure{Concurrency: c, Load: l, PeakRSS: peakRSS(), Baseline: one})
	}
	return out, nil
}

// peakRSS reads the process's high-water resident set (Linux); 0 elsewhere.
func peakRSS() int64 { return statusHWM("/proc/self/status") }

// statusHWM reads VmHWM from a /proc status file, in bytes.
func statusHWM(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
