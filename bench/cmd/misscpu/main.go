// Command misscpu prints the miss path's cost per image, edgepix
// in-process next to libvips' vipsthumbnail (its start-up cancelled), for
// the scenarios of issue 12: wall and CPU time one image at a time, and
// images/s with one render per core at once; each ratio is edgepix's
// figure over vips'. Medians of interleaved repeats. It needs
// vipsthumbnail (Debian's libvips-tools).
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"

	"github.com/edgepix/edgepix/bench"
	"github.com/edgepix/edgepix/internal/fixtures"
)

func main() {
	reps := flag.Int("reps", 5, "interleaved rounds")
	n := flag.Int("n", 3, "images per round (per worker for throughput)")
	only := flag.String("only", "", "scenarios whose name matches this regular expression")
	profile := flag.String("cpuprofile", "", "render the scenarios reps×n times under the CPU profiler into this file (no vipsthumbnail)")
	flag.Parse()
	dir := fixtures.Dir()
	if dir == "" {
		fmt.Fprintln(os.Stderr, "misscpu: fixtures are absent")
		os.Exit(1)
	}
	tmp, err := os.MkdirTemp("", "misscpu")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(tmp)
	re, err := regexp.Compile(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var ss []bench.MissScenario
	for _, s := range bench.MissScenarios {
		if re.MatchString(s.Name) {
			ss = append(ss, s)
		}
	}
	if *profile != "" {
		if err := bench.ProfileMiss(dir, tmp, ss, *reps**n, *profile); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	figs, err := bench.MeasureMissCPU(dir, tmp, ss, *reps, *n)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("vipsthumbnail given one image (start-up and first image, cancelled out): %.1f ms CPU, %.1f ms wall; %d workers at once for throughput\n\n",
		ms(bench.OneImageCPU), ms(bench.OneImageWall), bench.Workers)
	fmt.Println("| scenario | edgepix wall ms/image | vips wall ms/image | ratio | edgepix CPU ms/image | vips CPU ms/image | ratio | edgepix images/s | vips images/s | ratio | bytes edgepix / vips | PSNR vs vips |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, f := range figs {
		fmt.Printf("| %s | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx | %d / %d | %.1f dB |\n", f.Scenario.Name,
			ms(f.OursWall), ms(f.VipsWall), f.WallRatio(), ms(f.Ours), ms(f.Vips), f.CPURatio(),
			f.OursTput, f.VipsTput, f.TputRatio(), f.OursBytes, f.VBytes, f.PSNR)
	}
}

func ms(d interface{ Seconds() float64 }) float64 { return d.Seconds() * 1000 }
