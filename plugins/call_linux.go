package plugins

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Run calls the plugin on img (straight RGBA) with the metadata JSON and
// returns its output: img itself, its pixels overwritten, when the output
// has img's size (the caller must not need the input afterwards), else a
// new image. name labels logs and errors. The call runs in a worker
// process, killed when it overruns the wall or CPU time: that call gets
// 504 and the worker is replaced; any other failure discards the
// instance (or the worker, if it died).
func (h *Host) Run(ctx context.Context, name string, wasm []byte, img *image.NRGBA, meta []byte, l Limits) (*image.NRGBA, error) {
	l = l.withDefaults()
	key, err := h.module(ctx, wasm, l)
	if err != nil {
		return nil, err
	}
	ls, err := h.pool.acquire(ctx, key)
	if err != nil {
		return nil, err
	}
	callCtx, cancel := context.WithTimeout(ctx, l.Timeout)
	defer cancel()
	fired := make(chan struct{})
	stop := context.AfterFunc(callCtx, func() {
		defer close(fired)
		if ctx.Err() == nil {
			ls.w.kill(killDeadline)
		} else {
			ls.w.kill(killCanceled)
		}
	})
	stopCPU := watchCPU(ls.w, l.CPUTime, l.Timeout)
	st := &traceState{name: name}
	out, err := h.call(ls, key, wasm, img, meta, l, st)
	if !stop() {
		<-fired // a kill under way lands on this call, never on the worker's next one
	}
	stopCPU()
	reason := ls.w.reason.Load()
	h.pool.release(ls)
	switch {
	case err == nil:
		return out, nil
	case reason == killDeadline:
		return nil, &Error{Status: 504, Msg: fmt.Sprintf("Plugin %s timed out after %v", name, l.Timeout)}
	case reason == killCPU:
		return nil, &Error{Status: 504, Msg: fmt.Sprintf("Plugin %s used more than %v of CPU time", name, l.CPUTime)}
	case reason == killCanceled || reason == killClose:
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errClosed
	}
	var pe *Error
	if errors.As(err, &pe) {
		return nil, pe
	}
	msg := fmt.Sprintf("Plugin %s failed: %v", name, err)
	if st.last != "" {
		msg += " (last trace: " + st.last + ")"
	}
	h.log.Warn("plugin failed", "plugin", name, "err", err)
	return nil, &Error{Status: 500, Msg: msg}
}

// call runs the ABI through the worker: begin (the worker deallocs the
// previous call's inputs, allocs this one's and writes the metadata), the
// pixels written into the slot's memory here, transform, the output read
// from there after checking every bound. After any failure the slot's
// instance is not used again.
func (h *Host) call(ls *lease, key string, wasm []byte, img *image.NRGBA, meta []byte, l Limits, st *traceState) (_ *image.NRGBA, err error) {
	w, s := ls.w, ls.w.slots[ls.slot]
	iw, ih := img.Rect.Dx(), img.Rect.Dy()
	fresh := s.key != key
	s.key = key
	defer func() {
		if err != nil {
			s.key = "" // the next call here instantiates anew
		}
	}()
	f := &w.f
	f.start(opBegin)
	f.putU32(uint32(ls.slot))
	f.putBytes([]byte(key))
	f.putU32(l.pages())
	if fresh {
		f.putU32(1)
	} else {
		f.putU32(0)
	}
	_, held := w.loaded[key]
	if held {
		f.putBytes(nil)
	} else {
		f.putBytes(wasm)
	}
	w.loaded[key] = w.tick
	drops := w.evictions(key)
	f.putU32(uint32(len(drops)))
	for _, k := range drops {
		f.putBytes([]byte(k))
		delete(w.loaded, k)
	}
	f.putU32(uint32(iw))
	f.putU32(uint32(ih))
	f.putBytes(meta)
	r, err := h.roundTrip(w, st)
	if err != nil {
		if r.status == stInvalid {
			delete(w.loaded, key)
		}
		return nil, err
	}
	size, err := s.mem.fileSize()
	if err != nil {
		return nil, err
	}
	n := uint64(iw) * uint64(ih) * 4
	if uint64(r.a)+n > size {
		return nil, fmt.Errorf("alloc(%d) returned %#x, outside memory", n, r.a)
	}
	row := iw * 4
	for y := range ih {
		i := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		copy(s.mem.mem[int(r.a)+y*row:], img.Pix[i:i+row])
	}

	f.start(opCall)
	f.putU32(uint32(ls.slot))
	if r, err = h.roundTrip(w, st); err != nil {
		return nil, err
	}
	op := uint64(r.a)
	if op == 0 {
		return nil, errors.New("transform returned no image (0)")
	}
	if size, err = s.mem.fileSize(); err != nil {
		return nil, err
	}
	if op+8 > size {
		return nil, fmt.Errorf("transform returned %#x, outside memory", op)
	}
	hdr := s.mem.mem[op : op+8]
	ow, oh := int64(binary.BigEndian.Uint32(hdr)), int64(binary.BigEndian.Uint32(hdr[4:]))
	if ow <= 0 || oh <= 0 || ow > l.MaxPixels || oh > l.MaxPixels || ow*oh > l.MaxPixels {
		return nil, &Error{Status: 400, Msg: fmt.Sprintf("Plugin output %dx%d is empty or over the %d pixel limit", ow, oh, l.MaxPixels)}
	}
	if op+8+uint64(ow*oh*4) > size {
		return nil, fmt.Errorf("transform declared %dx%d but its output runs past the end of memory", ow, oh)
	}
	out := img
	if ow != int64(iw) || oh != int64(ih) {
		out = image.NewNRGBA(image.Rect(0, 0, int(ow), int(oh)))
	}
	row = int(ow) * 4
	src := s.mem.mem[op+8:]
	for y := range int(oh) {
		i := out.PixOffset(out.Rect.Min.X, out.Rect.Min.Y+y)
		copy(out.Pix[i:i+row], src[y*row:])
	}
	return out, nil
}

// roundTrip sends the request in w.f and reads the reply, logging the
// guest's trace lines. A failed status is an error; a worker that does
// not answer is killed.
func (h *Host) roundTrip(w *worker, st *traceState) (reply, error) {
	err := w.f.send(w.req)
	if err == nil {
		err = w.f.recv(w.resp)
	}
	if err != nil && w.reason.Load() != 0 {
		return reply{}, errors.New("worker killed") // Run names why
	}
	if err != nil {
		return reply{}, errors.New(w.died())
	}
	r, err := w.f.getReply()
	if err != nil {
		w.kill(killBroken)
		return r, err
	}
	h.traced(st, r.traces)
	switch r.status {
	case stOK:
		return r, nil
	case stInvalid:
		return r, &Error{Status: 400, Msg: "Invalid plugin: " + r.msg}
	}
	return r, errors.New(r.msg)
}

// evictions are the modules to drop from w so that it keeps at most
// maxLoaded, least recently used first, never one warm in a slot or key.
func (w *worker) evictions(key string) []string {
	var drops []string
	for len(w.loaded)-len(drops) > maxLoaded {
		old, oldest := "", ^uint64(0)
		for k, t := range w.loaded {
			if k != key && t < oldest && !w.holds(k) && !slices.Contains(drops, k) {
				old, oldest = k, t
			}
		}
		if old == "" {
			break
		}
		drops = append(drops, old)
	}
	return drops
}

// watchCPU kills w when it has used limit of CPU time from now on (its
// whole process: the guest runs on one thread, the Go runtime's threads
// add little). It checks when that much wall time has passed, then again
// after what is left; nothing when the wall time limit comes first.
func watchCPU(w *worker, limit, wall time.Duration) (stop func()) {
	if limit <= 0 || limit >= wall {
		return func() {}
	}
	start, err := processCPU(w.pid)
	if err != nil {
		return func() {}
	}
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	var check func()
	check = func() {
		used, err := processCPU(w.pid)
		if err != nil {
			return
		}
		if used-start >= limit {
			mu.Lock()
			if !stopped { // once stop has returned, the worker may serve another call
				w.kill(killCPU)
			}
			mu.Unlock()
			return
		}
		mu.Lock()
		if !stopped {
			t = time.AfterFunc(limit-(used-start), check)
		}
		mu.Unlock()
	}
	mu.Lock()
	t = time.AfterFunc(limit, check)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}

// processCPU is the CPU time a process has used (its CPU clock,
// clock_getcpuclockid's formula).
func processCPU(pid int) (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime((^int32(pid))<<3|2, &ts); err != nil {
		return 0, err
	}
	return time.Duration(ts.Nano()), nil
}
