// Command benchtable runs edgepix's benchmarks and prints each figure next to
// its baseline measured in the same run.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/edgepix/edgepix/bench"
	"github.com/edgepix/edgepix/internal/fixtures"
)

func main() {
	dir := fixtures.Dir()
	if dir == "" {
		fmt.Fprintln(os.Stderr, "benchtable: ../shared/fixtures is absent")
		os.Exit(1)
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "decode + c_fill,w_300,h_200 + jpg q80\tMP\tedgepix\tbaseline\tspeedup\tPSNR dB\tpeak heap\t/decoded\t")
	for _, name := range []string{"photo-storm-1920x1280.jpg", "photo-nuthatch-6028x3391.jpg"} {
		f, err := bench.MeasureTransform(filepath.Join(dir, name), 7)
		if err != nil {
			fmt.Fprintln(os.Stderr, name, err)
			os.Exit(1)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%v\t%v\t%.2fx\t%.1f\t%.1f MB\t%.2fx\t\n", f.File, float64(f.Pixels)/1e6,
			f.Ours.Round(100_000), f.Baseline.Round(100_000), f.Speedup(), f.PSNR,
			float64(f.PeakHeap)/1e6, f.HeapRatio())
	}
	tw.Flush()
}
