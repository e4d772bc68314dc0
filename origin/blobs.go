package origin

import (
	"context"
	"errors"
	"fmt"

	"github.com/edgepix/edgepix/blob"
	"github.com/edgepix/edgepix/catalog"
)

// blobFault marks an error of the blob store as catalog.ErrUnavailable
// unless it says something about the object (missing, too large, a bad
// key): a store that does not answer makes the call worth retrying.
func blobFault(err error) error {
	switch {
	case err == nil, errors.Is(err, blob.ErrNotFound), errors.Is(err, blob.ErrTooLarge),
		errors.Is(err, blob.ErrInvalidKey), errors.Is(err, blob.ErrSize):
		return err
	}
	return fmt.Errorf("%w: blob store: %w", catalog.ErrUnavailable, err)
}

// readBlob reads the object under key, at most limit bytes.
func (s *Server) readBlob(ctx context.Context, key string, limit int64) ([]byte, error) {
	b, err := blob.GetBytes(ctx, s.blobs, key, limit)
	return b, blobFault(err)
}

// writeBlob stores data under key.
func (s *Server) writeBlob(ctx context.Context, key string, data []byte) error {
	return blobFault(blob.PutBytes(ctx, s.blobs, key, data))
}

// dropBlob removes key, logging a failure: what it leaves behind is an
// orphan, never a record pointing at nothing.
func (s *Server) dropBlob(ctx context.Context, key string) {
	if err := s.blobs.Delete(ctx, key); err != nil {
		s.log.Warn("deleting a blob", "key", key, "err", err)
	}
}

// dropBlobs removes everything under the folder prefix, logging a failure.
func (s *Server) dropBlobs(ctx context.Context, prefix string) {
	if err := s.blobs.DeletePrefix(ctx, prefix); err != nil {
		s.log.Warn("deleting blobs", "prefix", prefix, "err", err)
	}
}

// originalLimit bounds the read of an asset's stored file: the size its
// metadata records, and never less than an upload may be.
func (s *Server) originalLimit(a *catalog.Asset) int64 {
	return max(int64(a.Bytes), s.cfg.MaxUploadBytes)
}

// derivedLimit bounds the read of a derived file (or a sprite's CSS and
// JSON): an encoded image of at most --max-pixels pixels stays within 5
// bytes a pixel.
func (s *Server) derivedLimit() int64 { return 5*s.cfg.MaxPixels + 1<<20 }
