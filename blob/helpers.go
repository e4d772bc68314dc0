package blob

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// PutBytes stores data under key.
func PutBytes(ctx context.Context, s Store, key string, data []byte) error {
	return s.Put(ctx, key, bytes.NewReader(data), int64(len(data)))
}

// GetBytes reads the object under key into memory, refusing with
// ErrTooLarge one over limit bytes (before reading it, when its size is
// known), so that a caller never holds an unbounded object.
func GetBytes(ctx context.Context, s Store, key string, limit int64) ([]byte, error) {
	rc, info, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if info.Size > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes, limit %d", ErrTooLarge, key, info.Size, limit)
	}
	buf := bytes.NewBuffer(make([]byte, 0, max(info.Size, 0)+1))
	n, err := io.Copy(buf, io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%w: %s is over %d bytes", ErrTooLarge, key, limit)
	}
	return buf.Bytes(), nil
}

// Copy streams the object under src to dst.
func Copy(ctx context.Context, s Store, src, dst string) error {
	rc, info, err := s.Get(ctx, src)
	if err != nil {
		return err
	}
	defer rc.Close()
	return s.Put(ctx, dst, rc, info.Size)
}

// Keys returns the keys under the folder prefix, sorted.
func Keys(ctx context.Context, s Store, prefix string) ([]string, error) {
	var keys []string
	for info, err := range s.List(ctx, prefix) {
		if err != nil {
			return nil, err
		}
		keys = append(keys, info.Key)
	}
	return keys, nil
}

// DeleteStale removes each folder directly under prefix whose objects were
// all last written before cutoff (abandoned work, such as the chunks of an
// upload that never finished), and returns how many it removed. Objects
// directly in prefix are left alone. A folder written to while it is
// removed may lose that write.
func DeleteStale(ctx context.Context, s Store, prefix string, cutoff time.Time) (int, error) {
	if err := validPrefix(prefix, false); err != nil {
		return 0, err
	}
	var stale []string
	cur, curStale := "", false
	for info, err := range s.List(ctx, prefix) {
		if err != nil {
			return 0, err
		}
		rest := strings.TrimPrefix(info.Key, prefix+"/")
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			continue
		}
		// Keys come sorted, so each folder's keys are contiguous.
		if folder := prefix + "/" + rest[:i]; folder != cur {
			if curStale {
				stale = append(stale, cur)
			}
			cur, curStale = folder, true
		}
		if !info.ModTime.Before(cutoff) {
			curStale = false
		}
	}
	if curStale {
		stale = append(stale, cur)
	}
	for n, folder := range stale {
		if err := s.DeletePrefix(ctx, folder); err != nil {
			return n, err
		}
	}
	return len(stale), nil
}

// exact wraps r so that it fails with ErrSize unless it yields exactly
// size bytes; a negative size is unknown and r is returned as it is.
func exact(r io.Reader, size int64) io.Reader {
	if size < 0 {
		return r
	}
	return &exactReader{r: r, left: size, size: size}
}

type exactReader struct {
	r          io.Reader
	left, size int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case e.left < 0:
		return n, fmt.Errorf("%w: the reader yields more than %d bytes", ErrSize, e.size)
	case err == io.EOF && e.left > 0:
		return n, fmt.Errorf("%w: the reader yields %d bytes, not %d", ErrSize, e.size-e.left, e.size)
	}
	return n, err
}

// ctxReader stops a copy once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
