package plugins

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// module is one compiled plugin and its warm instances.
type module struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	idle     chan api.Module // warm instances
	slots    chan struct{}   // instances alive at once
}

func (m *module) close() {
	ctx := context.Background()
	for {
		select {
		case inst := <-m.idle:
			inst.Close(ctx)
		default:
			m.compiled.Close(ctx)
			return
		}
	}
}

// instance takes a warm instance or makes one (calling _initialize once).
func (m *module) instance(ctx context.Context) (api.Module, error) {
	select {
	case inst := <-m.idle:
		return inst, nil
	default:
	}
	inst, err := m.rt.InstantiateModule(ctx, m.compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, err
	}
	if init := inst.ExportedFunction("_initialize"); init != nil {
		if _, err := init.Call(ctx); err != nil {
			inst.Close(context.Background())
			return nil, fmt.Errorf("_initialize: %w", err)
		}
	}
	return inst, nil
}

// release returns a healthy instance to the pool (or closes it when the
// pool is full).
func (m *module) release(inst api.Module) {
	select {
	case m.idle <- inst:
	default:
		inst.Close(context.Background())
	}
}

// Run calls the plugin on img (straight RGBA) with the metadata JSON and
// returns its output. name labels logs and errors. Any failure discards
// the instance.
func (h *Host) Run(ctx context.Context, name string, wasm []byte, img *image.NRGBA, meta []byte, l Limits) (*image.NRGBA, error) {
	l = l.withDefaults()
	m, err := h.module(ctx, wasm, l)
	if err != nil {
		return nil, err
	}
	select { // bound the instances of one plugin alive at once
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-m.slots }()

	st := &traceState{name: name}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, traceKey{}, st), l.Timeout)
	defer cancel()
	inst, err := m.instance(ctx)
	if err != nil {
		return nil, h.failure(name, st, l, ctx, err)
	}
	out, err := call(ctx, inst, img, meta, l)
	if err != nil {
		inst.Close(context.Background())
		return nil, h.failure(name, st, l, ctx, err)
	}
	m.release(inst)
	return out, nil
}

// failure turns what went wrong into an Error with a status.
func (h *Host) failure(name string, st *traceState, l Limits, ctx context.Context, err error) error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	var exit *sys.ExitError
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeDeadlineExceeded) {
		return &Error{Status: 504, Msg: fmt.Sprintf("Plugin %s timed out after %v", name, l.Timeout)}
	}
	msg := fmt.Sprintf("Plugin %s failed: %v", name, err)
	if st.last != "" {
		msg += " (last trace: " + st.last + ")"
	}
	h.log.Warn("plugin failed", "plugin", name, "err", err)
	return &Error{Status: 500, Msg: msg}
}

// call runs the ABI on one instance: alloc and write the pixels and the
// metadata, transform, then read the big-endian width and height and the
// pixels at the returned pointer, checking every bound.
func call(ctx context.Context, inst api.Module, img *image.NRGBA, meta []byte, l Limits) (*image.NRGBA, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	mem := inst.Memory()
	alloc, dealloc, transform := inst.ExportedFunction("alloc"), inst.ExportedFunction("dealloc"), inst.ExportedFunction("transform")
	put := func(b []byte) (uint32, error) {
		r, err := alloc.Call(ctx, uint64(len(b)))
		if err != nil {
			return 0, err
		}
		p := uint32(r[0])
		if !mem.Write(p, b) {
			return 0, fmt.Errorf("alloc(%d) returned %#x, outside memory", len(b), p)
		}
		return p, nil
	}
	pix := img.Pix
	if img.Stride != w*4 || img.Rect.Min != (image.Point{}) {
		pix = make([]byte, w*h*4)
		for y := 0; y < h; y++ {
			i := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
			copy(pix[y*w*4:], img.Pix[i:i+w*4])
		}
	}
	ip, err := put(pix)
	if err != nil {
		return nil, err
	}
	mp, err := put(meta)
	if err != nil {
		return nil, err
	}
	r, err := transform.Call(ctx, uint64(w), uint64(h), uint64(ip), uint64(mp), uint64(len(meta)))
	if err != nil {
		return nil, err
	}
	op := uint32(r[0])
	if op == 0 {
		return nil, errors.New("transform returned no image (0)")
	}
	hdr, ok := mem.Read(op, 8)
	if !ok {
		return nil, fmt.Errorf("transform returned %#x, outside memory", op)
	}
	ow, oh := int64(binary.BigEndian.Uint32(hdr)), int64(binary.BigEndian.Uint32(hdr[4:]))
	if ow <= 0 || oh <= 0 || ow*oh > l.MaxPixels {
		return nil, &Error{Status: 400, Msg: fmt.Sprintf("Plugin output %dx%d is empty or over the %d pixel limit", ow, oh, l.MaxPixels)}
	}
	n := ow * oh * 4
	if uint64(op)+8+uint64(n) > uint64(mem.Size()) {
		return nil, fmt.Errorf("transform declared %dx%d but its output runs past the end of memory", ow, oh)
	}
	data, _ := mem.Read(op+8, uint32(n))
	out := image.NewNRGBA(image.Rect(0, 0, int(ow), int(oh)))
	copy(out.Pix, data)
	if _, err := dealloc.Call(ctx, uint64(ip), uint64(len(pix))); err != nil {
		return nil, err
	}
	if _, err := dealloc.Call(ctx, uint64(mp), uint64(len(meta))); err != nil {
		return nil, err
	}
	return out, nil
}
