package codec

import (
	"context"
	"io"
)

// CanceledError reports work stopped because its context ended: a
// deadline (errors.Is(err, context.DeadlineExceeded)) or a requester that
// went away (errors.Is(err, context.Canceled)).
type CanceledError struct{ Err error }

func (e *CanceledError) Error() string { return "rendering stopped: " + e.Err.Error() }

func (e *CanceledError) Unwrap() error { return e.Err }

// CheckContext returns a *CanceledError once ctx is done; a nil ctx never
// is.
func CheckContext(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return &CanceledError{Err: err}
	}
	return nil
}

// ctxReader fails every read once its context is done, so that decoders
// which read as they decode (image/png, image/jpeg, image/gif) stop early.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := CheckContext(c.ctx); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// reader returns r, made to stop when ctx is done (nil: never).
func reader(ctx context.Context, r io.Reader) io.Reader {
	if ctx == nil {
		return r
	}
	return ctxReader{ctx, r}
}
