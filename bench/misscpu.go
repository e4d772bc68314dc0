package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/edgepix/edgepix/transform/pipeline"
)

// MissScenario is one miss-path render: a source file, edgepix's chain and
// output format, and vipsthumbnail's options for the same output
// (make bench-miss).
type MissScenario struct {
	Name, File, Chain, Format string
	Vips                      []string // vipsthumbnail options
	VipsOut                   string   // output name with saver options
}

// MissScenarios are the miss-path cases of issue 12. vipsthumbnail's
// savers get the effort edgepix's encoders use (WebP method 2, AVIF speed
// 8), so both make the same kind of file.
var MissScenarios = []MissScenario{
	scaleW300("20 MP JPEG → w300 JPEG q80", "photo-nuthatch-6028x3391.jpg", "jpg", "out.jpg[Q=80,strip]"),
	fill150("2.5 MP JPEG → fill 150×100 JPEG q80", "photo-storm-1920x1280.jpg", "jpg", "out.jpg[Q=80,strip]"),
	fill150("2.5 MP JPEG → fill 150×100 WebP q80", "photo-storm-1920x1280.jpg", "webp", "out.webp[Q=80,effort=2,strip]"),
	fill300("2.5 MP JPEG → fill 300×200 JPEG q80", "photo-storm-1920x1280.jpg", "jpg", "out.jpg[Q=80,strip]"),
	fill300("20 MP JPEG → fill 300×200", "photo-nuthatch-6028x3391.jpg", "jpg", "out.jpg[Q=80,strip]"),
	fit800("2.5 MP JPEG → WebP w800 q80", "photo-storm-1920x1280.jpg", "webp", "out.webp[Q=80,effort=2,strip]"),
	fill300("16 MP progressive JPEG → fill 300×200", "photo-dandelions-5312x2988-progressive.jpg", "jpg", "out.jpg[Q=80,strip]"),
	fill300("2.6 MP RGBA PNG → fill 300×200 PNG", "rgba-transparent-wallpaper-2140x1200.png", "png", "out.png[strip]"),
	fill300("2.5 MP photo PNG → fill 300×200 JPEG", "generated-photo-storm-1920x1280.png", "jpg", "out.jpg[Q=80,strip]"),
	fit800("2.5 MP JPEG → AVIF w800 q80", "photo-storm-1920x1280.jpg", "avif", "out.avif[Q=80,effort=1,strip]"),
	fill300("4 MP grayscale JPEG → fill 300×200", "photo-architecture-2560x1600-grayscale.jpg", "jpg", "out.jpg[Q=80,strip]"),
}

func fill300(name, file, ext, out string) MissScenario {
	return MissScenario{Name: name, File: file, Chain: "c_fill,w_300,h_200,q_80", Format: ext,
		Vips: []string{"--size", "300x200", "--smartcrop", "centre"}, VipsOut: out}
}

func fill150(name, file, ext, out string) MissScenario {
	return MissScenario{Name: name, File: file, Chain: "c_fill,w_150,h_100,q_80", Format: ext,
		Vips: []string{"--size", "150x100", "--smartcrop", "centre"}, VipsOut: out}
}

func scaleW300(name, file, ext, out string) MissScenario {
	return MissScenario{Name: name, File: file, Chain: "c_scale,w_300,q_80", Format: ext,
		Vips: []string{"--size", "300x"}, VipsOut: out}
}

func fit800(name, file, ext, out string) MissScenario {
	return MissScenario{Name: name, File: file, Chain: "c_fit,w_800,h_4000,q_80", Format: ext,
		Vips: []string{"--size", "800x"}, VipsOut: out}
}

// MissCPU is one scenario's figures. Per image, one at a time: CPU time
// (getrusage, the whole process: GC included) and wall time of edgepix
// rendering in-process, and of vipsthumbnail given the file 1+n times
// less vipsthumbnail given it once (which cancels its start-up and first
// image), over n. Throughput: images/s of Workers goroutines rendering n
// images each in-process, next to Workers vipsthumbnail processes started
// together, again 1+n images each less 1 each. Medians of interleaved
// repeats, with the outputs' sizes and their PSNR against each other.
type MissCPU struct {
	Scenario           MissScenario
	Ours, Vips         time.Duration // CPU per image
	OursWall, VipsWall time.Duration // wall time per image, one at a time
	OursTput, VipsTput float64       // images/s, Workers at once
	OursBytes, VBytes  int
	PSNR               float64 // edgepix's output against vipsthumbnail's, dB
}

// CPURatio is edgepix's CPU time over vips' (< 1 is faster); WallRatio
// and TputRatio likewise for wall time and throughput (> 1 is more).
func (m MissCPU) CPURatio() float64  { return float64(m.Ours) / float64(m.Vips) }
func (m MissCPU) WallRatio() float64 { return float64(m.OursWall) / float64(m.VipsWall) }
func (m MissCPU) TputRatio() float64 { return m.OursTput / m.VipsTput }

// OneImageCPU and OneImageWall are the medians of vipsthumbnail's runs
// given the file once (start-up and a first image), for information.
var OneImageCPU, OneImageWall time.Duration

// Workers is the number of renders at once in the throughput figures:
// the origin's render workers, one per core.
var Workers = runtime.NumCPU()

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Source returns a scenario's source bytes; a "generated-" PNG is written
// by libvips from the JPEG of the same name into tmp.
func (s MissScenario) Source(fixtures, tmp string) (string, error) {
	if name, ok := cutPrefix(s.File, "generated-"); ok {
		path := filepath.Join(tmp, s.File)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
		jpg := name[:len(name)-len(filepath.Ext(name))] + ".jpg"
		if out, err := exec.Command("vips", "copy", filepath.Join(fixtures, jpg), path).CombinedOutput(); err != nil {
			return "", fmt.Errorf("vips copy: %v: %s", err, out)
		}
		return path, nil
	}
	return filepath.Join(fixtures, s.File), nil
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

// RenderMiss renders src as the scenario asks, as the origin does.
func (s MissScenario) RenderMiss(src []byte) (*pipeline.Result, error) {
	ch, err := grammar.ParseChain(s.Chain)
	if err != nil {
		return nil, err
	}
	return pipeline.Render(src, pipeline.Request{Chain: ch, Format: s.Format})
}

// vipsCmd returns vipsthumbnail given src n times.
func (s MissScenario) vipsCmd(src, out string, n int) *exec.Cmd {
	args := make([]string, 0, n+len(s.Vips)+2)
	for range n {
		args = append(args, src)
	}
	args = append(append(args, s.Vips...), "-o", out)
	cmd := exec.Command("vipsthumbnail", args...)
	cmd.Stderr = new(bytes.Buffer)
	return cmd
}

func vipsWait(cmd *exec.Cmd) (cpu time.Duration, err error) {
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("vipsthumbnail %v: %v: %s", cmd.Args[1:], err, cmd.Stderr)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// vipsRun runs cmd, returning its CPU and wall time.
func vipsRun(cmd *exec.Cmd) (cpu, wall time.Duration, err error) {
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	cpu, err = vipsWait(cmd)
	return cpu, time.Since(t0), err
}

// oursParallel renders src n times on each of Workers goroutines and
// returns images/s.
func (s MissScenario) oursParallel(src []byte, n int) (float64, error) {
	errs := make(chan error, Workers)
	t0 := time.Now()
	for range Workers {
		go func() {
			for range n {
				if _, err := s.RenderMiss(src); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range Workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return float64(Workers*n) / time.Since(t0).Seconds(), first
}

// vipsParallel starts Workers vipsthumbnail processes given src n times
// each and returns the wall time until all have finished.
func (s MissScenario) vipsParallel(src, dir, prefix string, n int) (time.Duration, error) {
	cmds := make([]*exec.Cmd, Workers)
	t0 := time.Now()
	for w := range cmds {
		cmds[w] = s.vipsCmd(src, filepath.Join(dir, fmt.Sprint(prefix, w, "-", s.VipsOut)), n)
		if err := cmds[w].Start(); err != nil {
			return 0, err
		}
	}
	var first error
	for _, c := range cmds {
		if _, err := vipsWait(c); err != nil && first == nil {
			first = err
		}
	}
	return time.Since(t0), first
}

// MeasureMissCPU measures the scenarios, reps interleaved rounds of n
// images each (for each scenario: edgepix one at a time, vipsthumbnail one
// at a time, edgepix Workers at once, vipsthumbnail Workers at once).
func MeasureMissCPU(fixtures, tmp string, ss []MissScenario, reps, n int) ([]MissCPU, error) {
	srcs := make([][]byte, len(ss))
	paths := make([]string, len(ss))
	for i, s := range ss {
		p, err := s.Source(fixtures, tmp)
		if err != nil {
			return nil, err
		}
		paths[i] = p
		if srcs[i], err = os.ReadFile(p); err != nil {
			return nil, err
		}
		if _, err := s.RenderMiss(srcs[i]); err != nil { // warm-up
			return nil, fmt.Errorf("%s: %v", s.Name, err)
		}
	}
	type samples struct {
		ours, oursWall, vips, vipsWall []time.Duration
		oursTput, vipsTput             []float64
	}
	m := make([]samples, len(ss))
	var oneCPU, oneWall []time.Duration
	for range reps {
		for i, s := range ss {
			out := filepath.Join(tmp, fmt.Sprint(i, s.VipsOut))
			c0, t0 := cpuNow(), time.Now()
			for range n {
				if _, err := s.RenderMiss(srcs[i]); err != nil {
					return nil, err
				}
			}
			m[i].ours = append(m[i].ours, (cpuNow()-c0)/time.Duration(n))
			m[i].oursWall = append(m[i].oursWall, time.Since(t0)/time.Duration(n))
			c1, w1, err := vipsRun(s.vipsCmd(paths[i], out, 1))
			if err != nil {
				return nil, err
			}
			c2, w2, err := vipsRun(s.vipsCmd(paths[i], out, 1+n))
			if err != nil {
				return nil, err
			}
			oneCPU, oneWall = append(oneCPU, c1), append(oneWall, w1)
			m[i].vips = append(m[i].vips, (c2-c1)/time.Duration(n))
			m[i].vipsWall = append(m[i].vipsWall, (w2-w1)/time.Duration(n))
			tp, err := s.oursParallel(srcs[i], n)
			if err != nil {
				return nil, err
			}
			m[i].oursTput = append(m[i].oursTput, tp)
			p1, err := s.vipsParallel(paths[i], tmp, fmt.Sprint("par", i, "-"), 1)
			if err != nil {
				return nil, err
			}
			p2, err := s.vipsParallel(paths[i], tmp, fmt.Sprint("par", i, "-"), 1+n)
			if err != nil {
				return nil, err
			}
			m[i].vipsTput = append(m[i].vipsTput, float64(Workers*n)/(p2-p1).Seconds())
		}
	}
	OneImageCPU, OneImageWall = median(oneCPU), median(oneWall)
	figs := make([]MissCPU, len(ss))
	for i, s := range ss {
		f := MissCPU{Scenario: s, Ours: median(m[i].ours), OursWall: median(m[i].oursWall),
			Vips: median(m[i].vips), VipsWall: median(m[i].vipsWall),
			OursTput: median(m[i].oursTput), VipsTput: median(m[i].vipsTput)}
		r, err := s.RenderMiss(srcs[i])
		if err != nil {
			return nil, err
		}
		f.OursBytes = len(r.Data)
		outName := fmt.Sprint(i, s.VipsOut)
		if j := indexByte(outName, '['); j >= 0 {
			outName = outName[:j]
		}
		vb, err := os.ReadFile(filepath.Join(tmp, outName))
		if err != nil {
			return nil, err
		}
		f.VBytes = len(vb)
		a, e1 := codec.Decode(r.Data, codec.DecodeOptions{})
		v, e2 := codec.Decode(vb, codec.DecodeOptions{})
		if e1 == nil && e2 == nil && a.Bounds().Size() == v.Bounds().Size() {
			f.PSNR = pipeline.PSNR(a.Frames[0], v.Frames[0])
		}
		figs[i] = f
	}
	return figs, nil
}

// ProfileMiss renders each scenario n times under the CPU profiler,
// writing the profile to path.
func ProfileMiss(fixtures, tmp string, ss []MissScenario, n int, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	srcs := make([][]byte, len(ss))
	for i, s := range ss {
		p, err := s.Source(fixtures, tmp)
		if err != nil {
			return err
		}
		if srcs[i], err = os.ReadFile(p); err != nil {
			return err
		}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	for i, s := range ss {
		for range n {
			if _, err := s.RenderMiss(srcs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func median[T time.Duration | float64](ds []T) T {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
