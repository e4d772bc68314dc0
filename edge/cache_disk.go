package edge

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/edgepix/edgepix/internal/metrics"
)

// The disk tier is optional: a fault disables it and deliveries go on from
// the memory tier and the origin. Faults, as counted in the metric:
const (
	faultDiskFull = "disk_full"   // the space guard refused a write: reads go on
	faultWrite    = "write_error" // Badger failed a write: its state is suspect
	faultStalled  = "stalled"     // a write or read waited longer than stallAfter
	faultPanic    = "panic"       // Badger panicked in one of our goroutines
)

// stallAfter bounds any wait on Badger in a delivery or a purge.
const stallAfter = 10 * time.Second

// maxQueued bounds the bytes of cache writes waiting for the writer.
const maxQueued = 16 << 20

var errDiskOff = errors.New("the edge cache's disk tier is disabled")

// diskTier is Badger behind one writer goroutine. Deliveries never wait
// for a disk write (a write that cannot be queued is dropped), every
// mutation is serialised in the writer (guard, write, preallocation), and
// the first failed write stops all others: after some failures Badger
// would abort the process on the next write (a nil memtable assertion).
type diskTier struct {
	db    *badger.DB
	dir   string
	sizes diskSizes
	log   *slog.Logger
	m     *metrics.Metrics
	stall time.Duration

	writable atomic.Bool
	readable atomic.Bool
	busy     atomic.Int64 // when the writer's current Badger call began (unix ns), 0 when idle
	queued   atomic.Int64
	noAlloc  bool // writer only: fallocate unsupported, said once

	closed  atomic.Bool
	jobs    chan func()
	stop    chan struct{}
	done    chan struct{}
	closing sync.Once
}

func newDiskTier(db *badger.DB, dir string, s diskSizes, log *slog.Logger, m *metrics.Metrics) *diskTier {
	d := &diskTier{db: db, dir: dir, sizes: s, log: log, m: m, stall: stallAfter,
		jobs: make(chan func(), 256), stop: make(chan struct{}), done: make(chan struct{})}
	d.writable.Store(true)
	d.readable.Store(true)
	return d
}

// run is the writer: queued jobs, value-log GC every minute, and the
// trim of Badger's mapped pages (see trimMapped) every trimEvery.
func (d *diskTier) run() {
	defer close(d.done)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	trim := time.NewTicker(trimEvery)
	defer trim.Stop()
	for {
		select {
		case job := <-d.jobs:
			job()
		case <-trim.C:
			trimMapped(d.dir, mappedBudget)
		case <-t.C:
			for d.write(d.sizes.vlog, func(db *badger.DB) error { return db.RunValueLogGC(0.5) }) == nil {
			}
		case <-d.stop:
			for {
				select {
				case job := <-d.jobs:
					job()
				default:
					return
				}
			}
		}
	}
}

// offer queues a write of size bytes without waiting; false if it was
// dropped (disk off, closed, or too much already queued).
func (d *diskTier) offer(size int64, job func()) bool {
	d.checkStall()
	if !d.writable.Load() {
		return false
	}
	if d.queued.Add(size) > maxQueued {
		d.queued.Add(-size)
		return false
	}
	if !d.closed.Load() {
		select {
		case d.jobs <- func() { d.queued.Add(-size); job() }:
			return true
		default:
		}
	}
	d.queued.Add(-size)
	return false
}

// await runs job in the writer and waits for it, at most the stall bound
// in all; past that the tier is disabled.
func (d *diskTier) await(job func()) {
	if d.closed.Load() {
		return
	}
	done := make(chan struct{})
	t := time.NewTimer(d.stall)
	defer t.Stop()
	select {
	case d.jobs <- func() { defer close(done); job() }:
	case <-t.C:
		d.disable(faultStalled, fmt.Errorf("the writer took no job for %s", d.stall))
		return
	}
	select {
	case <-done:
	case <-t.C:
		d.disable(faultStalled, fmt.Errorf("a write waited over %s", d.stall))
	}
}

// checkStall disables the tier when the writer has been inside one Badger
// call for longer than the stall bound.
func (d *diskTier) checkStall() {
	if b := d.busy.Load(); b != 0 && time.Since(time.Unix(0, b)) > d.stall {
		d.disable(faultStalled, fmt.Errorf("a Badger write has been running for over %s", d.stall))
	}
}

// write runs one Badger mutation in the writer if the tier is writable
// and the filesystem has room for n more bytes, then preallocates the
// log files the write may have created. A failure disables the tier.
func (d *diskTier) write(n int64, op func(*badger.DB) error) error {
	if !d.writable.Load() {
		return errDiskOff
	}
	if err := d.room(d.sizes.reserve(n)); err != nil {
		if noSpace(err) {
			d.disable(faultDiskFull, err)
		} else {
			d.disable(faultWrite, err)
		}
		return err
	}
	d.busy.Store(time.Now().UnixNano())
	err := safely("Badger write", func() error { return op(d.db) })
	d.busy.Store(0)
	var pe *panicError
	switch {
	case err == nil:
	case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected), errors.Is(err, badger.ErrTxnTooBig):
		return err // nothing to collect, or an entry Badger refuses: not a fault
	case errors.As(err, &pe):
		d.disable(faultPanic, err)
		return err
	default:
		d.disable(faultWrite, err)
		return err
	}
	d.preallocate()
	return nil
}

// room checks that the filesystem has extra bytes free besides what a
// compaction may rewrite (the whole LSM tree, at most).
func (d *diskTier) room(extra int64) error {
	var lsm int64
	for _, t := range d.db.Tables() {
		lsm += int64(t.OnDiskSize)
	}
	return room(d.dir, lsm+extra)
}

// preallocate reserves the blocks of new log files; if it cannot, writes
// stop before one lands in an unreserved block.
func (d *diskTier) preallocate() {
	err := preallocate(d.dir)
	switch {
	case err == nil:
	case errors.Is(err, errNoAllocate):
		if !d.noAlloc {
			d.noAlloc = true
			d.log.Warn("edge cache: the filesystem cannot preallocate; only the free-space margin protects Badger's mapped files", "dir", d.dir)
		}
	case noSpace(err):
		d.disable(faultDiskFull, err)
	default:
		d.disable(faultWrite, err)
	}
}

// remove deletes keys from Badger (from the writer).
func (d *diskTier) remove(keys []string) {
	if len(keys) == 0 {
		return
	}
	var n int64
	for _, k := range keys {
		n += int64(len(k))
	}
	d.write(n, func(db *badger.DB) error {
		wb := db.NewWriteBatch()
		defer wb.Cancel()
		for _, k := range keys {
			if err := wb.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return wb.Flush()
	})
}

// read returns the stored value of k, waiting at most the stall bound (a
// Badger read waits for writes in flight).
func (d *diskTier) read(k string) ([]byte, error) {
	d.checkStall()
	if !d.readable.Load() {
		return nil, errDiskOff
	}
	type result struct {
		v   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var v []byte
		err := safely("Badger read", func() error {
			return d.db.View(func(txn *badger.Txn) error {
				it, err := txn.Get([]byte(k))
				if err != nil {
					return err
				}
				v, err = it.ValueCopy(nil)
				return err
			})
		})
		ch <- result{v, err}
	}()
	t := time.NewTimer(d.stall)
	defer t.Stop()
	select {
	case r := <-ch:
		var pe *panicError
		if errors.As(r.err, &pe) {
			d.disable(faultPanic, r.err)
		}
		return r.v, r.err
	case <-t.C:
		err := fmt.Errorf("a read waited over %s", d.stall)
		d.disable(faultStalled, err)
		return nil, err
	}
}

// disable stops disk writes (and reads, unless the fault is only a full
// disk), once per change, with a log line and the metrics. The directory
// loses its validity mark: purges from now on cannot reach it, so the next
// start rebuilds it.
func (d *diskTier) disable(fault string, err error) {
	wasWritable := d.writable.Swap(false)
	wasReadable := fault != faultDiskFull && d.readable.Swap(false)
	if !wasWritable && !wasReadable {
		return
	}
	os.Remove(filepath.Join(d.dir, validMark))
	d.m.CacheDisk.Set(0)
	d.m.CacheFaults.WithLabelValues(fault).Inc()
	d.log.Error("edge cache: disk tier disabled; deliveries go on from memory and the origin",
		"fault", fault, "reads", d.readable.Load(), "dir", d.dir, "err", err)
}

// panicError is a panic recovered from Badger.
type panicError struct {
	what string
	v    any
}

func (e *panicError) Error() string {
	s := fmt.Sprint(e.v)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return e.what + " panicked: " + s
}

// safely runs f, turning a panic into a *panicError.
func safely(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{what, r}
		}
	}()
	return f()
}
