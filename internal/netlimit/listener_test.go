package netlimit

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// starve lowers the soft open-file limit to the next free descriptor, so
// the next accept fails with EMFILE; the returned func restores it.
func starve(t *testing.T) func() {
	t.Helper()
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	low := orig
	low.Cur = uint64(f.Fd())
	f.Close()
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	done := false
	restore := func() {
		if !done {
			syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig)
			done = true
		}
	}
	t.Cleanup(restore)
	return restore
}

type accepted struct {
	c   net.Conn
	err error
}

// acceptWhileStarved starts Accept on a listener with a client waiting
// and no descriptor left, and returns once Accept has met EMFILE.
func acceptWhileStarved(t *testing.T) (*Listener, chan accepted, func()) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	emfile := make(chan struct{}, 100)
	ln := Wrap(raw, func(err error) {
		if errors.Is(err, syscall.EMFILE) {
			emfile <- struct{}{}
		}
	})
	t.Cleanup(func() { ln.Close() })
	client, err := net.Dial("tcp", raw.Addr().String()) // waits in the backlog
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	restore := starve(t)
	got := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		got <- accepted{c, err}
	}()
	select {
	case <-emfile:
	case r := <-got:
		restore()
		t.Fatalf("Accept returned while out of descriptors: %v", r.err)
	case <-time.After(10 * time.Second):
		restore()
		t.Fatal("accept never met EMFILE")
	}
	return ln, got, restore
}

// With no descriptor left, Accept waits instead of returning EMFILE, and
// hands out the waiting connection once a descriptor is free again.
func TestAcceptRidesOutEMFILE(t *testing.T) {
	_, got, restore := acceptWhileStarved(t)
	select {
	case r := <-got:
		restore()
		t.Fatalf("Accept returned while out of descriptors: %v", r.err)
	case <-time.After(100 * time.Millisecond):
	}
	restore()
	r := <-got
	if r.err != nil {
		t.Fatalf("after descriptors came back: %v", r.err)
	}
	r.c.Close()
}

// Close ends an Accept that is waiting to retry.
func TestCloseEndsWaitingAccept(t *testing.T) {
	ln, got, restore := acceptWhileStarved(t)
	ln.Close()
	r := <-got
	restore()
	if !errors.Is(r.err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", r.err)
	}
}

func TestRaiseFileLimit(t *testing.T) {
	var l syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
	orig := l
	l.Cur = min(l.Max, 512)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig)
	got, err := RaiseFileLimit()
	if err != nil || got != l.Max {
		t.Fatalf("RaiseFileLimit = %d, %v; hard limit %d", got, err, l.Max)
	}
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
	if l.Cur != l.Max {
		t.Fatalf("soft limit %d after raising, hard %d", l.Cur, l.Max)
	}
}
