package origin

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
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
	dir := "chunks/" + cloud + "/" + c.id
	if err := s.blobs.Put(fmt.Sprintf("%s/%020d-%020d", dir, c.start, c.end), data); err != nil {
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
		var st, en int64
		if _, err := fmt.Sscanf(k[strings.LastIndexByte(k, '/')+1:], "%d-%d", &st, &en); err != nil || en >= c.total {
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
