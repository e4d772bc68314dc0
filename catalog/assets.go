package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/edgepix/edgepix/internal/replicated"
	"github.com/nats-io/nats.go/jetstream"
)

// Asset is the stored metadata of one uploaded asset.
type Asset struct {
	AssetID          string            `json:"asset_id"`
	Cloud            string            `json:"cloud"`
	PublicID         string            `json:"public_id"`
	ResourceType     string            `json:"resource_type"`
	Type             string            `json:"type"`
	Format           string            `json:"format"`
	Version          int64             `json:"version"`
	VersionID        string            `json:"version_id"`
	Width            int               `json:"width"`
	Height           int               `json:"height"`
	Pages            int               `json:"pages"`
	Bytes            int               `json:"bytes"`
	Etag             string            `json:"etag"`
	CreatedAt        time.Time         `json:"created_at"`
	Tags             []string          `json:"tags"`
	Context          map[string]string `json:"context,omitempty"`
	OriginalFilename string            `json:"original_filename"`
	BlobKey          string            `json:"blob_key"`
	// Transformation is what a sprite or multi was made with.
	Transformation string `json:"transformation,omitempty"`
}

// ErrAssetNotFound is returned for an unknown asset.
var ErrAssetNotFound = errors.New("asset not found")

// AssetStore keeps asset metadata in the "assets" bucket and a tag index
// in the "tags" bucket.
type AssetStore struct {
	kv   *replicated.Bucket // cloud.rt.type.b64(public_id) → Asset JSON
	tags *replicated.Bucket // cloud.rt.b64(tag).b64(type/public_id) → ""
}

// NewAssetStore opens (or creates) the "assets" and "tags" buckets.
func NewAssetStore(ctx context.Context, js jetstream.JetStream, o Options) (*AssetStore, error) {
	kv, err := bucket(ctx, js, o, "assets", 0)
	if err != nil {
		return nil, err
	}
	tags, err := bucket(ctx, js, o, "tags", 0)
	if err != nil {
		return nil, err
	}
	return &AssetStore{kv: kv, tags: tags}, nil
}

// assetKey encodes the identity of an asset as a valid KV key.
func assetKey(cloud, rt, typ, publicID string) string {
	return cloud + "." + rt + "." + typ + "." + b64(publicID)
}

func tagKey(a *Asset, tag string) string {
	return a.Cloud + "." + a.ResourceType + "." + b64(tag) + "." + b64(a.Type+"/"+a.PublicID)
}

// Get loads an asset.
func (s *AssetStore) Get(ctx context.Context, cloud, rt, typ, publicID string) (*Asset, error) {
	if err := CheckIdentity(rt, typ); err != nil {
		return nil, err
	}
	e, err := s.kv.Get(ctx, assetKey(cloud, rt, typ, publicID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, ErrAssetNotFound
	}
	if err != nil {
		return nil, fault(err)
	}
	var a Asset
	if err := json.Unmarshal(e.Value(), &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Put stores an asset and brings its tag index entries up to date. The
// index is written first: a stale index entry is filtered out on reading,
// a missing one would hide the asset.
func (s *AssetStore) Put(ctx context.Context, a *Asset) error {
	if err := CheckIdentity(a.ResourceType, a.Type); err != nil {
		return err
	}
	for _, t := range a.Tags {
		if _, err := s.tags.Put(ctx, tagKey(a, t), nil); err != nil {
			return fault(err)
		}
	}
	prev, err := s.Get(ctx, a.Cloud, a.ResourceType, a.Type, a.PublicID)
	if err != nil && !errors.Is(err, ErrAssetNotFound) {
		return err
	}
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if _, err = s.kv.Put(ctx, assetKey(a.Cloud, a.ResourceType, a.Type, a.PublicID), b); err != nil {
		return fault(err)
	}
	if prev != nil {
		for _, t := range prev.Tags {
			if !slices.Contains(a.Tags, t) {
				s.tags.Delete(ctx, tagKey(prev, t))
			}
		}
	}
	return nil
}

// Delete removes an asset's metadata and its tag index entries.
func (s *AssetStore) Delete(ctx context.Context, a *Asset) error {
	if err := s.kv.Delete(ctx, assetKey(a.Cloud, a.ResourceType, a.Type, a.PublicID)); err != nil {
		return fault(err)
	}
	for _, t := range a.Tags {
		s.tags.Delete(ctx, tagKey(a, t))
	}
	return nil
}

// Page is one page of a listing; Next is empty on the last page.
type Page struct {
	Assets []*Asset
	Next   string
}

// Cursor is the cursor of a page that ends with a: listings go on after it.
func Cursor(a *Asset) string { return b64(sortKey(a.Type, a.PublicID)) }

// After reports whether a comes after cursor in a listing (always, for
// the empty cursor).
func After(a *Asset, cursor string) bool {
	after, _ := unb64(cursor)
	return cursor == "" || sortKey(a.Type, a.PublicID) > after
}

// sortKey orders assets by public_id, then type; cursors are sort keys.
func sortKey(typ, id string) string { return id + "\x00" + typ }

// List returns assets of a resource type (and type, when typ is not
// empty) whose public_id starts with prefix, ordered by public_id, at most
// limit of them after the cursor.
func (s *AssetStore) List(ctx context.Context, cloud, rt, typ, prefix, cursor string, limit int) (*Page, error) {
	filter := cloud + "." + rt + ".*.>"
	if typ != "" {
		if err := CheckIdentity(rt, typ); err != nil {
			return nil, err
		}
		filter = cloud + "." + rt + "." + typ + ".>"
	}
	refs, err := s.keys(ctx, s.kv, filter, func(key string) (string, string, bool) {
		parts := strings.SplitN(key, ".", 4)
		id, ok := unb64(parts[3])
		return parts[2], id, ok && strings.HasPrefix(id, prefix)
	})
	if err != nil {
		return nil, err
	}
	return s.page(ctx, cloud, rt, refs, cursor, limit, nil)
}

// ByTag returns assets of a resource type carrying tag, like List.
func (s *AssetStore) ByTag(ctx context.Context, cloud, rt, tag, cursor string, limit int) (*Page, error) {
	refs, err := s.keys(ctx, s.tags, cloud+"."+rt+"."+b64(tag)+".*", func(key string) (string, string, bool) {
		parts := strings.SplitN(key, ".", 4)
		ref, ok := unb64(parts[3])
		typ, id, _ := strings.Cut(ref, "/")
		return typ, id, ok
	})
	if err != nil {
		return nil, err
	}
	return s.page(ctx, cloud, rt, refs, cursor, limit, func(a *Asset) bool { return slices.Contains(a.Tags, tag) })
}

// ref names an asset within a resource type.
type ref struct{ typ, id string }

func (s *AssetStore) keys(ctx context.Context, kv *replicated.Bucket, filter string, decode func(string) (string, string, bool)) ([]ref, error) {
	keys, err := kv.KeysMatching(ctx, filter)
	if err != nil {
		return nil, fault(err)
	}
	var refs []ref
	for _, k := range keys {
		if typ, id, ok := decode(k); ok {
			refs = append(refs, ref{typ, id})
		}
	}
	slices.SortFunc(refs, func(a, b ref) int { return strings.Compare(sortKey(a.typ, a.id), sortKey(b.typ, b.id)) })
	return refs, nil
}

// page loads up to limit assets after cursor, skipping vanished ones and
// those keep rejects (stale index entries).
func (s *AssetStore) page(ctx context.Context, cloud, rt string, refs []ref, cursor string, limit int, keep func(*Asset) bool) (*Page, error) {
	after, _ := unb64(cursor)
	p := &Page{}
	for _, r := range refs {
		if cursor != "" && sortKey(r.typ, r.id) <= after {
			continue
		}
		if len(p.Assets) == limit {
			p.Next = Cursor(p.Assets[len(p.Assets)-1])
			break
		}
		a, err := s.Get(ctx, cloud, rt, r.typ, r.id)
		if errors.Is(err, ErrAssetNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(a) {
			p.Assets = append(p.Assets, a)
		}
	}
	return p, nil
}
