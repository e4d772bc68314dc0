// Command benchtable runs edgepix's benchmarks and prints each figure next to
// its baseline measured in the same run.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

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
	fmt.Println()

	effects, err := bench.MeasureEffects(filepath.Join(dir, "photo-storm-1920x1280.jpg"), 5)
	if err != nil {
		fmt.Fprintln(os.Stderr, "effects:", err)
		os.Exit(1)
	}
	fmt.Fprintln(tw, "storm 2.5 MP: c_scale,w_1600/<effect> + jpg\tedgepix\tc_scale alone\tratio\t")
	for _, f := range effects {
		fmt.Fprintf(tw, "%s\t%v\t%v\t%.2fx\t\n", f.Chain, f.Ours.Round(100_000), f.Baseline.Round(100_000), f.Ratio())
	}
	tw.Flush()
	fmt.Println()

	hit, err := bench.MeasureHit(filepath.Join(dir, "photo-snake-600x450-grayscale.jpg"), 16, 6*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hit path:", err)
		os.Exit(1)
	}
	fmt.Fprintln(tw, "edge hit path, 16 connections	bytes	edgepix req/s	fasthttp FS req/s	ratio	p99 edgepix	p99 FS	")
	fmt.Fprintf(tw, "cached original\t%d\t%.0f\t%.0f\t%.2fx\t%v\t%v\t\n", hit.Bytes, hit.Ours.PerSecond(),
		hit.Baseline.PerSecond(), hit.Ratio(), hit.Ours.P99.Round(10*time.Microsecond), hit.Baseline.P99.Round(10*time.Microsecond))
	tw.Flush()
	fmt.Println()

	misses, err := bench.MeasureMiss(filepath.Join(dir, "photo-storm-1920x1280.jpg"), []int{2, 4, 8}, 24)
	if err != nil {
		fmt.Fprintln(os.Stderr, "miss path:", err)
		os.Exit(1)
	}
	fmt.Fprintln(tw, "edge miss path, storm 1920x1280 c_fill\tconcurrency\trenders/s\tin-process, serial\tratio\tp50\tp99\tpeak RSS\t")
	for _, m := range misses {
		inproc := 1 / m.Baseline.Seconds()
		fmt.Fprintf(tw, "distinct sizes\t%d\t%.1f\t%.1f\t%.2fx\t%v\t%v\t%d MB\t\n", m.Concurrency, m.Load.PerSecond(),
			inproc, m.Load.PerSecond()/inproc, m.Load.P50.Round(time.Millisecond), m.Load.P99.Round(time.Millisecond), m.PeakRSS>>20)
	}
	tw.Flush()
	fmt.Println()

	be, err := bench.MeasureBackends(filepath.Join(dir, "photo-storm-1920x1280.jpg"), filepath.Join(dir, "photo-storm-1920x1280.jpg"), 12, 8, 6, 4)
	if err != nil {
		fmt.Fprintln(os.Stderr, "blob backends:", err)
		os.Exit(1)
	}
	fmt.Fprintln(tw, "blob store: S3 (versitygw, loopback) vs file\tconnections\tS3\tfile\tratio\t")
	fmt.Fprintf(tw, "miss path, storm c_fill, renders/s\t%d\t%.1f\t%.1f\t%.2fx\t\n", be.Concurrency,
		be.MissS3.PerSecond(), be.MissFile.PerSecond(), be.MissRatio())
	fmt.Fprintf(tw, "uploads of storm (%d KB), uploads/s\t%d\t%.1f\t%.1f\t%.2fx\t\n", be.UploadBytes>>10, be.Concurrency,
		be.UploadS3.PerSecond(), be.UploadFile.PerSecond(), be.UploadRatio())
	tw.Flush()
	fmt.Println()

	or, err := bench.MeasureOrigins(filepath.Join(dir, "photo-storm-1920x1280.jpg"), 4, 8, 4, 4)
	if err != nil {
		fmt.Fprintln(os.Stderr, "origins:", err)
		os.Exit(1)
	}
	fmt.Fprintln(tw, "two origins vs one (same NATS, file store)\tconnections\ttwo\tone\tratio\t")
	fmt.Fprintf(tw, "miss path, storm c_fill, renders/s\t%d\t%.1f\t%.1f\t%.2fx\t\n", or.Concurrency,
		or.MissTwo.PerSecond(), or.MissOne.PerSecond(), or.MissRatio())
	fmt.Fprintf(tw, "eager_async (3 each), uploads/s to last notification\t1\t%.2f\t%.2f\t%.2fx\t\n",
		or.EagerTwo.PerSecond(), or.EagerOne.PerSecond(), or.EagerRatio())
	tw.Flush()
	fmt.Println()

	eager, err := bench.MeasureEager(filepath.Join(dir, "photo-storm-1920x1280.jpg"), 12)
	if err != nil {
		fmt.Fprintln(os.Stderr, "eager:", err)
		os.Exit(1)
	}
	fmt.Fprintln(tw, "eager_async, storm + 3 eager each\tuploads\tedgepix uploads/s\tin-process uploads/s\tratio\t")
	fmt.Fprintf(tw, "until every notification arrived\t%d\t%.2f\t%.2f\t%.2fx\t\n", eager.Uploads,
		float64(eager.Uploads)/eager.Ours.Seconds(), float64(eager.Uploads)/eager.Baseline.Seconds(), eager.Ratio())
	tw.Flush()
	fmt.Println()

	fan, err := bench.MeasureFanout(1000)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fan-out:", err)
		os.Exit(1)
	}
	fmt.Fprintln(tw, "notification fan-out, loopback\tdeliveries\tedgepix/s\tplain POST/s\tratio\tdelay p50\tdelay p99\t")
	fmt.Fprintf(tw, "signed, durable, 8 workers\t%d\t%.0f\t%.0f\t%.2fx\t%v\t%v\t\n", fan.Deliveries,
		float64(fan.Deliveries)/fan.Ours.Seconds(), float64(fan.Deliveries)/fan.Baseline.Seconds(), fan.Ratio(),
		fan.DelayP50.Round(10*time.Microsecond), fan.DelayP99.Round(10*time.Microsecond))
	tw.Flush()
	fmt.Println()

	ex, err := bench.MeasureExplode(filepath.Join(dir, "pdf-mma-tutorial-21pages-text.pdf"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "explode:", err)
		os.Exit(1)
	}
	fmt.Fprintln(tw, "explode PDF to JPEG pages\tpages\tedgepix (job → notification)\tin-process, serial\tratio\t")
	fmt.Fprintf(tw, "pdf-mma-tutorial, 150 dpi\t%d\t%v\t%v\t%.2fx\t\n", ex.Pages, ex.Ours.Round(time.Millisecond),
		ex.Baseline.Round(time.Millisecond), ex.Ratio())
	tw.Flush()
	fmt.Println()

	sp, err := bench.MeasureSprite(filepath.Join(dir, "photo-snake-600x450-grayscale.jpg"), 12, 5)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sprite:", err)
		os.Exit(1)
	}
	fmt.Fprintln(tw, "generate_sprite, c_scale,w_100, PNG\timages\tedgepix (API call)\tin-process\tratio\t")
	fmt.Fprintf(tw, "snake 600x450\t%d\t%v\t%v\t%.2fx\t\n", sp.Images, sp.Ours.Round(time.Millisecond),
		sp.Baseline.Round(time.Millisecond), sp.Ratio())
	tw.Flush()
	fmt.Println()

	quiet, attacked, err := bench.MeasureHostile(dir, 20*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile traffic:", err)
		os.Exit(1)
	}
	fmt.Fprintln(tw, "ordinary traffic, 20 s, real binary\tquiet ok\tunder attack ok\tquiet p99\tattack p99\tp99 ratio\t")
	for i, a := range attacked.Ordinary {
		q := quiet.Ordinary[i]
		fmt.Fprintf(tw, "%s\t%d/%d\t%d/%d (%.0f%%)\t%v\t%v\t%.1fx\t\n", a.Name, q.OK, q.Total, a.OK, a.Total, 100*a.Rate(),
			q.P99.Round(time.Millisecond), a.P99.Round(time.Millisecond), float64(a.P99)/float64(max(q.P99, 1)))
	}
	fmt.Fprintf(tw, "peak RSS\t%d MB\t%d MB\t\t\t\t\n", quiet.PeakRSS>>20, attacked.PeakRSS>>20)
	fmt.Fprintf(tw, "attack sent\t\t%v\t\t\t\t\n", attacked.Attacks)
	tw.Flush()
	fmt.Println()

	pf, err := bench.MeasurePlugins(7)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plugins:", err)
		os.Exit(1)
	}
	fmt.Fprintln(tw, "fn_wasm plugin, 1000x1000 RGBA\trun worker\tnative Go\tratio\tin process, checks\tin process, none\t")
	for _, c := range append(pf.Calls, pf.Overhead) {
		fmt.Fprintf(tw, "%s\t%v\t%v\t%.2fx\t%v\t%v\t\n", c.Name, c.Ours.Round(10*time.Microsecond),
			c.Baseline.Round(10*time.Microsecond), c.Ratio(), c.InProcess.Round(10*time.Microsecond), c.Unchecked.Round(10*time.Microsecond))
	}
	tw.Flush()
	fmt.Println()
	fmt.Fprintln(tw, "fn_wasm plugin\t\t")
	fmt.Fprintf(tw, "identity call on 64x64 (the exchanges with the worker)\t%v\t\n", pf.RoundTrips.Round(time.Microsecond))
	fmt.Fprintf(tw, "answer after the deadline, module that loops\t%v\t\n", pf.SpinLate.Round(100*time.Microsecond))
	fmt.Fprintf(tw, "answer after the deadline, loop-free call tree\t%v\t\n", pf.TreeLate.Round(100*time.Microsecond))
	fmt.Fprintf(tw, "next call of a Go module after a kill (64x64)\t%v\t\n", pf.Respawn.Round(time.Millisecond))
	fmt.Fprintf(tw, "first response (64x64), cold compile (%.1f MB module)\t%v\t\n", float64(pf.ModuleBytes)/1e6, pf.ColdCompile.Round(time.Millisecond))
	fmt.Fprintf(tw, "first response (64x64) after restart, warm cache\t%v\t\n", pf.WarmRestart.Round(time.Millisecond))
	tw.Flush()
	fmt.Println()

	cli, err := bench.MeasureCLI(dir, []string{"photo-storm-1920x1280.jpg", "photo-snake-600x450-grayscale.jpg",
		"interlaced-rgb-horse-200x200.png", "photo-dune-grass-1680x1050.jpg"}, 10, []int{1, 4, 8})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bulk CLI:", err)
		os.Exit(1)
	}
	sdkRun := cli[0]
	fmt.Fprintf(tw, "bulk upload, %d files, %.1f MB, real binary\tconcurrency\tfiles/s\tMB/s\tvs Go SDK loop\t\n", sdkRun.Files, float64(sdkRun.Bytes)/1e6)
	fmt.Fprintf(tw, "official Go SDK, one after another\t1\t%.1f\t%.2f\t1.00x\t\n", sdkRun.FilesPerSecond(), sdkRun.MBPerSecond())
	for _, f := range cli[1:] {
		fmt.Fprintf(tw, "edgepix upload DIR\t%d\t%.1f\t%.2f\t%.2fx\t\n", f.Concurrency, f.FilesPerSecond(), f.MBPerSecond(),
			sdkRun.Took.Seconds()/f.Took.Seconds())
	}
	tw.Flush()
}
