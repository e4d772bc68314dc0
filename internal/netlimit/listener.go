// Package netlimit keeps a server accepting connections when the process
// runs out of file descriptors, and raises the descriptor limit at start.
package netlimit

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// Listener is a net.Listener whose Accept waits and retries when accepting
// fails for want of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM) or because a
// client gave up during the handshake, instead of returning the error: an
// HTTP server's Serve would return on it and the process would stop
// serving. The pending connections stay in the kernel's backlog until a
// descriptor is free again.
type Listener struct {
	net.Listener
	onRetry func(error) // called for every error waited out
	closed  chan struct{}
	once    sync.Once
}

// Wrap returns ln retrying temporary accept errors; onRetry (may be nil)
// sees each one, to log and count it.
func Wrap(ln net.Listener, onRetry func(error)) *Listener {
	return &Listener{Listener: ln, onRetry: onRetry, closed: make(chan struct{})}
}

// Backoff bounds: the first retry comes after minDelay, each next one
// after twice the last, at most maxDelay.
const (
	minDelay = 5 * time.Millisecond
	maxDelay = time.Second
)

// Accept waits for the next connection, riding out temporary errors.
func (l *Listener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err == nil || !temporary(err) {
			return c, err
		}
		if l.onRetry != nil {
			l.onRetry(err)
		}
		delay = min(max(2*delay, minDelay), maxDelay)
		t := time.NewTimer(delay)
		select {
		case <-l.closed:
			t.Stop()
			return nil, net.ErrClosed
		case <-t.C:
		}
	}
}

// Close closes the listener, ending an Accept that is waiting to retry.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// temporary says whether accept may succeed later: the process or the
// system is out of descriptors or buffers, or one client's connection
// failed before it was accepted.
func temporary(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EPROTO, syscall.EPERM} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
