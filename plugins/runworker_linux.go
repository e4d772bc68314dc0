package plugins

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// A run worker is this executable started with runWorkerEnv set to the
// compilation cache directory and slotsEnv to its number of instance
// slots: it runs plugin calls, one at a time, for the host that started
// it, with no termination checks in the compiled code (full speed). The
// host kills it when a call passes its deadline, and it dies with the
// host (Pdeathsig). Its files: 3 requests, 4 replies, 5 onwards the
// slots' memories.
const (
	runWorkerEnv = "EDGEPIX_PLUGIN_RUN_WORKER"
	slotsEnv     = "EDGEPIX_PLUGIN_SLOTS"
)

// runWorkerMemory caps a run worker's data segment (its Go heap and
// wazero's structures, not the guests' memories, which are shared
// mappings bounded by the memory limit): a module that makes wazero
// allocate more, say with table.grow, kills its worker, not the edge.
const runWorkerMemory = 1 << 30

// maxTraceLines bounds what one call may log.
const maxTraceLines = 50

func init() {
	if dir, ok := os.LookupEnv(runWorkerEnv); ok {
		n, _ := strconv.Atoi(os.Getenv(slotsEnv))
		os.Exit(runWorker(dir, n))
	}
}

// runner is a run worker's state.
type runner struct {
	cache    wazero.CompilationCache
	runtimes map[uint32]wazero.Runtime // by memory limit in pages
	modules  map[string]loaded         // by key
	slots    []*wslot
	traces   [][]byte // this request's trace lines
	lines    int      // trace lines of this call
}

// loaded is a compiled module and the runtime (memory limit) it is for.
type loaded struct {
	cm wazero.CompiledModule
	rt wazero.Runtime
}

// wslot is one instance slot: its memory and the instance living in it.
type wslot struct {
	mem                        *shm
	key                        string // the module instantiated here
	inst                       api.Module
	alloc, dealloc, transform  api.Function
	pix, pixLen, meta, metaLen uint32
	w, h                       uint32
	pending                    bool // the last call's inputs are not deallocated yet
}

func runWorker(dir string, slots int) int {
	limitWorkerMemory(runWorkerMemory)
	syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitFailed
	}
	r := &runner{cache: cache, runtimes: map[uint32]wazero.Runtime{}, modules: map[string]loaded{}}
	for i := range slots {
		m, err := mapSHM(os.NewFile(uintptr(5+i), "slot"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return exitFailed
		}
		r.slots = append(r.slots, &wslot{mem: m})
	}
	in, out := os.NewFile(3, "requests"), os.NewFile(4, "replies")
	var req, rep frame
	for {
		if err := req.recv(in); err != nil {
			return 0 // the host closed the pipe or went away
		}
		r.traces = r.traces[:0]
		if len(req.b) > 0 && req.b[0] == opBegin {
			r.lines = 0
		}
		st, a, b, err := r.handle(&req)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		rep.putReply(st, msg, r.traces, a, b)
		if rep.send(out) != nil {
			return 0
		}
	}
}

// handle runs one request.
func (r *runner) handle(req *frame) (status, a, b uint32, err error) {
	op, slot := req.getByte(), req.getU32()
	if req.bad || slot >= uint32(len(r.slots)) {
		return stFailed, 0, 0, errFrame
	}
	s := r.slots[slot]
	switch op {
	case opBegin:
		return r.begin(s, req)
	case opCall:
		if s.inst == nil {
			return stFailed, 0, 0, errors.New("no instance in the slot")
		}
		res, err := s.transform.Call(context.Background(), uint64(s.w), uint64(s.h), uint64(s.pix), uint64(s.meta), uint64(s.metaLen))
		if err != nil {
			return r.fail(s, err)
		}
		s.pending = true
		return stOK, uint32(res[0]), 0, nil
	}
	return stFailed, 0, 0, errFrame
}

// begin prepares a call in slot s (see opBegin).
func (r *runner) begin(s *wslot, req *frame) (status, a, b uint32, err error) {
	key, pages, fresh, wasm := string(req.getBytes()), req.getU32(), req.getU32(), req.getBytes()
	for n := req.getU32(); n > 0 && !req.bad; n-- {
		k := string(req.getBytes())
		if m, ok := r.modules[k]; ok {
			m.cm.Close(context.Background())
			delete(r.modules, k)
		}
	}
	w, h := req.getU32(), req.getU32()
	meta := req.getBytes()
	if req.bad {
		return stFailed, 0, 0, errFrame
	}
	if len(wasm) > 0 {
		if err := r.load(key, pages, wasm); err != nil {
			return stInvalid, 0, 0, err
		}
	}
	if s.pending && s.inst != nil && fresh == 0 && s.key == key {
		r.deallocInputs(s)
	}
	s.pending, s.w, s.h = false, w, h
	if fresh == 1 || s.inst == nil || s.key != key {
		if err := r.instantiate(s, key); err != nil {
			return stFailed, 0, 0, err
		}
	}
	size := uint64(s.w) * uint64(s.h) * 4
	if size > 1<<32-1 {
		return stFailed, 0, 0, fmt.Errorf("%dx%d pixels do not fit in 4 GiB", s.w, s.h)
	}
	s.pixLen, s.metaLen = uint32(size), uint32(len(meta))
	if s.pix, err = r.allocate(s, s.pixLen); err != nil {
		return r.fail(s, err)
	}
	if s.meta, err = r.allocate(s, s.metaLen); err != nil {
		return r.fail(s, err)
	}
	s.inst.Memory().Write(s.meta, meta)
	return stOK, s.pix, s.meta, nil
}

// deallocInputs frees the last call's inputs; an instance whose dealloc
// fails is discarded (the call that follows gets a new one).
func (r *runner) deallocInputs(s *wslot) {
	for _, p := range [][2]uint32{{s.pix, s.pixLen}, {s.meta, s.metaLen}} {
		if _, err := s.dealloc.Call(context.Background(), uint64(p[0]), uint64(p[1])); err != nil {
			r.fail(s, err)
			return
		}
	}
}

// allocate calls the guest's alloc and checks the block is inside memory.
func (r *runner) allocate(s *wslot, n uint32) (uint32, error) {
	res, err := s.alloc.Call(context.Background(), uint64(n))
	if err != nil {
		return 0, err
	}
	p := uint32(res[0])
	if uint64(p)+uint64(n) > uint64(s.inst.Memory().Size()) {
		return 0, fmt.Errorf("alloc(%d) returned %#x, outside memory", n, p)
	}
	return p, nil
}

// fail discards the slot's instance after a failed call.
func (r *runner) fail(s *wslot, err error) (status, a, b uint32, _ error) {
	s.inst.Close(context.Background())
	s.inst, s.key = nil, ""
	return stFailed, 0, 0, err
}

// load compiles a module (from the cache the compile worker filled) and
// checks its ABI.
func (r *runner) load(key string, pages uint32, wasm []byte) error {
	if _, ok := r.modules[key]; ok {
		return nil
	}
	rt, err := r.runtime(pages)
	if err != nil {
		return err
	}
	cm, err := rt.CompileModule(context.Background(), wasm)
	if err != nil {
		return err
	}
	if err := checkModule(cm, pages); err != nil {
		cm.Close(context.Background())
		return err
	}
	r.modules[key] = loaded{cm, rt}
	return nil
}

// instantiate replaces the slot's instance with a new one of module key,
// in the slot's memory, and runs _initialize.
func (r *runner) instantiate(s *wslot, key string) error {
	if s.inst != nil {
		s.inst.Close(context.Background())
		s.inst, s.key = nil, ""
	}
	m, ok := r.modules[key]
	if !ok {
		return errors.New("module not loaded")
	}
	ctx := experimental.WithMemoryAllocator(context.Background(), s.mem)
	inst, err := m.rt.InstantiateModule(ctx, m.cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return err
	}
	if init := inst.ExportedFunction("_initialize"); init != nil {
		if _, err := init.Call(context.Background()); err != nil {
			inst.Close(context.Background())
			return fmt.Errorf("_initialize: %w", err)
		}
	}
	s.inst, s.key = inst, key
	s.alloc, s.dealloc, s.transform = inst.ExportedFunction("alloc"), inst.ExportedFunction("dealloc"), inst.ExportedFunction("transform")
	return nil
}

// runtime returns the runtime for a memory limit, with env.trace and WASI.
func (r *runner) runtime(pages uint32) (wazero.Runtime, error) {
	if rt, ok := r.runtimes[pages]; ok {
		return rt, nil
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, runtimeConfig(r.cache, pages))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return nil, err
	}
	_, err := rt.NewHostModuleBuilder("env").NewFunctionBuilder().WithFunc(r.trace).Export("trace").Instantiate(ctx)
	if err != nil {
		return nil, err
	}
	r.runtimes[pages] = rt
	return rt, nil
}

// trace is env.trace: one line, at most 1 KiB, maxTraceLines per request.
func (r *runner) trace(_ context.Context, m api.Module, ptr, size uint32) {
	if r.lines >= maxTraceLines {
		return
	}
	if b, ok := m.Memory().Read(ptr, min(size, 1024)); ok {
		r.lines++
		r.traces = append(r.traces, append([]byte(nil), b...))
	}
}
