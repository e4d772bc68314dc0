package origin

import (
	"context"
	"fmt"
	"time"

	"github.com/edgepix/edgepix/catalog"
	"github.com/valyala/fasthttp"
)

// Chunked uploads whose parts reach different origins: every part is
// stored in the blob store, and whichever origin stores one that
// completes the file claims the upload in the catalog (a KV create, so one
// origin wins), assembles it from the store and records the answer it
// gave. A concurrent or retried last part gets that answer; an origin that
// died while assembling leaves a claim that is taken over after
// assemblyStale.
const (
	assemblyStale = 2 * time.Minute
	assemblyWait  = time.Minute // how long a last part waits for another origin's assembly
	assemblyPoll  = 100 * time.Millisecond
)

// chunkPart stores one part of a chunked upload. It answers the request
// itself, unless this part completes the file and this origin assembles
// it: then it returns the whole file, and answered, to be called once the
// upload has been answered, which records that answer for the upload's
// other last parts.
func (s *Server) chunkPart(ctx *fasthttp.RequestCtx, cloud string, c chunk, data []byte) (whole []byte, answered func()) {
	if c.total >= 0 && s.answerAssembled(ctx, cloud, c.id, false) {
		return nil, nil
	}
	covered, err := s.addChunk(ctx, cloud, c, data)
	if err != nil {
		failure(ctx, err, 400)
		return nil, nil
	}
	if !covered {
		writeJSON(ctx, map[string]any{"done": false, "bytes": c.end + 1})
		return nil, nil
	}
	for {
		_, mine, err := s.assemblies.Claim(ctx, cloud, c.id, assemblyStale)
		if err != nil {
			failure(ctx, err, 500)
			return nil, nil
		}
		if mine {
			break
		}
		if s.answerAssembled(ctx, cloud, c.id, true) {
			return nil, nil
		}
	}
	whole, err = s.assemble(ctx, cloud, c)
	if err != nil {
		s.releaseAssembly(ctx, cloud, c.id)
		failure(ctx, err, 500)
		return nil, nil
	}
	return whole, func() { s.recordAssembly(ctx, cloud, c.id) }
}

// answerAssembled answers with the recorded answer of upload id if it has
// one, waiting for it (up to assemblyWait) when wait is set and another
// origin holds the claim. It reports whether it answered; false with wait
// set means the claim went away: claim again.
func (s *Server) answerAssembled(ctx *fasthttp.RequestCtx, cloud, id string, wait bool) bool {
	deadline := time.Now().Add(assemblyWait)
	for {
		a, ok, err := s.assemblies.Get(ctx, cloud, id)
		switch {
		case err != nil:
			failure(ctx, err, 500)
			return true
		case ok && a.Done:
			ctx.SetStatusCode(a.Status)
			ctx.SetContentType("application/json")
			ctx.SetBody(a.Body)
			return true
		case !ok || !wait:
			return false
		case time.Now().After(deadline):
			failure(ctx, fmt.Errorf("%w: upload %s is still being assembled by another origin", catalog.ErrUnavailable, id), 503)
			return true
		}
		select {
		case <-time.After(assemblyPoll):
		case <-ctx.Done(): // the server is shutting down: the client retries elsewhere
			failure(ctx, fmt.Errorf("%w: upload %s is still being assembled", catalog.ErrUnavailable, id), 503)
			return true
		}
	}
}

// recordAssembly keeps the answer an assembled upload got, then drops its
// chunks; a store fault instead gives the claim back, so that the client's
// retry assembles again.
func (s *Server) recordAssembly(ctx *fasthttp.RequestCtx, cloud, id string) {
	status := ctx.Response.StatusCode()
	if status == 503 || status == 429 {
		s.releaseAssembly(ctx, cloud, id)
		return
	}
	if err := s.assemblies.Finish(ctx, cloud, id, status, ctx.Response.Body()); err != nil {
		s.log.Warn("recording a chunked upload's answer", "upload", id, "err", err)
		return // the chunks stay: a retried part assembles again once the claim goes stale
	}
	s.dropBlobs(ctx, chunkDir(cloud, id))
	s.forgetChunks(cloud, id)
}

func (s *Server) releaseAssembly(ctx context.Context, cloud, id string) {
	if err := s.assemblies.Release(ctx, cloud, id); err != nil {
		s.log.Warn("releasing a chunked upload's claim", "upload", id, "err", err)
	}
}
