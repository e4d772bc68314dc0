//go:build !linux

package plugins

import (
	"context"
	"image"
	"log/slog"
)

// pool: run workers need Linux (memfd, Pdeathsig).
type pool struct{}

func newPool(string, int, *slog.Logger) *pool { return &pool{} }

func (p *pool) close() {}

// Run refuses to run plugins off Linux (after validating the module).
func (h *Host) Run(ctx context.Context, name string, wasm []byte, img *image.NRGBA, meta []byte, l Limits) (*image.NRGBA, error) {
	if _, err := h.module(ctx, wasm, l.withDefaults()); err != nil {
		return nil, err
	}
	return nil, &Error{Status: 500, Msg: "fn_wasm plugins run only on Linux"}
}
