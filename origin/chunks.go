package origin

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edgepix/edgepix/blob"
	"github.com/edgepix/edgepix/catalog"
	"github.com/valyala/fasthttp"
)

var contentRange = regexp.MustCompile(`^bytes (\d+)-(\d+)/(\d+|-1|\*)$`)

// chunk is one part of a chunked upload (X-Unique-Upload-Id plus
// Content-Range, as the SDKs send files larger than their chunk size).
type chunk struct {
	id                string
	start, end, total int64
}

// parseChunk reads the chunk headers; ok is false for a plain upload.
func parseChunk(ctx *fasthttp.RequestCtx) (c chunk, ok bool, err error) {
	c.id = string(ctx.Request.Header.Peek("X-Unique-Upload-Id"))
	cr := string(ctx.Request.Header.Peek("Content-Range"))
	if c.id == "" && cr == "" {
		return c, false, nil
	}
	m := contentRange.FindStringSubmatch(cr)
	if !catalog.ValidID(c.id) || m == nil {
		return c, true, fmt.Errorf("Invalid chunked upload headers: X-Unique-Upload-Id %q, Content-Range %q", c.id, cr)
	}
	c.start, _ = strconv.ParseInt(m[1], 10, 64)
	c.end, _ = strconv.ParseInt(m[2], 10, 64)
	c.total = -1 // unknown until the last chunk (the Node SDK sends /-1 before it)
	if m[3] != "-1" && m[3] != "*" {
		c.total, _ = strconv.ParseInt(m[3], 10, 64)
	}
	if c.end < c.start || (c.total >= 0 && c.end >= c.total) {
		return c, true, fmt.Errorf("Invalid Content-Range %q", cr)
	}
	return c, true, nil
}

// chunkBook keeps, per cloud, the chunked uploads in progress: when each
// was last written and how many bytes are being written to it now.
type chunkBook struct {
	mu   sync.Mutex
	open map[string]map[string]*openChunks // cloud → upload id
}

type openChunks struct {
	touched time.Time
	writing int64
}

// reserve admits n more bytes for the part key of upload id: the parts
// stored (a retried part replaces itself) plus those being written here
// must stay within MaxUploadBytes, and a cloud keeps at most
// MaxOpenChunkedUploads uploads open (a day without a chunk closes one,
// as Sweep does). done gives the reservation back.
func (s *Server) reserveChunk(ctx context.Context, cloud, id, key string, n int64) (done func(), err error) {
	keys, err := blob.Keys(ctx, s.blobs, chunkDir(cloud, id))
	if err != nil {
		return nil, blobFault(err)
	}
	var stored int64
	for _, k := range keys {
		if st, en, ok := chunkRange(k); ok && k != key {
			stored += en - st + 1
		}
	}
	// The store is listed (to forget uploads another origin finished) only
	// when the cap is reached, and never under the lock every chunk takes.
	var open map[string]bool
	for {
		done, full, err := s.holdChunk(cloud, id, stored, n, open)
		if !full || open != nil {
			return done, err
		}
		if open, err = s.openUploads(ctx, cloud); err != nil {
			return nil, err
		}
	}
}

// holdChunk is reserveChunk's bookkeeping, under the lock. With the cap
// on open uploads reached and no listing yet (open nil) it reports full;
// with one, it first forgets the uploads that have no part in the store.
func (s *Server) holdChunk(cloud, id string, stored, n int64, open map[string]bool) (done func(), full bool, err error) {
	b := &s.chunks
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open == nil {
		b.open = map[string]map[string]*openChunks{}
	}
	ups := b.open[cloud]
	if ups == nil {
		ups = map[string]*openChunks{}
		b.open[cloud] = ups
	}
	now := time.Now()
	for uid, u := range ups {
		if u.writing == 0 && now.Sub(u.touched) > chunkTTL {
			delete(ups, uid)
		}
	}
	u := ups[id]
	if u == nil {
		if len(ups) >= s.cfg.MaxOpenChunkedUploads {
			if open == nil {
				return nil, true, nil
			}
			for uid, u := range ups { // assembled (or swept) by another origin
				if u.writing == 0 && !open[uid] {
					delete(ups, uid)
				}
			}
		}
		if len(ups) >= s.cfg.MaxOpenChunkedUploads {
			return nil, false, &limitError{429, fmt.Sprintf("Too many chunked uploads in progress (%d): finish one first", s.cfg.MaxOpenChunkedUploads)}
		}
		u = &openChunks{}
		ups[id] = u
	}
	if held := stored + u.writing + n; held > s.cfg.MaxUploadBytes {
		return nil, false, &limitError{400, fmt.Sprintf("File size too large. Chunks of upload %s hold %d bytes. Maximum is %d.", id, held, s.cfg.MaxUploadBytes)}
	}
	u.writing += n
	u.touched = now
	return func() {
		b.mu.Lock()
		u.writing -= n
		b.mu.Unlock()
	}, false, nil
}

// openUploads lists the ids of cloud's chunked uploads that have parts in
// the store.
func (s *Server) openUploads(ctx context.Context, cloud string) (map[string]bool, error) {
	keys, err := blob.Keys(ctx, s.blobs, "chunks/"+cloud)
	if err != nil {
		return nil, blobFault(err)
	}
	open := map[string]bool{}
	for _, k := range keys {
		if id, _, ok := strings.Cut(strings.TrimPrefix(k, "chunks/"+cloud+"/"), "/"); ok {
			open[id] = true
		}
	}
	return open, nil
}

// forgetChunks closes upload id once assembled.
func (s *Server) forgetChunks(cloud, id string) {
	s.chunks.mu.Lock()
	delete(s.chunks.open[cloud], id)
	s.chunks.mu.Unlock()
}

func chunkDir(cloud, id string) string { return "chunks/" + cloud + "/" + id }

// chunkRange reads the byte range a stored part's key names.
func chunkRange(key string) (start, end int64, ok bool) {
	_, err := fmt.Sscanf(key[strings.LastIndexByte(key, '/')+1:], "%d-%d", &start, &end)
	return start, end, err == nil && end >= start
}

// addChunk stores one chunk and reports whether, the total being known,
// the stored chunks cover the whole file. Chunks may arrive in any order,
// at any origin, and be retried.
func (s *Server) addChunk(ctx context.Context, cloud string, c chunk, data []byte) (covered bool, err error) {
	if size := max(c.total, c.end+1); size > s.cfg.MaxUploadBytes {
		return false, fmt.Errorf("File size too large. Got %d. Maximum is %d.", size, s.cfg.MaxUploadBytes)
	}
	if int64(len(data)) != c.end-c.start+1 {
		return false, fmt.Errorf("Chunk size %d does not match Content-Range bytes %d-%d", len(data), c.start, c.end)
	}
	key := fmt.Sprintf("%s/%020d-%020d", chunkDir(cloud, c.id), c.start, c.end)
	done, err := s.reserveChunk(ctx, cloud, c.id, key, int64(len(data)))
	if err != nil {
		return false, err
	}
	err = s.writeBlob(ctx, key, data)
	done()
	if err != nil || c.total < 0 {
		return false, err
	}
	parts, err := s.chunkParts(ctx, cloud, c)
	return parts != nil, err
}

// chunkParts returns the stored chunks that make up the file, in order,
// or nil while some bytes are missing.
func (s *Server) chunkParts(ctx context.Context, cloud string, c chunk) ([]string, error) {
	keys, err := blob.Keys(ctx, s.blobs, chunkDir(cloud, c.id))
	if err != nil {
		return nil, blobFault(err)
	}
	var next int64
	var parts []string
	for _, k := range keys { // sorted by start
		st, en, ok := chunkRange(k)
		if !ok || en >= c.total {
			continue
		}
		if st <= next && en >= next {
			parts = append(parts, k)
			next = en + 1
		}
	}
	if next < c.total {
		return nil, nil
	}
	return parts, nil
}

// assemble reads the chunks of a covered upload into one file.
func (s *Server) assemble(ctx context.Context, cloud string, c chunk) ([]byte, error) {
	parts, err := s.chunkParts(ctx, cloud, c)
	if err != nil {
		return nil, err
	}
	if parts == nil {
		return nil, fmt.Errorf("%w: chunks of upload %s vanished", catalog.ErrUnavailable, c.id)
	}
	whole := make([]byte, 0, c.total)
	for _, k := range parts {
		st, en, _ := chunkRange(k)
		b, err := s.readBlob(ctx, k, en-st+1)
		if err != nil {
			return nil, err
		}
		whole = append(whole, b[int64(len(whole))-st:]...)
	}
	return whole, nil
}

// chunkTTL is how long an unfinished chunked upload is kept.
const chunkTTL = 24 * time.Hour
