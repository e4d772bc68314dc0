package origin

import (
	"context"
	"encoding/json"
	"path"
	"strconv"
	"strings"

	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// derivedRecord is kept beside each derived file (under its key +
// derivedRecordExt), so that the Admin API can list an asset's derived
// files: the file's key is a hash, which says nothing of what it holds.
type derivedRecord struct {
	Transformation string `json:"transformation"` // as the delivery URL wrote it
	Format         string `json:"format"`         // of the file
	Bytes          int    `json:"bytes"`
	Path           string `json:"path"` // its delivery path, version included, unsigned
	Version        int64  `json:"version"`
}

const (
	derivedRecordExt   = ".json"
	derivedRecordLimit = 8 << 10 // a record is a few hundred bytes; a public_id 255
	defaultDerived     = 10      // Cloudinary's default max_results for derived files
	maxDerived         = 500
)

// recordDerived stores the record of the derived file under key, rendered
// for path p of asset a (unless p names another asset, for which a stood
// in). A failure is logged: the file is still served,
// only not listed.
func (s *Server) recordDerived(ctx context.Context, key string, a *catalog.Asset, p *grammar.Path, data []byte, f codec.Format) {
	if p.PublicID != a.PublicID || p.Type != a.Type || p.ResourceType != a.ResourceType {
		return // a default image (d_) standing in for another id: not one of a's URLs
	}
	at := *p
	at.Signature, at.Version, at.HasVersion = "", a.Version, true
	rec, _ := json.Marshal(derivedRecord{Transformation: p.RawChain, Format: string(f), Bytes: len(data),
		Path: at.String(), Version: a.Version})
	if err := s.writeBlob(ctx, key+derivedRecordExt, rec); err != nil {
		s.log.Warn("storing a derived file's record", "key", key, "err", err)
	}
}

// listDerived returns asset a's derived files of its current version as
// the Admin API gives them (transformation, format, bytes, id, url), at
// most limit from after the id cursor, and the cursor of the next page
// ("" at the end).
func (s *Server) listDerived(ctx context.Context, a *catalog.Asset, cursor string, limit int) ([]map[string]any, string, error) {
	out := []map[string]any{}
	for info, err := range s.blobs.List(ctx, derivedDir(a)) {
		if err != nil {
			return nil, "", blobFault(err)
		}
		id, ok := strings.CutSuffix(path.Base(info.Key), derivedRecordExt)
		if !ok || id <= cursor {
			continue
		}
		b, err := s.readBlob(ctx, info.Key, derivedRecordLimit)
		if err != nil {
			continue // deleted meanwhile, or not ours
		}
		var rec derivedRecord
		if json.Unmarshal(b, &rec) != nil || rec.Version != a.Version {
			continue
		}
		p, err := grammar.ParsePath(rec.Path)
		if err != nil {
			continue
		}
		if len(out) == limit {
			return out, out[len(out)-1]["id"].(string), nil
		}
		u := s.publicURL(a.Cloud, p)
		out = append(out, map[string]any{"transformation": rec.Transformation, "format": rec.Format,
			"bytes": rec.Bytes, "id": id, "url": u, "secure_url": u})
	}
	return out, "", nil
}

// derivedPage reads the max_results (default 10, at most 500) and
// derived_next_cursor of an asset details request.
func derivedPage(f *form) (cursor string, limit int) {
	limit = defaultDerived
	if n, err := strconv.Atoi(f.get("max_results")); err == nil && n > 0 {
		limit = min(n, maxDerived)
	}
	return f.get("derived_next_cursor"), limit
}
