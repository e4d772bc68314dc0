package origin

import (
	"context"
	"errors"
	"testing"
	"time"
)

var bg = context.Background()

func TestAdmissionByCost(t *testing.T) {
	depth := 0.0
	a := newAdmission(4, 100, 1, time.Minute, func(d float64) { depth += d })
	big, err := a.acquire(bg, "a", 60)
	if err != nil {
		t.Fatal(err)
	}
	small, err := a.acquire(bg, "a", 40) // fits beside it
	if err != nil {
		t.Fatal(err)
	}
	// A third does not fit in the pixel budget although slots are free: it
	// waits until pixels are released.
	got := make(chan error, 1)
	go func() {
		rel, err := a.acquire(bg, "b", 50)
		if err == nil {
			rel()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("admitted over the budget: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	// The queue holds one waiter: the next is refused at once.
	if _, err := a.acquire(bg, "c", 1); !errors.Is(err, errBusy) {
		t.Errorf("queue full: %v", err)
	}
	big()
	big() // a second release changes nothing
	if err := <-got; err != nil {
		t.Errorf("waiter: %v", err)
	}
	small()
	// A cost above the whole budget is capped: it runs, alone.
	huge, err := a.acquire(bg, "a", 1e12)
	if err != nil {
		t.Fatal(err)
	}
	if a.freePixels != 0 {
		t.Errorf("a capped huge cost left %d pixels free", a.freePixels)
	}
	huge()
	if depth != 0 || a.freePixels != 100 || a.freeSlots != 4 || len(a.inflight) != 0 {
		t.Errorf("not back to idle: depth %v, %d pixels, %d slots, %v", depth, a.freePixels, a.freeSlots, a.inflight)
	}
}

// One client's queue of heavy work does not keep another client waiting
// behind all of it: the client with the least in flight goes first.
func TestAdmissionIsFairBetweenClients(t *testing.T) {
	a := newAdmission(4, 1000, 64, time.Minute, func(float64) {})
	var held []func()
	for range 2 {
		r, _ := a.acquire(bg, "attacker", 10)
		held = append(held, r)
	}
	order := make(chan string, 8)
	admitted := func(client string) {
		r, err := a.acquire(bg, client, 10)
		if err != nil {
			t.Error(err)
			return
		}
		order <- client
		r()
	}
	for range 4 {
		go admitted("attacker")
	}
	for len(a.queueSnapshot()) < 4 {
		time.Sleep(time.Millisecond)
	}
	go admitted("visitor") // after them
	// The attacker holds its share (half the slots): the visitor, queued
	// behind four more of its requests, is admitted at once to a free slot.
	if first := <-order; first != "visitor" {
		t.Errorf("first admitted: %s", first)
	}
	held[0]()
	held[1]()
	for range 4 {
		<-order
	}
}

func TestAdmissionWaitAndCancel(t *testing.T) {
	a := newAdmission(1, 100, 8, 30*time.Millisecond, func(float64) {})
	hold, _ := a.acquire(bg, "x", 1)
	defer hold()
	// Waiting longer than the queue wait is "busy".
	if _, err := a.acquire(bg, "y", 1); !errors.Is(err, errBusy) {
		t.Errorf("after the queue wait: %v", err)
	}
	// The requester's own deadline is its own error.
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := a.acquire(ctx, "y", 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled requester: %v", err)
	}
	if len(a.queueSnapshot()) != 0 {
		t.Error("a waiter that gave up is still queued")
	}
}

func (a *admission) queueSnapshot() []*waiter {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*waiter(nil), a.queue...)
}

// A waiter too big for what is free does not hold up small work beside
// it, until it has waited half the queue wait: then capacity drains for it.
func TestAdmissionPassesOverABigWaiterForAWhile(t *testing.T) {
	a := newAdmission(8, 100, 8, 400*time.Millisecond, func(float64) {})
	running, _ := a.acquire(bg, "a", 50)
	bigDone := make(chan error, 1)
	go func() {
		rel, err := a.acquire(bg, "b", 100)
		if err == nil {
			rel()
		}
		bigDone <- err
	}()
	for len(a.queueSnapshot()) < 1 {
		time.Sleep(time.Millisecond)
	}
	small, err := a.acquire(bg, "c", 10) // fits beside the running one: admitted
	if err != nil {
		t.Fatalf("small work behind a big waiter: %v", err)
	}
	small()
	time.Sleep(250 * time.Millisecond) // the big one has now waited over half the queue wait
	got := make(chan error, 1)
	go func() {
		rel, err := a.acquire(bg, "c", 10)
		if err == nil {
			rel()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("small work admitted past a big waiter that waited long: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	running() // capacity drains: the big one runs, then the small one
	if err := <-bigDone; err != nil {
		t.Errorf("big waiter: %v", err)
	}
	if err := <-got; err != nil {
		t.Errorf("small waiter: %v", err)
	}
}
