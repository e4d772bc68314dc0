// Command misscpu prints the miss path's CPU time per render, edgepix
// in-process next to libvips' vipsthumbnail (start-up subtracted), for
// the scenarios of issue 12: medians of interleaved repeats. It needs
// vipsthumbnail (Debian's libvips-tools).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/edgepix/edgepix/bench"
	"github.com/edgepix/edgepix/internal/fixtures"
)

func main() {
	reps := flag.Int("reps", 5, "interleaved rounds")
	n := flag.Int("n", 3, "renders per round")
	only := flag.String("only", "", "scenarios whose name contains this")
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
	var ss []bench.MissScenario
	for _, s := range bench.MissScenarios {
		if strings.Contains(s.Name, *only) {
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
	fmt.Printf("vipsthumbnail start-up: %.1f ms CPU (subtracted)\n\n", ms(bench.StartupCPU))
	fmt.Println("| scenario | edgepix CPU ms/render | wall ms | vipsthumbnail CPU ms | CPU ratio (vips/edgepix) | bytes edgepix / vips | PSNR vs vips |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, f := range figs {
		fmt.Printf("| %s | %.1f | %.1f | %.1f | %.2f× | %d / %d | %.1f dB |\n", f.Scenario.Name,
			ms(f.Ours), ms(f.OursWall), ms(f.Vips), f.Ratio(), f.OursBytes, f.VBytes, f.PSNR)
	}
}

func ms(d interface{ Seconds() float64 }) float64 { return d.Seconds() * 1000 }
