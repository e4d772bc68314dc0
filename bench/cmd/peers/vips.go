package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// vipsFigure is libvips' own thumbnail operation on one scenario, per
// image, with the process's start-up (vipsthumbnail on a 50×70 JPEG)
// subtracted.
type vipsFigure struct {
	Wall, CPU time.Duration // one image, one process
	PerSecond float64       // images/s with two processes at once (both cores)
}

// vipsRun runs vipsthumbnail once and returns its wall and CPU time.
func vipsRun(args []string) (wall, cpu time.Duration, err error) {
	cmd := exec.Command("vipsthumbnail", args...)
	t := time.Now()
	out, err := cmd.CombinedOutput()
	wall = time.Since(t)
	if err != nil {
		return 0, 0, fmt.Errorf("vipsthumbnail %v: %v: %s", args, err, out)
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// vipsMedian runs args n times and returns the median wall and CPU times.
func vipsMedian(args []string, n int) (wall, cpu time.Duration, err error) {
	var ws, cs []time.Duration
	for range n {
		w, c, err := vipsRun(args)
		if err != nil {
			return 0, 0, err
		}
		ws, cs = append(ws, w), append(cs, c)
	}
	slices.Sort(ws)
	slices.Sort(cs)
	return ws[n/2], cs[n/2], nil
}

// measureVips times vipsthumbnail on src with the scenario's options,
// writing to out (a name whose extension and [options] pick the saver).
func measureVips(fixtures, tmp, src string, opts []string, out string, n int) (vipsFigure, error) {
	startup := []string{filepath.Join(fixtures, "exif-orient1-synthetic-50x70.jpg"), "--size", "10x10", "-o", filepath.Join(tmp, "startup.jpg")}
	sw, sc, err := vipsMedian(startup, n)
	if err != nil {
		return vipsFigure{}, err
	}
	args := append(append([]string{src}, opts...), "-o", filepath.Join(tmp, out))
	w, c, err := vipsMedian(args, n)
	if err != nil {
		return vipsFigure{}, err
	}
	f := vipsFigure{Wall: max(w-sw, 0), CPU: max(c-sc, 0)}
	// Two processes at once, n images each.
	t := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if _, _, e := vipsRun(args); e != nil {
					mu.Lock()
					err = e
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err != nil {
		return f, err
	}
	if busy := time.Since(t) - time.Duration(n)*sw; busy > 0 {
		f.PerSecond = float64(2*n) / busy.Seconds()
	}
	return f, nil
}
