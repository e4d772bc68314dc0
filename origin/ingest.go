package origin

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/edgepix/edgepix/transform/pipeline"
)

// storeUpload validates an upload and stores it: the file, then (with
// eager_async) the queued eager job, then the metadata. So metadata never
// points at a missing file, no stored asset lacks the work it owes, and a
// failure before the metadata leaves nothing behind. Then the replaced
// version's files go and synchronous eager transformations are rendered.
// batchID is set for an async upload. Errors carry the status to answer
// (statusError), 400 otherwise.
func (s *Server) storeUpload(ctx context.Context, acct Account, rt string, f *form, data []byte, filename, batchID, reqID string) (uploadResult, error) {
	a, prev, file, existing, err := s.newAsset(ctx, acct, rt, f, data, filename)
	if err != nil {
		return uploadResult{}, err
	}
	r := s.result(acct, a)
	r.BatchID = batchID
	async := truthy(f.get("eager_async"))
	if existing {
		r.Eager, err = s.eager(ctx, acct, a, f, reqID)
		return r, err
	}
	if err := s.writeBlob(ctx, a.BlobKey, file); err != nil {
		return r, fmt.Errorf("storing the file: %w", err)
	}
	if async {
		if r.Eager, err = s.eager(ctx, acct, a, f, reqID); err != nil {
			s.dropBlob(ctx, a.BlobKey)
			return r, err
		}
	}
	if err := s.assets.Put(ctx, a); err != nil {
		s.dropBlob(ctx, a.BlobKey)
		if len(r.Eager) > 0 { // its job finds no batch and does nothing
			s.batches.Delete(ctx, a.Cloud, r.Eager[0].BatchID)
		}
		return r, fmt.Errorf("storing metadata: %w", err)
	}
	if prev != nil {
		s.replaced(ctx, prev, f.get("invalidate") == "true")
	}
	if !async {
		r.Eager, err = s.eager(ctx, acct, a, f, reqID)
	}
	return r, err
}

// newAsset validates an upload's file and parameters and returns the
// asset it makes and the file to store (the incoming transformation
// applied), with the version it replaces, if any. existing is set when the
// asset exists and must not be replaced (overwrite=false): a is that one.
func (s *Server) newAsset(ctx context.Context, acct Account, rt string, f *form, data []byte, filename string) (a, prev *catalog.Asset, file []byte, existing bool, err error) {
	a, file, err = s.checkUpload(ctx, acct, rt, f, data, filename)
	if err != nil {
		return nil, nil, nil, false, err
	}
	prev, err = s.assets.Get(ctx, a.Cloud, a.ResourceType, a.Type, a.PublicID)
	switch {
	case errors.Is(err, catalog.ErrAssetNotFound):
		prev = nil
	case err != nil:
		return nil, nil, nil, false, err
	case f.get("overwrite") == "false" && f.unsigned: // an anonymous caller may neither replace an asset nor read it back
		return nil, nil, nil, false, &statusError{409, fmt.Errorf("Resource already exists - %s: an unsigned upload cannot replace it", a.PublicID)}
	case f.get("overwrite") == "false":
		return prev, nil, nil, true, nil
	}
	a.Version = time.Now().Unix()
	if prev != nil && a.Version <= prev.Version {
		a.Version = prev.Version + 1
	}
	sum := md5.Sum(file)
	a.Etag = hex.EncodeToString(sum[:])
	a.AssetID = randomHex(32)
	if prev != nil {
		a.AssetID = prev.AssetID
	}
	a.VersionID = randomHex(32)
	a.BlobKey = originalKey(a)
	return a, prev, file, false, nil
}

// checkUpload validates the file and parameters: the asset they make,
// without its version, and the file to store.
func (s *Server) checkUpload(ctx context.Context, acct Account, rt string, f *form, data []byte, filename string) (*catalog.Asset, []byte, error) {
	typ := f.get("type")
	if typ == "" {
		typ = "upload"
	}
	if !ownedTypes[typ] {
		return nil, nil, &statusError{400, &catalog.InvalidTypeError{What: "type", Value: typ}}
	}
	stem := strings.TrimSuffix(path.Base(filename), path.Ext(filename))
	a := &catalog.Asset{Cloud: acct.Cloud, Type: typ, CreatedAt: time.Now().UTC().Truncate(time.Second),
		OriginalFilename: stem, Bytes: len(data), Tags: uniq(f.list("tags"))}
	switch rt {
	case "image", "auto":
		info, err := codec.Probe(data)
		if err != nil {
			if rt == "auto" && errors.Is(err, codec.ErrUnknownFormat) {
				rt = "raw"
				break
			}
			return nil, nil, &statusError{400, fmt.Errorf("Invalid image file: %v", err)}
		}
		if err := codec.CheckPixels("image", info.Width, info.Height, s.cfg.MaxPixels); err != nil {
			return nil, nil, &statusError{400, err}
		}
		// Validation and the incoming transformation are pixel work like
		// renders, and wait for admission with them.
		release, err := s.admitWork(forClient(ctx, "api/"+acct.Cloud), codec.DecodedPixels(info, codec.DecodeOptions{Page: 1, MinWidth: 1, MinHeight: 1}))
		if err != nil {
			return nil, nil, &statusError{429, err}
		}
		vctx, cancel := context.WithTimeout(ctx, s.cfg.RenderTimeout)
		data, err = s.validate(vctx, acct.Cloud, f, data, info, a)
		cancel()
		release()
		if err != nil {
			return nil, nil, &statusError{400, err}
		}
		rt = "image"
	case "raw":
	default:
		return nil, nil, &statusError{400, fmt.Errorf("Invalid resource type: %s", rt)}
	}
	a.ResourceType = rt
	if rt == "raw" {
		a.Format = strings.TrimPrefix(path.Ext(filename), ".")
	}
	if allowed := f.list("allowed_formats"); len(allowed) > 0 && !contains(allowed, a.Format) {
		return nil, nil, &statusError{400, fmt.Errorf("%s format not allowed", a.Format)}
	}
	a.PublicID = publicID(f, stem, a.Format, rt)
	if err := grammar.CheckPublicID(a.PublicID); err != nil {
		return nil, nil, &statusError{400, err}
	}
	if err := s.checkPlugin(acct, rt, typ, a.PublicID, data); err != nil {
		return nil, nil, &statusError{400, err}
	}
	if ctxParam := f.get("context"); ctxParam != "" {
		a.Context = parseContext(ctxParam)
	}
	return a, data, nil
}

// validate decodes an upload to prove it is usable before it is stored
// (JPEGs at 1/8 scale: every entropy-coded segment is still read, so a
// 100 MP upload does not need 400 MB to validate), then applies the
// incoming transformation.
func (s *Server) validate(ctx context.Context, cloud string, f *form, data []byte, info codec.Info, a *catalog.Asset) ([]byte, error) {
	checked, err := codec.Validate(data, codec.DecodeOptions{MaxPixels: s.cfg.MaxPixels, Ctx: ctx})
	if err != nil {
		return nil, fmt.Errorf("Invalid image file: %v", err)
	}
	a.Format, a.Width, a.Height, a.Pages = string(info.Format), info.Width, info.Height, max(checked.Frames, checked.Pages, 1)
	return s.incoming(ctx, cloud, f, data, a)
}

// incoming applies the upload's `transformation` and `format` parameters:
// the stored original is the transformed image.
func (s *Server) incoming(ctx context.Context, cloud string, f *form, data []byte, a *catalog.Asset) ([]byte, error) {
	tx, format := f.get("transformation"), strings.ToLower(f.get("format"))
	if format == "jpeg" {
		format = "jpg"
	}
	if tx == "" && (format == "" || format == a.Format) {
		return data, nil
	}
	ch, err := grammar.ParseChain(tx)
	if err != nil {
		return nil, fmt.Errorf("Invalid transformation: %v", err)
	}
	if ch, err = ch.Expand(resolver{ctx, s.named, cloud}); err != nil {
		return nil, err
	}
	res, err := pipeline.Render(data, pipeline.Request{Chain: ch, Format: format, Env: pipeline.Env{Layers: s.layers(ctx, cloud), Tags: a.Tags, Context: a.Context, Pages: a.Pages},
		Limits: s.limits(ctx)})
	if err != nil {
		return nil, fmt.Errorf("Incoming transformation failed: %w", err)
	}
	a.Format, a.Width, a.Height, a.Pages, a.Bytes = string(res.Format), res.Width, res.Height, res.Frames, len(res.Data)
	return res.Data, nil
}
