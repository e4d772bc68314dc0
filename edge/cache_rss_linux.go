package edge

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// madvPageout asks the kernel to reclaim pages now (Linux 5.4).
const madvPageout = 21

// trimMapped hands back to the kernel the pages of dir's files that this
// process has resident through mappings (Badger maps its logs and
// tables; every page written or read stays in the resident set), once
// they add up to more than budget bytes. It returns what was resident.
//
// MADV_PAGEOUT only ever reclaims: file pages are written back if dirty
// and dropped, to be read again on demand. A range that stopped being a
// mapping of dir between reading smaps and the call is unmapped (the call
// fails) or anonymous memory, which this machine cannot page out without
// swap and would only swap out with it: never lost.
func trimMapped(dir string, budget int64) int64 {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0
	}
	defer f.Close()
	prefix := filepath.Clean(dir) + "/"
	type span struct{ start, end uintptr }
	var (
		spans    []span
		resident int64
		inDir    bool
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if rss, ok := strings.CutPrefix(line, "Rss:"); ok {
			if inDir {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(rss, "kB")), 10, 64)
				resident += kb << 10
			}
			continue
		}
		if !strings.Contains(fields[0], "-") || strings.HasSuffix(fields[0], ":") {
			continue // another key of the current mapping
		}
		// A mapping's header: start-end perms offset dev inode [path]
		inDir = len(fields) >= 6 && strings.HasPrefix(fields[5], prefix)
		if inDir {
			lo, hi, _ := strings.Cut(fields[0], "-")
			s, err1 := strconv.ParseUint(lo, 16, 64)
			e, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil && e > s {
				spans = append(spans, span{uintptr(s), uintptr(e)})
			}
		}
	}
	if resident > budget {
		for _, s := range spans {
			syscall.Syscall(syscall.SYS_MADVISE, s.start, s.end-s.start, madvPageout)
		}
	}
	return resident
}
