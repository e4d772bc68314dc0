package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// doneLua prints wrk's totals on one line, in microseconds.
const doneLua = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("PEERS %d %d %d %d %d %d\n", summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
`

// uniqueLua makes every request a new URL: the template's {W} and {H}
// become wbase + k mod 128 and hbase + k div 128, k counting from an
// offset over all threads.
const uniqueLua = `
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  template, offset, stride = args[1], tonumber(args[2]), tonumber(args[3])
  wbase, hbase, n = tonumber(args[4]), tonumber(args[5]), 0
end
function request()
  local k = offset + n * stride + id
  n = n + 1
  local path = template:gsub("{W}", tostring(wbase + k % 128)):gsub("{H}", tostring(hbase + math.floor(k / 128)))
  return wrk.format("GET", path)
end
` + doneLua

// run is one wrk run's outcome.
type run struct {
	Requests int
	Elapsed  time.Duration
	Errors   int // non-2xx/3xx answers and socket errors
	P50, P99 time.Duration
	CPU      time.Duration // the server's CPU time over the run
}

func (r run) perSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// cpuPer is the server's CPU time per request.
func (r run) cpuPer() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Requests)
}

// wrk runs wrk against url for d at conns connections, measuring the CPU
// time of the server's processes (cpu). With a template, every request
// is a new URL (see uniqueLua) numbered from offset.
type wrk struct {
	dir     string // for the scripts
	threads int
}

func (w wrk) script(name, text string) (string, error) {
	p := filepath.Join(w.dir, name)
	return p, os.WriteFile(p, []byte(text), 0o644)
}

func (w wrk) run(base, template string, offset, wbase, hbase, conns int, d time.Duration, cpu func() time.Duration) (run, error) {
	threads := min(w.threads, conns)
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", max(int(d.Seconds()), 1)), "--timeout", "60s"}
	if template == "" {
		s, err := w.script("hit.lua", doneLua)
		if err != nil {
			return run{}, err
		}
		args = append(args, "-s", s, base)
	} else {
		s, err := w.script("unique.lua", uniqueLua)
		if err != nil {
			return run{}, err
		}
		args = append(args, "-s", s, base, "--", template, strconv.Itoa(offset), strconv.Itoa(threads),
			strconv.Itoa(wbase), strconv.Itoa(hbase))
	}
	before := cpu()
	out, err := exec.Command("wrk", args...).CombinedOutput()
	used := cpu() - before
	if err != nil {
		return run{}, fmt.Errorf("wrk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 7 || f[0] != "PEERS" {
			continue
		}
		var v [6]int64
		for i := range v {
			v[i], _ = strconv.ParseInt(f[i+1], 10, 64)
		}
		return run{Requests: int(v[0]), Elapsed: time.Duration(v[1]) * time.Microsecond, Errors: int(v[2] + v[3]),
			P50: time.Duration(v[4]) * time.Microsecond, P99: time.Duration(v[5]) * time.Microsecond, CPU: used}, nil
	}
	return run{}, fmt.Errorf("wrk printed no totals:\n%s", out)
}
