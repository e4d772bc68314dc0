package edge

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ErrCacheAbandoned is returned (wrapped) by CloseWithin when the edge
// cache's disk tier could not be closed safely within the deadline and was
// left behind: Badger may still be running in the background (it retries a
// failing flush forever), and its directory is rebuilt at the next start.
var ErrCacheAbandoned = errors.New("edge cache abandoned")

// DefaultCloseTimeout bounds Close.
const DefaultCloseTimeout = 10 * time.Second

// CloseWithin closes the connections to the origin and the cache, waiting
// at most d for the cache; past d (or at once, if closing would be unsafe)
// the cache is abandoned and the error wraps ErrCacheAbandoned. It never
// waits longer than d.
func (s *Server) CloseWithin(d time.Duration) error {
	s.stopOrigins.Do(s.origins.close)
	s.client.CloseIdleConnections()
	return s.cache.close(d)
}

// close stops the writer and closes Badger within the deadline d.
func (c *cache) close(d time.Duration) error {
	if c.disk == nil {
		return nil
	}
	var err error
	c.disk.closing.Do(func() { err = c.disk.shut(time.Now().Add(d)) })
	return err
}

func (d *diskTier) shut(deadline time.Time) error {
	d.closed.Store(true)
	close(d.stop)
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-d.done:
	case <-t.C:
		return d.abandon("its writer is still inside a Badger call")
	}
	switch {
	case !d.readable.Load():
		// After a failed write Badger's state is unknown: its Close may
		// retry a flush forever or abort the process on an assertion.
		return d.abandon("its disk tier failed earlier")
	case !d.writable.Load():
		// Closing flushes the memtable through a mapping: only with room.
		if err := d.room(d.sizes.flushReserve()); err != nil {
			return d.abandon("no room to flush its memtable: " + err.Error())
		}
	}
	if err := d.closeBadger(deadline); err != nil {
		if errors.Is(err, ErrCacheAbandoned) {
			return err
		}
		return fmt.Errorf("closing the edge cache: %w", err)
	}
	return nil
}

// closeBadger closes Badger, or abandons it at the deadline.
func (d *diskTier) closeBadger(deadline time.Time) error {
	ch := make(chan error, 1)
	go func() { ch <- safely("Badger close", d.db.Close) }()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case err := <-ch:
		return err
	case <-t.C:
		return d.abandon("Badger did not close in time (a flush it cannot finish, such as into a removed or full directory)")
	}
}

// abandon leaves Badger behind, unmarks its directory and says so.
func (d *diskTier) abandon(why string) error {
	d.writable.Store(false)
	d.readable.Store(false)
	os.Remove(filepath.Join(d.dir, validMark))
	d.m.CacheDisk.Set(0)
	d.m.CacheFaults.WithLabelValues("abandoned").Inc()
	d.log.Error("edge cache abandoned at close; its directory is rebuilt at the next start", "dir", d.dir, "why", why)
	return fmt.Errorf("%w (%s): %s", ErrCacheAbandoned, d.dir, why)
}
