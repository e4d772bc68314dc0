package origin

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/notify"
	"github.com/valyala/fasthttp"
)

// handleDestroy serves POST /v1_1/{cloud}/{resource_type}/destroy.
func (s *Server) handleDestroy(ctx *fasthttp.RequestCtx, acct Account, rt string) {
	f, ok := signedForm(ctx, acct)
	if !ok {
		return
	}
	to, err := notificationURL(f, acct, "notification_url")
	if err != nil {
		failure(ctx, err, 400)
		return
	}
	id, ok := f.required(ctx, "public_id")
	if !ok {
		return
	}
	typ, ok := typeParam(ctx, f, "type", catalog.StoredTypes)
	if !ok {
		return
	}
	a, err := s.assets.Get(ctx, acct.Cloud, apiResourceType(rt), typ, id)
	if errors.Is(err, catalog.ErrAssetNotFound) {
		writeJSON(ctx, map[string]string{"result": "not found"})
		return
	}
	if err == nil {
		err = s.removeAsset(ctx, a)
	}
	if err != nil {
		failure(ctx, err, 500)
		return
	}
	if to != "" {
		s.notify(ctx, acct, to, "delete", "", notify.NewID(), map[string]any{"request_id": requestID(ctx),
			"resources": []map[string]any{{"asset_id": a.AssetID, "public_id": a.PublicID,
				"resource_type": a.ResourceType, "type": a.Type, "version": a.Version}}})
	}
	writeJSON(ctx, map[string]string{"result": "ok"})
}

// basicAuth checks the Admin API's HTTP Basic credentials.
func basicAuth(ctx *fasthttp.RequestCtx, acct Account) bool {
	h := string(ctx.Request.Header.Peek("Authorization"))
	enc, ok := strings.CutPrefix(h, "Basic ")
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return false
	}
	want := acct.APIKey + ":" + acct.APISecret
	return subtle.ConstantTimeCompare(raw, []byte(want)) == 1
}
