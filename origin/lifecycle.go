package origin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/internal/purge"
)

// assetDir is the blob-store folder of one asset: its original versions
// and its derived files live under it, so deleting the asset is one
// prefix delete. The public_id is hashed: it may hold "/" and be long.
func assetDir(cloud, rt, typ, publicID string) string {
	sum := sha256.Sum256([]byte(rt + "/" + typ + "/" + publicID))
	return "assets/" + cloud + "/" + hex.EncodeToString(sum[:16])
}

func originalKey(a *catalog.Asset) string {
	return fmt.Sprintf("%s/original-v%d", assetDir(a.Cloud, a.ResourceType, a.Type, a.PublicID), a.Version)
}

// Purger carries purges to edges (internal/purge.Publisher): Publish
// returns once the purge stream has taken the purge, or with an error
// after retrying for a while; the purge is then owed and retried in the
// background until the stream takes it.
type Purger interface {
	Publish(purge.Message) error
}

// purge tells every edge to drop the asset's cached entries. The call
// waits for the purge stream's acknowledgement (up to purge.RetryFor);
// past that the purge is retried in the background and the API call
// goes on: the change it made is done, and its purge is owed.
func (s *Server) purge(a *catalog.Asset) {
	if s.purges == nil {
		return
	}
	s.purges.Publish(purge.Message{Cloud: a.Cloud, ResourceType: a.ResourceType, Type: a.Type, PublicID: a.PublicID})
}

// removeAsset deletes the metadata first (the asset disappears at once),
// then its files, then purges edges. Cloudinary purges only with
// invalidate=true; edgepix purges always, since a deleted asset's cached
// renditions must not outlive it.
func (s *Server) removeAsset(ctx context.Context, a *catalog.Asset) error {
	if err := s.assets.Delete(ctx, a); err != nil {
		return err
	}
	s.dropBlobs(ctx, assetDir(a.Cloud, a.ResourceType, a.Type, a.PublicID))
	s.purge(a)
	return nil
}

// replaced drops what an overwritten version leaves behind: its original
// and its derived files (its own folder: files of the new version, which
// workers and deliveries may already be writing, are not touched), then
// purges edges when asked to.
func (s *Server) replaced(ctx context.Context, prev *catalog.Asset, invalidate bool) {
	s.dropBlob(ctx, prev.BlobKey)
	if prev.Type == "sprite" {
		s.dropBlob(ctx, auxKey(prev, "css"))
		s.dropBlob(ctx, auxKey(prev, "json"))
	}
	s.dropBlobs(ctx, derivedDir(prev))
	if invalidate {
		s.purge(prev)
	}
}

// derivedDir is the folder of the derived files of a's version.
func derivedDir(a *catalog.Asset) string {
	return fmt.Sprintf("%s/derived-v%d", assetDir(a.Cloud, a.ResourceType, a.Type, a.PublicID), a.Version)
}
