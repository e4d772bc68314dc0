package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// scenario is one miss-path case: a source file, edgepix's and
// imgproxy's URL templates ({W} and {H} make every URL new, around
// wbase×hbase) and vipsthumbnail's options for the same output.
type scenario struct {
	name, file   string
	ours         string // after /bench/image/upload/
	wbase, hbase int
	vips         []string
	vipsOut      string // output file name, with saver options
	proxy        string // imgproxy path, before /plain/local:///file
}

// fill300 is c_fill 300×200 JPEG q80; fit800 the width 800 (the height
// bound never applies).
func fill300(name, file, ext, vipsOut string) scenario {
	return scenario{name: name, file: file, ours: "c_fill,w_{W},h_{H},q_80/" + publicID(file) + "." + ext, wbase: 300, hbase: 200,
		vips: []string{"--size", "300x200", "--smartcrop", "centre"}, vipsOut: vipsOut, proxy: "/insecure/rs:fill:{W}:{H}/q:80"}
}

func fit800(name, file, ext, vipsOut string) scenario {
	return scenario{name: name, file: file, ours: "c_fit,w_{W},h_{H},q_80/" + publicID(file) + "." + ext, wbase: 800, hbase: 4000,
		vips: []string{"--size", "800x"}, vipsOut: vipsOut, proxy: "/insecure/rs:fit:{W}:{H}/q:80"}
}

var scenarios = []scenario{
	fill300("2.5 MP JPEG → fill 300×200 JPEG q80", "photo-storm-1920x1280.jpg", "jpg", "out.jpg[Q=80,strip]"),
	fill300("20 MP JPEG → fill 300×200", "photo-nuthatch-6028x3391.jpg", "jpg", "out.jpg[Q=80,strip]"),
	fit800("2.5 MP JPEG → WebP w800 q80", "photo-storm-1920x1280.jpg", "webp", "out.webp[Q=80,strip]"),
	fill300("16 MP progressive JPEG → fill 300×200", "photo-dandelions-5312x2988-progressive.jpg", "jpg", "out.jpg[Q=80,strip]"),
	fill300("2.6 MP RGBA PNG → fill 300×200 PNG", "rgba-transparent-wallpaper-2140x1200.png", "png", "out.png[strip]"),
	fill300("2.5 MP photo PNG → fill 300×200 JPEG", "generated-photo-storm-1920x1280.png", "jpg", "out.jpg[Q=80,strip]"),
	fit800("2.5 MP JPEG → AVIF w800 q80", "photo-storm-1920x1280.jpg", "avif", "out.avif[Q=80,strip]"),
	fill300("4 MP grayscale JPEG → fill 300×200", "photo-architecture-2560x1600-grayscale.jpg", "jpg", "out.jpg[Q=80,strip]"),
}

// proxyPath is imgproxy's URL template for s.
func (s scenario) proxyPath() string {
	ext := strings.TrimPrefix(filepath.Ext(s.ours), ".")
	return s.proxy + "/plain/local:///" + s.file + "@" + ext
}

// hitImages are the cached URLs of the hit table, results of the 2.5 MP
// photo: a small one (~10 KB, under a thumbnail's size) and a large one
// (~100 KB and more, a full-width picture).
var hitImages = []struct{ name, path string }{
	{"small", "c_fill,w_400,h_300,q_80/photo-storm-1920x1280.jpg"},
	{"large", "c_scale,w_1600,q_90/photo-storm-1920x1280.jpg"},
}

// hitTable: cached URLs from `edgepix edge`, and the same bytes as static
// files from nginx, run after run (the order alternates between repeats).
// The edge's resident memory is sampled while it serves.
func (e *env) hitTable() error {
	root := filepath.Join(e.tmp, "www")
	os.MkdirAll(filepath.Join(e.tmp, "nginx-tmp"), 0o755)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	ourURL, staticName, size := make([]string, len(hitImages)), make([]string, len(hitImages)), make([]int, len(hitImages))
	for i, img := range hitImages {
		u := e.loneURL + "/bench/image/upload/" + img.path
		body, err := get(u)
		if err != nil {
			return err
		}
		if _, err := get(u); err != nil { // now a hit
			return err
		}
		ourURL[i], staticName[i], size[i] = u, img.name+".jpg", len(body)
		if err := os.WriteFile(filepath.Join(root, staticName[i]), body, 0o644); err != nil {
			return err
		}
	}
	addr, err := freePort()
	if err != nil {
		return err
	}
	conf := filepath.Join(e.tmp, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConf(e.tmp, addr, root)), 0o644); err != nil {
		return err
	}
	nginx, err := start(e.tmp, "nginx", nil, "nginx", "-c", conf, "-p", e.tmp, "-g", "daemon off;")
	if err != nil {
		return err
	}
	defer nginx.stop()
	for _, name := range staticName {
		if err := waitHTTP("http://"+addr+"/"+name, 30*time.Second); err != nil {
			return err
		}
	}
	rssBefore, _ := e.lone.memory()
	sampler := e.lone.sampleRSS(100 * time.Millisecond)
	type key struct{ img, c int }
	ours, theirs := map[key][]run{}, map[key][]run{}
	for rep := range e.o.reps {
		for i := range hitImages {
			for _, c := range e.o.hitConns {
				k := key{i, c}
				for j := range 2 {
					if (j+rep)%2 == 0 {
						r, err := e.w.run(ourURL[i], "", 0, 0, 0, c, e.o.hitDur, e.lone.cpu)
						if err != nil {
							return err
						}
						ours[k] = append(ours[k], r)
					} else {
						r, err := e.w.run("http://"+addr+"/"+staticName[i], "", 0, 0, 0, c, e.o.hitDur, nginx.cpu)
						if err != nil {
							return err
						}
						theirs[k] = append(theirs[k], r)
					}
				}
			}
		}
		fmt.Fprintf(os.Stderr, "hit: rep %d\n", rep+1)
	}
	peak := sampler()
	fmt.Print("Hit path: cached URLs from `edgepix edge`; nginx serves the same bytes as static files. ")
	for i, img := range hitImages {
		fmt.Printf("%s: `%s`, %d bytes. ", img.name, img.path, size[i])
	}
	fmt.Print("\n\n")
	fmt.Println("| image | connections | edgepix req/s | nginx req/s | ratio | p99 edgepix | p99 nginx | p99 ratio | CPU µs/req edgepix | nginx | errors |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	rate := func(r run) float64 { return r.perSecond() }
	p99 := func(r run) float64 { return float64(r.P99) }
	cpu := func(r run) float64 { return float64(r.cpuPer()) / 1e3 }
	for i, img := range hitImages {
		for _, c := range e.o.hitConns {
			a, b := ours[key{i, c}], theirs[key{i, c}]
			errs := 0
			for _, r := range append(a, b...) {
				errs += r.Errors
			}
			fmt.Printf("| %s, %.1f KB | %d | %.0f | %.0f | **%.2f×** | %.2f ms | %.2f ms | %.2f× | %.1f | %.1f | %d |\n", img.name,
				float64(size[i])/1e3, c, median(a, rate), median(b, rate), median(a, rate)/median(b, rate),
				median(a, p99)/1e6, median(b, p99)/1e6, median(a, p99)/median(b, p99), median(a, cpu), median(b, cpu), errs)
		}
	}
	m := e.lone.status()
	var nginxRSS int64
	for _, pid := range nginx.pids() {
		r, _ := (&server{cmd: &exec.Cmd{Process: &os.Process{Pid: pid}}}).memory()
		nginxRSS += r
	}
	fmt.Printf("\n`edgepix edge` RSS: %d MB before the hit runs, at most %d MB during them (sampled every 100 ms), %d MB after (%d MB anonymous, %d MB file-backed); nginx, all processes, %d MB after.\n\n",
		rssBefore>>20, peak>>20, m["VmRSS:"]>>20, m["RssAnon:"]>>20, m["RssFile:"]>>20, nginxRSS>>20)
	return nil
}

// missTable: every URL a new render, at 2, 4 and 8 connections, next to
// vipsthumbnail (and imgproxy).
func (e *env) missTable() error {
	type key struct{ s, c int }
	ours, proxy := map[key][]run{}, map[key][]run{}
	for rep := range e.o.reps {
		for si, s := range scenarios {
			if !strings.Contains(s.name, e.o.only) {
				continue
			}
			for _, c := range e.o.missConns {
				r, err := e.unique(e.edge, "/bench/image/upload/"+s.ours, s, c, e.o.missDur, e.edgepix)
				if err != nil {
					return err
				}
				ours[key{si, c}] = append(ours[key{si, c}], r)
				if e.imgproxy != nil {
					r, err := e.unique(e.proxyURL, s.proxyPath(), s, c, e.o.missDur, e.imgproxy)
					if err != nil {
						return err
					}
					proxy[key{si, c}] = append(proxy[key{si, c}], r)
				}
			}
			fmt.Fprintf(os.Stderr, "miss: rep %d, %s\n", rep+1, s.name)
		}
	}
	fmt.Println("Miss path: every URL a new render. edgepix req/s at 2/4/8 connections; vipsthumbnail per image with its start-up subtracted, and images/s with two processes at once.")
	fmt.Println()
	head := "| scenario | edgepix req/s c=2/4/8 | p50 / p99 ms c=8 | CPU ms/render | vipsthumbnail ms/image | CPU ms/image | vips ×2 img/s | c=2 ratio | CPU ratio | errors |"
	if e.imgproxy != nil {
		head += " imgproxy req/s c=2/4/8 | ratio c=2/4/8 | imgproxy CPU ms/render |"
	}
	fmt.Println(head)
	fmt.Println("|" + strings.Repeat("---|", strings.Count(head, "|")-1))
	rate := func(r run) float64 { return r.perSecond() }
	cpu := func(r run) float64 { return float64(r.cpuPer()) }
	for si, s := range scenarios {
		if !strings.Contains(s.name, e.o.only) {
			continue
		}
		v, err := measureVips(e.fixtures, e.tmp, e.source(s), s.vips, s.vipsOut, e.o.vipsN)
		if err != nil {
			return err
		}
		var rates []string
		errs := 0
		for _, c := range e.o.missConns {
			rates = append(rates, fmt.Sprintf("%.1f", median(ours[key{si, c}], rate)))
			for _, r := range ours[key{si, c}] {
				errs += r.Errors
			}
		}
		c8 := ours[key{si, 8}]
		ourCPU := median(c8, cpu)
		line := fmt.Sprintf("| %s | %s | %s / %s | %s | %s | %s | %.1f | **%.2f×** | %.2f× | %d |", s.name, strings.Join(rates, " / "),
			ms(median(c8, func(r run) float64 { return float64(r.P50) })), ms(median(c8, func(r run) float64 { return float64(r.P99) })),
			ms(ourCPU), ms(float64(v.Wall)), ms(float64(v.CPU)), v.PerSecond, median(ours[key{si, 2}], rate)/v.PerSecond,
			ourCPU/float64(v.CPU), errs)
		if e.imgproxy != nil {
			var pr, ratio []string
			for _, c := range e.o.missConns {
				p := median(proxy[key{si, c}], rate)
				pr = append(pr, fmt.Sprintf("%.1f", p))
				ratio = append(ratio, fmt.Sprintf("%.2f", median(ours[key{si, c}], rate)/p))
			}
			line += fmt.Sprintf(" %s | %s× | %s |", strings.Join(pr, " / "), strings.Join(ratio, " / "), ms(median(proxy[key{si, 8}], cpu)))
		}
		fmt.Println(line)
	}
	fmt.Println()
	return nil
}

// source is the file a scenario reads.
func (e *env) source(s scenario) string {
	if strings.HasPrefix(s.file, "generated-") {
		return filepath.Join(e.tmp, s.file)
	}
	return filepath.Join(e.fixtures, s.file)
}

// unique runs wrk over new URLs of template on base.
func (e *env) unique(base, template string, s scenario, c int, d time.Duration, srv *server) (run, error) {
	r, err := e.w.run(base, template, e.offset, s.wbase, s.hbase, c, d, srv.cpu)
	e.offset += r.Requests + 2*c + 16
	return r, err
}

// memoryTable: the resident memory of `edgepix edge` and `edgepix serve`
// after a fill of unique results through the edge (large renders that
// fill its memory tier, then many small ones).
func (e *env) memoryTable() error {
	before, _ := e.lone.memory()
	if !e.o.skipFill {
		big := scenario{wbase: 1000, hbase: 4000}
		if _, err := e.unique(e.loneURL, "/bench/image/upload/c_fit,w_{W},h_{H},q_95/photo-storm-1920x1280.jpg", big, 4, e.o.fillDur*3/4, e.lone); err != nil {
			return err
		}
		small := scenario{wbase: 20, hbase: 20}
		if _, err := e.unique(e.loneURL, "/bench/image/upload/c_fill,w_{W},h_{H}/photo-snake-600x450-grayscale.jpg", small, 4, e.o.fillDur/4, e.lone); err != nil {
			return err
		}
	}
	if e.o.skipFill {
		fmt.Printf("Memory (no fill):\n\n")
	} else {
		fmt.Printf("Memory after %s of unique large and small results through `edgepix edge` (%d MB before):\n\n", e.o.fillDur, before>>20)
	}
	fmt.Println("| process | RSS | anonymous | file-backed | peak (VmHWM) |")
	fmt.Println("|---|---|---|---|---|")
	for _, p := range []struct {
		name string
		s    *server
	}{{"edgepix edge", e.lone}, {"edgepix serve (its origin)", e.edgepix}} {
		m := p.s.status()
		fmt.Printf("| %s | %d MB | %d MB | %d MB | %d MB |\n", p.name, m["VmRSS:"]>>20, m["RssAnon:"]>>20, m["RssFile:"]>>20, m["VmHWM:"]>>20)
	}
	return nil
}
