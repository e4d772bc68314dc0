package plugins

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// workerSlots is how many warm instances a run worker keeps (each in its
// own shared memory, of any modules).
const workerSlots = 4

// maxLoaded bounds the compiled modules a run worker keeps.
const maxLoaded = 8

// Why a worker was killed.
const (
	killDeadline int32 = iota + 1 // the call's wall time ran out
	killCPU                       // the call's CPU time ran out
	killCanceled                  // the caller went away
	killBroken                    // it died, or broke the protocol
	killClose                     // the host is closing
)

var errClosed = errors.New("plugin host closed")

// pool is the host's run workers: a fixed number of places, each empty or
// holding a worker process, each used by one call at a time. A worker
// that is killed or dies is replaced in the background.
type pool struct {
	exe, dir string
	log      *slog.Logger
	slots    int           // instance slots per worker
	sem      chan struct{} // a token per place in use
	respawns sync.WaitGroup
	live     sync.WaitGroup // workers started and not yet reaped and released

	mu      sync.Mutex
	workers []*worker // nil: none running there
	busy    []bool
	closed  bool
	started []int // pids of every worker started (tests)
}

// worker is one run worker process and what the host knows of its state.
type worker struct {
	cmd    *exec.Cmd
	pid    int
	req    *os.File
	resp   *os.File
	slots  []*hslot
	loaded map[string]uint64 // modules it holds: when last used
	tick   uint64
	f      frame
	reason atomic.Int32  // why it was killed; 0: alive
	exited chan struct{} // closed when the process is reaped
	stderr bytes.Buffer  // its first words, if it dies
}

// hslot is an instance slot as the host sees it.
type hslot struct {
	mem  *shm
	key  string // module last instantiated there ("" none)
	used uint64
}

// lease is a worker held for one call, and the slot the call uses.
type lease struct {
	place int
	w     *worker
	slot  int
}

func newPool(dir string, n int, log *slog.Logger) *pool {
	exe, err := os.Executable()
	if err != nil {
		exe = "" // spawn fails with a clear error
	}
	return &pool{exe: exe, dir: dir, log: log, slots: workerSlots, sem: make(chan struct{}, n), workers: make([]*worker, n), busy: make([]bool, n)}
}

// acquire takes a worker for a call of module key: an idle one holding an
// instance of it if there is one, else any idle one, else it starts one.
// It waits for a free place as long as ctx allows.
func (p *pool) acquire(ctx context.Context, key string) (*lease, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.sem
		return nil, errClosed
	}
	place, score := -1, -1
	for i, w := range p.workers {
		if p.busy[i] {
			continue
		}
		s := 0
		if w != nil {
			s = 1
			if w.holds(key) {
				s = 2
			}
		}
		if s > score {
			place, score = i, s
		}
	}
	p.busy[place] = true
	w := p.workers[place]
	p.mu.Unlock()
	if w == nil {
		var err error
		if w, err = p.spawn(); err != nil {
			p.mu.Lock()
			p.busy[place] = false
			p.mu.Unlock()
			<-p.sem
			return nil, err
		}
		p.mu.Lock()
		p.workers[place] = w
		if p.closed {
			w.kill(killClose)
		}
		p.mu.Unlock()
	}
	return &lease{place: place, w: w, slot: w.pick(key)}, nil
}

// release gives the worker back; one that was killed or died is cleaned
// up and its place refilled in the background.
func (p *pool) release(l *lease) {
	w := l.w
	if w.reason.Load() == 0 {
		p.mu.Lock()
		p.busy[l.place] = false
		p.mu.Unlock()
		<-p.sem
		return
	}
	p.retire(w)
	p.mu.Lock()
	p.workers[l.place] = nil
	closed := p.closed
	if closed {
		p.busy[l.place] = false
	} else {
		p.respawns.Add(1)
	}
	p.mu.Unlock()
	if closed {
		<-p.sem
		return
	}
	go func() { // the place stays busy until its new worker runs
		defer p.respawns.Done()
		nw, err := p.spawn()
		p.mu.Lock()
		if err == nil {
			p.workers[l.place] = nw
			if p.closed {
				nw.kill(killClose)
				p.retire(nw)
				p.workers[l.place] = nil
			}
		}
		p.busy[l.place] = false
		p.mu.Unlock()
		<-p.sem
	}()
}

// close kills every worker and waits until all are reaped and released.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	for i, w := range p.workers {
		if w == nil {
			continue
		}
		w.kill(killClose)
		if !p.busy[i] { // a busy one is retired by its call's release
			p.retire(w)
			p.workers[i] = nil
		}
	}
	p.mu.Unlock()
	p.respawns.Wait()
	p.live.Wait()
}

// spawn starts a run worker with fresh slot memories.
func (p *pool) spawn() (*worker, error) {
	if p.exe == "" {
		return nil, errors.New("plugin workers: cannot find this executable")
	}
	w := &worker{loaded: map[string]uint64{}, exited: make(chan struct{})}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, err
	}
	w.req, w.resp = reqW, respR
	child := []*os.File{reqR, respW}
	defer func() {
		for _, f := range child[:2] {
			f.Close() // the child has its copies
		}
	}()
	for range p.slots {
		m, err := newSHM()
		if err != nil {
			w.free()
			return nil, err
		}
		w.slots = append(w.slots, &hslot{mem: m})
		child = append(child, m.f)
	}
	cmd := exec.Command(p.exe)
	cmd.Env = append(os.Environ(), runWorkerEnv+"="+p.dir, fmt.Sprintf("%s=%d", slotsEnv, p.slots), "GOMAXPROCS=1")
	cmd.ExtraFiles = child
	cmd.Stderr = &limitedWriter{w: &w.stderr, left: 4 << 10}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		w.free()
		return nil, fmt.Errorf("starting a plugin worker: %w", err)
	}
	w.cmd, w.pid = cmd, cmd.Process.Pid
	p.mu.Lock()
	if p.closed { // close is waiting for the live workers: this one never counts
		p.mu.Unlock()
		cmd.Process.Kill()
		cmd.Wait()
		w.free()
		return nil, errClosed
	}
	p.live.Add(1) // under mu, so never after close's Wait began
	p.started = append(p.started, w.pid)
	p.mu.Unlock()
	go func() {
		cmd.Wait()
		close(w.exited)
	}()
	return w, nil
}

// retire kills a worker that is no longer used and frees its pipes and
// memories once it is reaped.
func (p *pool) retire(w *worker) {
	w.kill(killBroken)
	go func() {
		<-w.exited
		w.free()
		p.live.Done()
	}()
}

// free closes the worker's pipes and unmaps its memories.
func (w *worker) free() {
	w.req.Close()
	w.resp.Close()
	for _, s := range w.slots {
		s.mem.close()
	}
}

// kill stops the process (once; the first reason stays) and closes the
// reply pipe, so that a call waiting for a reply returns at once rather
// than when the kernel has torn the process down.
func (w *worker) kill(reason int32) {
	if w.reason.CompareAndSwap(0, reason) {
		w.cmd.Process.Kill()
		w.resp.Close()
	}
}

// holds tells whether an instance of module key is warm in the worker.
func (w *worker) holds(key string) bool {
	for _, s := range w.slots {
		if s.key == key {
			return true
		}
	}
	return false
}

// pick chooses the slot for a call of module key: the one holding it,
// else the least recently used.
func (w *worker) pick(key string) int {
	w.tick++
	best := 0
	for i, s := range w.slots {
		if s.key == key {
			best = i
			break
		}
		if s.used < w.slots[best].used {
			best = i
		}
	}
	w.slots[best].used = w.tick
	return best
}

// died describes how a worker ended, once it has (bounded: it was killed).
func (w *worker) died() string {
	w.kill(killBroken)
	select {
	case <-w.exited:
	case <-time.After(5 * time.Second):
		return "its worker process stopped answering"
	}
	msg := "its worker process died (" + w.cmd.ProcessState.String()
	if line := firstLine(w.stderr.String()); line != "" {
		msg += ": " + line
	}
	return msg + ")"
}
