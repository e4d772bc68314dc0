package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"
	"github.com/edgepix/edgepix/internal/metrics"
)

// validMark is created in a cache directory when it is opened and removed
// when its disk tier is disabled or abandoned: from then on purges cannot
// reach it, so a directory without the mark is not trusted at the next
// start (nor one written by an edgepix that did not mark directories).
const validMark = "EDGEPIX_VALID"

// openDisk opens the disk tier in dir and lists its keys, or returns a nil
// tier (memory only). It never fails: a directory Badger cannot open,
// whatever the way (an error, or a panic, even one Badger would raise in
// its own goroutines), is moved aside and replaced by an empty one; a
// filesystem without the room the tier needs is emptied of the cache,
// then the edge runs from memory if that is not enough. Each case is
// logged with its cause.
func openDisk(dir string, diskBytes int64, log *slog.Logger, m *metrics.Metrics) (*diskTier, *lru[struct{}]) {
	m.CacheDisk.Set(0)
	s := sizesFor(diskBytes)
	for attempt := 0; ; attempt++ {
		d, index, err := tryOpen(dir, s, diskBytes, log, m)
		if err == nil {
			if d.writable.Load() { // its first preallocation may have found the disk full
				m.CacheDisk.Set(1)
			}
			go d.run()
			return d, index
		}
		full := noSpace(err)
		switch {
		case attempt == 2 || full && !hasBadgerFiles(dir):
			fault := "open_failed"
			if full {
				fault = faultDiskFull
			}
			m.CacheFaults.WithLabelValues(fault).Inc()
			log.Error("edge cache: no disk tier; running from memory", "fault", fault, "dir", dir, "err", err)
			return nil, newLRU[struct{}](diskBytes)
		case full:
			log.Warn("edge cache: not enough free space for its disk tier; emptying its directory", "dir", dir, "err", err)
			clearBadger(dir)
		default:
			aside := moveAside(dir)
			m.CacheFaults.WithLabelValues("rebuilt").Inc()
			log.Error("edge cache unreadable; moved aside, starting empty", "dir", dir, "aside", aside, "err", err)
		}
	}
}

// tryOpen opens Badger in dir once, after checking what Badger would
// crash on.
func tryOpen(dir string, s diskSizes, limit int64, log *slog.Logger, m *metrics.Metrics) (*diskTier, *lru[struct{}], error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, validMark)); err != nil && hasBadgerFiles(dir) {
		log.Warn("edge cache: discarding a directory not marked valid (its disk tier was disabled or abandoned, so purges may be missing, or an older edgepix wrote it)", "dir", dir)
		if err := clearBadger(dir); err != nil {
			return nil, nil, err
		}
	}
	tables, holes, err := scanDir(dir)
	if err != nil {
		return nil, nil, err
	}
	if err := room(dir, tables+holes+s.reserve(0)); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, validMark), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, err
	}
	f.Close()
	opts := badgerOptions(dir, s, log)
	if err := safely("checking the tables", func() error { return preflight(dir, opts) }); err != nil {
		return nil, nil, err
	}
	// A crash leaves sparse log files; Badger reads them through writable
	// mappings, where a hole faults on a full tmpfs.
	if err := preallocate(dir); err != nil && !errors.Is(err, errNoAllocate) {
		return nil, nil, err
	}
	var db *badger.DB
	if err := safely("Badger open", func() (err error) { db, err = badger.Open(opts); return err }); err != nil {
		return nil, nil, err
	}
	d := newDiskTier(db, dir, s, log, m)
	index := newLRU[struct{}](limit)
	if err := safely("listing the cache", func() error { return d.loadIndex(index) }); err != nil {
		d.closeBadger(time.Now().Add(d.stall))
		return nil, nil, err
	}
	d.preallocate()
	return d, index, nil
}

// badgerOptions keep Badger small (the memory tier is the read cache) and
// make corrupt blocks and values errors rather than garbage or panics.
// Cached images go to the value log, not into the LSM tree: there, every
// flush and compaction rebuilt them in memory (table builders of hundreds
// of MB on a 1 GB cache filling with unique results); the tree keeps the
// keys and the smallest entries.
func badgerOptions(dir string, s diskSizes, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(dir).WithLogger(&badgerLog{log: log}).WithNumVersionsToKeep(1).
		WithMemTableSize(s.memtable).WithNumMemtables(2).WithValueLogFileSize(s.vlog).
		WithValueThreshold(valueThreshold).
		WithBlockCacheSize(blockCache).WithNumLevelZeroTables(2).WithNumLevelZeroTablesStall(4).
		WithNumCompactors(2).WithDetectConflicts(false).
		WithChecksumVerificationMode(options.OnBlockRead).WithVerifyValueChecksum(true)
}

// loadIndex lists the keys on disk; their order of use is not persisted,
// so they start as least recently used, then trims to the bound.
func (d *diskTier) loadIndex(index *lru[struct{}]) error {
	err := d.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if item.Key()[0] == 0 {
				continue // the cache's own records (positionKey), not entries
			}
			index.pushBack(string(item.Key()), struct{}{}, item.ValueSize())
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.remove(index.trim())
	return nil
}

// preflight does in this goroutine what Badger's Open does in goroutines
// of its own, where a panic cannot be recovered: it reads the MANIFEST and
// opens every table it lists (a truncated table panics in Badger's index
// reader). A MANIFEST with a partial change at its end is refused too:
// the cache cannot know what that change dropped (a purge's tombstones).
func preflight(dir string, opts badger.Options) error {
	f, err := os.Open(filepath.Join(dir, badger.ManifestFilename))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	mf, end, err := badger.ReplayManifestFile(f, opts.ExternalMagicVersion, opts)
	if err != nil {
		return fmt.Errorf("MANIFEST: %w", err)
	}
	if end != fi.Size() {
		return fmt.Errorf("MANIFEST: %d bytes of a partial change at its end", fi.Size()-end)
	}
	for id, tm := range mf.Tables {
		if int(tm.Level) >= opts.MaxLevels { // Badger would index past its levels
			return fmt.Errorf("MANIFEST: table %d on level %d", id, tm.Level)
		}
		if err := checkTable(table.NewFilename(id, dir), tm.Compression); err != nil {
			return err
		}
	}
	return nil
}

// checkTable opens one table as Badger would, and closes it.
func checkTable(path string, c options.CompressionType) error {
	mf, err := z.OpenMmapFile(path, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	var t *table.Table
	err = safely(filepath.Base(path), func() (err error) {
		t, err = table.OpenTable(mf, table.Options{Compression: c, BlockSize: 4 << 10})
		return err
	})
	if err != nil {
		mf.Close(-1) // may fail: some of OpenTable's errors close it already
		return fmt.Errorf("table %s: %w", filepath.Base(path), err)
	}
	return t.Close(-1)
}

// moveAside renames a bad cache directory next to itself, for a look
// later, and removes the ones moved aside before (one is enough to
// diagnose, and a disk must not fill up with them). It returns the new
// name, or "" if the directory had to be removed instead.
func moveAside(dir string) string {
	prefix := filepath.Base(dir) + ".corrupt-"
	if ents, err := os.ReadDir(filepath.Dir(dir)); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), prefix) {
				os.RemoveAll(filepath.Join(filepath.Dir(dir), e.Name()))
			}
		}
	}
	aside := fmt.Sprintf("%s.corrupt-%d", dir, time.Now().UnixNano())
	if err := os.Rename(dir, aside); err != nil {
		os.RemoveAll(dir)
		return ""
	}
	return aside
}

// badgerFile reports whether the named file is Badger's (or the mark).
func badgerFile(name string) bool {
	return mapped(name) || strings.HasSuffix(name, ".sst") || strings.HasPrefix(name, "MANIFEST") ||
		strings.HasPrefix(name, "KEYREGISTRY") || name == "LOCK" || name == validMark
}

func hasBadgerFiles(dir string) bool {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if badgerFile(e.Name()) {
			return true
		}
	}
	return false
}

// clearBadger removes Badger's files from dir, and only those.
func clearBadger(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if badgerFile(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// noSpace reports whether err is the filesystem lacking room.
func noSpace(err error) bool {
	var nr *errNoRoom
	return errors.As(err, &nr) || errors.Is(err, syscall.ENOSPC)
}

// badgerLog passes Badger's warnings and errors on, one per 10 s at most:
// Badger repeats a failing flush every second.
type badgerLog struct {
	log  *slog.Logger
	last atomic.Int64
}

func (b *badgerLog) Errorf(f string, a ...any)   { b.emit(slog.LevelError, f, a) }
func (b *badgerLog) Warningf(f string, a ...any) { b.emit(slog.LevelWarn, f, a) }
func (b *badgerLog) Infof(string, ...any)        {}
func (b *badgerLog) Debugf(string, ...any)       {}

func (b *badgerLog) emit(level slog.Level, f string, a []any) {
	now := time.Now().UnixNano()
	if last := b.last.Load(); now-last < int64(10*time.Second) || !b.last.CompareAndSwap(last, now) {
		return
	}
	b.log.Log(context.Background(), level, "badger: "+strings.TrimSpace(fmt.Sprintf(f, a...)))
}

// valueThreshold: entries above it are kept in Badger's value log.
const valueThreshold = 1 << 10

// blockCache is Badger's block cache: small, the memory tier is the read
// cache.
const blockCache = 16 << 20
