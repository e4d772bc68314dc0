package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// inProcess runs a plugin in this process the way the host did before it
// moved plugins to worker processes: wazero with WithCloseOnContextDone
// (a termination check at every loop header, so that a deadline can stop
// a loop), or without (full speed, but nothing stops a spinning module,
// and a collection waits for it). For comparison only.
type inProcess struct {
	r    wazero.Runtime
	inst api.Module
	out  *image.NRGBA
}

func newInProcess(wasm []byte, checks bool) (*inProcess, error) {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(checks).WithMemoryLimitPages(2048))
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	_, err := r.NewHostModuleBuilder("env").NewFunctionBuilder().WithFunc(func(uint32, uint32) {}).Export("trace").Instantiate(ctx)
	if err == nil {
		var inst api.Module
		if inst, err = r.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName("").WithStartFunctions()); err == nil {
			if init := inst.ExportedFunction("_initialize"); init != nil {
				_, err = init.Call(ctx)
			}
			return &inProcess{r: r, inst: inst}, err
		}
	}
	r.Close(ctx)
	return nil, err
}

func (p *inProcess) close() { p.r.Close(context.Background()) }

// call runs the ABI on img: alloc, copy in, transform, copy out (into an
// image kept from call to call), dealloc.
func (p *inProcess) call(img *image.NRGBA) error {
	ctx := context.Background()
	mem := p.inst.Memory()
	alloc, transform := p.inst.ExportedFunction("alloc"), p.inst.ExportedFunction("transform")
	w, h := img.Rect.Dx(), img.Rect.Dy()
	r, err := alloc.Call(ctx, uint64(len(img.Pix)))
	if err != nil {
		return err
	}
	ip := r[0]
	if !mem.Write(uint32(ip), img.Pix) {
		return fmt.Errorf("alloc returned %#x, outside memory", ip)
	}
	if r, err = transform.Call(ctx, uint64(w), uint64(h), ip, 0, 0); err != nil {
		return err
	}
	hdr, ok := mem.Read(uint32(r[0]), 8)
	if !ok {
		return fmt.Errorf("output at %#x outside memory", r[0])
	}
	ow, oh := binary.BigEndian.Uint32(hdr), binary.BigEndian.Uint32(hdr[4:])
	data, ok := mem.Read(uint32(r[0])+8, ow*oh*4)
	if !ok {
		return fmt.Errorf("output %dx%d outside memory", ow, oh)
	}
	if p.out == nil || p.out.Rect.Dx() != int(ow) || p.out.Rect.Dy() != int(oh) {
		p.out = image.NewNRGBA(image.Rect(0, 0, int(ow), int(oh)))
	}
	copy(p.out.Pix, data)
	_, err = p.inst.ExportedFunction("dealloc").Call(ctx, ip, uint64(len(img.Pix)))
	return err
}
