package origin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

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
}

// ErrAssetNotFound is returned for an unknown asset.
var ErrAssetNotFound = errors.New("asset not found")

// AssetStore keeps asset metadata in a JetStream key-value bucket, so that
// several origin processes on one NATS share it.
type AssetStore struct{ kv jetstream.KeyValue }

// NewAssetStore opens (or creates) the "assets" bucket with file storage.
func NewAssetStore(ctx context.Context, js jetstream.JetStream) (*AssetStore, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: "assets", Storage: jetstream.FileStorage, History: 1,
	})
	if err != nil {
		return nil, err
	}
	return &AssetStore{kv: kv}, nil
}

// assetKey encodes the identity of an asset as a valid KV key.
func assetKey(cloud, rt, typ, publicID string) string {
	return cloud + "." + rt + "." + typ + "." + base64.RawURLEncoding.EncodeToString([]byte(publicID))
}

// Get loads an asset.
func (s *AssetStore) Get(ctx context.Context, cloud, rt, typ, publicID string) (*Asset, error) {
	e, err := s.kv.Get(ctx, assetKey(cloud, rt, typ, publicID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, ErrAssetNotFound
	}
	if err != nil {
		return nil, err
	}
	var a Asset
	if err := json.Unmarshal(e.Value(), &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Put stores an asset.
func (s *AssetStore) Put(ctx context.Context, a *Asset) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = s.kv.Put(ctx, assetKey(a.Cloud, a.ResourceType, a.Type, a.PublicID), b)
	return err
}

// Delete removes an asset's metadata.
func (s *AssetStore) Delete(ctx context.Context, a *Asset) error {
	return s.kv.Delete(ctx, assetKey(a.Cloud, a.ResourceType, a.Type, a.PublicID))
}
