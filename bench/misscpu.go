package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/edgepix/edgepix/transform/pipeline"
)

// MissScenario is one miss-path render: a source file, edgepix's chain and
// output format, and vipsthumbnail's options for the same output (the
// scenarios of make bench-peers, rendered in-process).
type MissScenario struct {
	Name, File, Chain, Format string
	Vips                      []string // vipsthumbnail options
	VipsOut                   string   // output name with saver options
}

// MissScenarios are the miss-path cases of issue 12.
var MissScenarios = []MissScenario{
	fill300("2.5 MP JPEG → fill 300×200 JPEG q80", "photo-storm-1920x1280.jpg", "jpg", "out.jpg[Q=80,strip]"),
	fill300("20 MP JPEG → fill 300×200", "photo-nuthatch-6028x3391.jpg", "jpg", "out.jpg[Q=80,strip]"),
	fit800("2.5 MP JPEG → WebP w800 q80", "photo-storm-1920x1280.jpg", "webp", "out.webp[Q=80,strip]"),
	fill300("16 MP progressive JPEG → fill 300×200", "photo-dandelions-5312x2988-progressive.jpg", "jpg", "out.jpg[Q=80,strip]"),
	fill300("2.6 MP RGBA PNG → fill 300×200 PNG", "rgba-transparent-wallpaper-2140x1200.png", "png", "out.png[strip]"),
	fill300("2.5 MP photo PNG → fill 300×200 JPEG", "generated-photo-storm-1920x1280.png", "jpg", "out.jpg[Q=80,strip]"),
	fit800("2.5 MP JPEG → AVIF w800 q80", "photo-storm-1920x1280.jpg", "avif", "out.avif[Q=80,strip]"),
	fill300("4 MP grayscale JPEG → fill 300×200", "photo-architecture-2560x1600-grayscale.jpg", "jpg", "out.jpg[Q=80,strip]"),
}

func fill300(name, file, ext, out string) MissScenario {
	return MissScenario{Name: name, File: file, Chain: "c_fill,w_300,h_200,q_80", Format: ext,
		Vips: []string{"--size", "300x200", "--smartcrop", "centre"}, VipsOut: out}
}

func fit800(name, file, ext, out string) MissScenario {
	return MissScenario{Name: name, File: file, Chain: "c_fit,w_800,h_4000,q_80", Format: ext,
		Vips: []string{"--size", "800x"}, VipsOut: out}
}

// MissCPU is one scenario's figures: CPU time per render (getrusage,
// the whole process: GC included) for edgepix in-process and for
// vipsthumbnail with its start-up subtracted, medians of interleaved
// repeats, with the outputs' sizes and their PSNR against each other.
type MissCPU struct {
	Scenario          MissScenario
	Ours, Vips        time.Duration // CPU per render
	OursWall          time.Duration
	OursBytes, VBytes int
	PSNR              float64 // edgepix's output against vipsthumbnail's, dB
}

// Ratio is vips CPU / our CPU (≥ 1: we use less).
func (m MissCPU) Ratio() float64 { return float64(m.Vips) / float64(m.Ours) }

// StartupCPU is vipsthumbnail's start-up CPU time, subtracted from its
// figures (set by MeasureMissCPU).
var StartupCPU time.Duration

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

func vipsCPU(args []string) (time.Duration, error) {
	cmd := exec.Command("vipsthumbnail", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("vipsthumbnail %v: %v: %s", args, err, out)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// MeasureMissCPU measures the scenarios, reps interleaved rounds of n
// renders each (ours, then vipsthumbnail, scenario after scenario).
func MeasureMissCPU(fixtures, tmp string, ss []MissScenario, reps, n int) ([]MissCPU, error) {
	srcs := make([][]byte, len(ss))
	for i, s := range ss {
		p, err := s.Source(fixtures, tmp)
		if err != nil {
			return nil, err
		}
		if srcs[i], err = os.ReadFile(p); err != nil {
			return nil, err
		}
		if _, err := s.RenderMiss(srcs[i]); err != nil { // warm-up
			return nil, fmt.Errorf("%s: %v", s.Name, err)
		}
	}
	startup := []string{filepath.Join(fixtures, "exif-orient1-synthetic-50x70.jpg"), "--size", "10x10", "-o", filepath.Join(tmp, "startup.jpg")}
	ours := make([][]time.Duration, len(ss))
	walls := make([][]time.Duration, len(ss))
	vips := make([][]time.Duration, len(ss))
	var base []time.Duration
	for range reps {
		for i, s := range ss {
			c0, t0 := cpuNow(), time.Now()
			for range n {
				if _, err := s.RenderMiss(srcs[i]); err != nil {
					return nil, err
				}
			}
			ours[i] = append(ours[i], (cpuNow()-c0)/time.Duration(n))
			walls[i] = append(walls[i], time.Since(t0)/time.Duration(n))
			src, _ := s.Source(fixtures, tmp)
			for range n {
				c, err := vipsCPU(append(append([]string{src}, s.Vips...), "-o", filepath.Join(tmp, fmt.Sprint(i, s.VipsOut))))
				if err != nil {
					return nil, err
				}
				vips[i] = append(vips[i], c)
				if c, err = vipsCPU(startup); err != nil {
					return nil, err
				}
				base = append(base, c)
			}
		}
	}
	b := median(base)
	StartupCPU = b
	figs := make([]MissCPU, len(ss))
	for i, s := range ss {
		f := MissCPU{Scenario: s, Ours: median(ours[i]), OursWall: median(walls[i]), Vips: max(median(vips[i])-b, time.Microsecond)}
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

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
