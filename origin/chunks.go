package origin

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

var (
	contentRange = regexp.MustCompile(`^bytes (\d+)-(\d+)/(\d+|-1|\*)$`)
	uploadIDRe   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

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
	if !uploadIDRe.MatchString(c.id) || m == nil {
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
// stored (a retried part replaces itself) plus those being written must
// stay within MaxUploadBytes, and a cloud keeps at most
// MaxOpenChunkedUploads uploads open (a day without a chunk closes one,
// as Sweep does). done gives the reservation back.
func (s *Server) reserveChunk(cloud, id, key string, n int64) (done func(), err error) {
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
			return nil, &limitError{429, fmt.Sprintf("Too many chunked uploads in progress (%d): finish one first", s.cfg.MaxOpenChunkedUploads)}
		}
		u = &openChunks{}
		ups[id] = u
	}
	keys, err := s.blobs.List(chunkDir(cloud, id))
	if err != nil {
		return nil, err
	}
	held := u.writing + n
	for _, k := range keys {
		if st, en, ok := chunkRange(k); ok && k != key {
			held += en - st + 1
		}
	}
	if held > s.cfg.MaxUploadBytes {
		return nil, &limitError{400, fmt.Sprintf("File size too large. Chunks of upload %s hold %d bytes. Maximum is %d.", id, held, s.cfg.MaxUploadBytes)}
	}
	u.writing += n
	u.touched = now
	return func() {
		b.mu.Lock()
		u.writing -= n
		b.mu.Unlock()
	}, nil
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

// addChunk stores one chunk and, once the total is known and the chunks
// cover the whole file, returns it assembled (and forgets the chunks).
// Chunks may arrive in any order and be retried.
func (s *Server) addChunk(cloud string, c chunk, data []byte) (whole []byte, err error) {
	if size := max(c.total, c.end+1); size > s.cfg.MaxUploadBytes {
		return nil, fmt.Errorf("File size too large. Got %d. Maximum is %d.", size, s.cfg.MaxUploadBytes)
	}
	if int64(len(data)) != c.end-c.start+1 {
		return nil, fmt.Errorf("Chunk size %d does not match Content-Range bytes %d-%d", len(data), c.start, c.end)
	}
	dir := chunkDir(cloud, c.id)
	key := fmt.Sprintf("%s/%020d-%020d", dir, c.start, c.end)
	done, err := s.reserveChunk(cloud, c.id, key, int64(len(data)))
	if err != nil {
		return nil, err
	}
	err = s.blobs.Put(key, data)
	done()
	if err != nil {
		return nil, err
	}
	if c.total < 0 {
		return nil, nil
	}
	s.chunkMu.Lock()
	defer s.chunkMu.Unlock()
	keys, err := s.blobs.List(dir)
	if err != nil {
		return nil, err
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
	whole = make([]byte, 0, c.total)
	for _, k := range parts {
		b, err := s.blobs.Get(k)
		if err != nil {
			return nil, err
		}
		var st int64
		fmt.Sscanf(k[strings.LastIndexByte(k, '/')+1:], "%d-", &st)
		whole = append(whole, b[int64(len(whole))-st:]...)
	}
	s.blobs.DeletePrefix(dir)
	s.forgetChunks(cloud, c.id)
	return whole, nil
}

// chunkTTL is how long an unfinished chunked upload is kept.
const chunkTTL = 24 * time.Hour

// Sweep removes the chunks of uploads abandoned for a day, now and then
// every hour, until ctx ends.
func (s *Server) Sweep(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		for cloud := range s.accounts {
			if n, err := s.blobs.DeleteStale("chunks/"+cloud, chunkTTL); err != nil {
				s.log.Warn("sweeping abandoned chunks", "cloud", cloud, "err", err)
			} else if n > 0 {
				s.log.Info("removed abandoned chunked uploads", "cloud", cloud, "uploads", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
