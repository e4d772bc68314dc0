package origin

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// fetchTTL is how long a fetched remote image is kept before it is
// fetched again.
const fetchTTL = 7 * 24 * time.Hour

// remote returns the asset of a fetch URL (/image/fetch/<url>), fetching
// and storing the image on first use or once it is older than fetchTTL.
// Concurrent requests fetch once. The account's fetch_domains, when set,
// limit the hosts.
func (s *Server) remote(ctx context.Context, acct Account, u string) (*catalog.Asset, error) {
	a, err := s.assets.Get(ctx, acct.Cloud, "image", "fetch", u)
	if err == nil && time.Since(a.CreatedAt) < fetchTTL {
		return a, nil
	}
	if err != nil && !errors.Is(err, catalog.ErrAssetNotFound) {
		return nil, err
	}
	if err := acct.fetchAllowed(u); err != nil {
		return nil, err
	}
	v, err, _ := s.renders.Do("fetch:"+acct.Cloud+":"+u, func() (any, error) {
		data, _, err := resolveFile(ctx, s.fetch, u, s.cfg.MaxUploadBytes)
		if err != nil {
			return nil, &grammar.Error{Msg: err.Error()}
		}
		info, err := codec.Probe(data)
		if err != nil {
			return nil, &grammar.Error{Msg: "Fetched file is not an image: " + err.Error()}
		}
		if err := codec.CheckPixels("image", info.Width, info.Height, s.cfg.MaxPixels); err != nil {
			return nil, err
		}
		prev := a
		n := &catalog.Asset{Cloud: acct.Cloud, ResourceType: "image", Type: "fetch", PublicID: u, Format: string(info.Format),
			Width: info.Width, Height: info.Height, Pages: max(info.Pages, info.Frames, 1), Bytes: len(data), Tags: []string{},
			CreatedAt: time.Now().UTC().Truncate(time.Second), Version: time.Now().Unix(), AssetID: randomHex(32),
			VersionID: randomHex(32)}
		if prev != nil {
			n.AssetID, n.Version = prev.AssetID, max(n.Version, prev.Version+1)
		}
		sum := md5.Sum(data)
		n.Etag = hex.EncodeToString(sum[:])
		n.BlobKey = originalKey(n)
		if err := s.writeBlob(ctx, n.BlobKey, data); err != nil {
			return nil, err
		}
		if err := s.assets.Put(ctx, n); err != nil {
			s.dropBlob(ctx, n.BlobKey)
			return nil, err
		}
		if prev != nil {
			s.replaced(ctx, prev, true)
		}
		return n, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*catalog.Asset), nil
}

// fetchAllowed checks a fetch URL's host against fetch_domains.
func (a Account) fetchAllowed(raw string) error {
	if len(a.FetchDomains) == 0 {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return &grammar.Error{Msg: "Invalid fetch URL: " + raw}
	}
	host := strings.ToLower(u.Hostname())
	for _, d := range a.FetchDomains {
		if d = strings.ToLower(d); host == d || strings.HasSuffix(host, "."+d) {
			return nil
		}
	}
	return &grammar.Error{Msg: fmt.Sprintf("Fetch from %s is not allowed for this account", host)}
}
