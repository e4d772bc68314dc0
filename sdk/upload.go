package sdk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// DefaultChunkSize is the part size of chunked uploads (as the SDKs' 20 MB).
const DefaultChunkSize = 20 << 20

// UploadOptions control UploadFile.
type UploadOptions struct {
	// ChunkSize: files larger than this are sent in parts of this size
	// (X-Unique-Upload-Id and Content-Range); default DefaultChunkSize.
	ChunkSize int64
	// Retries is how many times a request (or one part) is sent again
	// after a transient failure: 429, 503, 502, 504 or a connection
	// error, waiting Retry-After or an exponential backoff from 250 ms.
	Retries int
	// Progress, when set, is told how many bytes of the file have been
	// sent so far; it may go back when a part is sent again.
	Progress func(sent int64)
}

// UploadFile streams a local file to the Upload API (in parts when it is
// large), retrying transient failures; params are signed for each request.
func (c *Client) UploadFile(ctx context.Context, resourceType, path string, params url.Values, o UploadOptions) (map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	size, name := st.Size(), filepath.Base(path)
	if size <= o.ChunkSize {
		return c.retry(ctx, o, func() (map[string]any, error) {
			return c.sendPart(ctx, resourceType, name, io.NewSectionReader(f, 0, size), 0, params, nil, o.Progress)
		})
	}
	id := make([]byte, 16)
	rand.Read(id)
	hdr := http.Header{"X-Unique-Upload-Id": {hex.EncodeToString(id)}}
	var res map[string]any
	for start := int64(0); start < size; start += o.ChunkSize {
		end := min(start+o.ChunkSize, size)
		hdr.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, size))
		res, err = c.retry(ctx, o, func() (map[string]any, error) {
			return c.sendPart(ctx, resourceType, name, io.NewSectionReader(f, start, end-start), start, params, hdr, o.Progress)
		})
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// sendPart posts one multipart request whose file is part (the bytes of
// the file from offset on), streaming the body as it is written.
func (c *Client) sendPart(ctx context.Context, resourceType, name string, part io.Reader, offset int64,
	params url.Values, hdr http.Header, progress func(int64)) (map[string]any, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	signed := c.Sign(cloneValues(params))
	go func() {
		err := func() error {
			for k, vs := range signed {
				for _, v := range vs {
					if err := mw.WriteField(k, v); err != nil {
						return err
					}
				}
			}
			w, err := mw.CreateFormFile("file", name)
			if err != nil {
				return err
			}
			if progress != nil {
				w = &countingWriter{w: w, n: offset, report: progress}
			}
			if _, err := io.Copy(w, part); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(resourceType, "upload"), pr)
	if err != nil {
		pr.Close()
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	defer pr.Close()
	return c.do(req)
}

// retry runs send until it succeeds, fails for good, or the retries are spent.
func (c *Client) retry(ctx context.Context, o UploadOptions, send func() (map[string]any, error)) (map[string]any, error) {
	wait := 250 * time.Millisecond
	for attempt := 0; ; attempt++ {
		res, err := send()
		if err == nil || attempt >= o.Retries || !Transient(err) {
			return res, err
		}
		d := wait
		var ae *APIError
		if errors.As(err, &ae) && ae.RetryAfter > 0 {
			d = ae.RetryAfter
		}
		select {
		case <-ctx.Done():
			return res, err
		case <-time.After(d):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// Transient says whether err is worth trying again: the server was busy
// or unavailable (429, 502, 503, 504), or the connection failed.
func Transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status == 429 || ae.Status == 502 || ae.Status == 503 || ae.Status == 504
	}
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// countingWriter reports the running total of bytes written.
type countingWriter struct {
	w      io.Writer
	n      int64
	report func(int64)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.report(c.n)
	return n, err
}
