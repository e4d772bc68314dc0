package origin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/valyala/fasthttp"
)

// maxExplodePages bounds one explode.
const maxExplodePages = 500

// handleExplode serves POST image/explode: every page of a PDF (or frame
// of an animation) is rendered in the background with the transformation,
// whose pg_all names where the page number goes, then a notification
// lists the page images.
func (s *Server) handleExplode(ctx *fasthttp.RequestCtx, acct Account, rt string) {
	f, ok := signedForm(ctx, acct)
	if !ok {
		return
	}
	id, ok := f.required(ctx, "public_id")
	if !ok {
		return
	}
	to, err := notificationURL(f, acct, "notification_url")
	if err != nil {
		failure(ctx, err, 400)
		return
	}
	tx, err := explodeChain(f.get("transformation"))
	if err != nil {
		failure(ctx, err, 400)
		return
	}
	format := strings.ToLower(f.get("format"))
	if format == "" {
		format = "png"
	}
	if _, ok := codec.ParseFormat(format); !ok {
		apiError(ctx, 400, "Invalid format for explode: "+format)
		return
	}
	typ, ok := typeParam(ctx, f, "type", catalog.StoredTypes)
	if !ok {
		return
	}
	a, ok := s.lookup(ctx, acct.Cloud, "image", typ, id)
	if !ok {
		return
	}
	if a.Pages < 2 && a.Format != "pdf" {
		apiError(ctx, 400, fmt.Sprintf("%s has a single page: nothing to explode", id))
		return
	}
	if a.Pages > maxExplodePages {
		apiError(ctx, 400, fmt.Sprintf("%s has %d pages: at most %d can be exploded", id, a.Pages, maxExplodePages))
		return
	}
	specs := make([]eagerSpec, 0, a.Pages)
	for n := 1; n <= a.Pages; n++ {
		specs = append(specs, eagerSpec{Chain: strings.Replace(tx, "pg_all", "pg_"+strconv.Itoa(n), 1), Ext: format})
	}
	b := newBatch(acct.Cloud, "explode", a.PublicID, len(specs))
	j := &job{Cloud: acct.Cloud, BatchID: b.ID, RequestID: requestID(ctx), Notify: to, RT: a.ResourceType,
		Type: a.Type, PublicID: a.PublicID, Version: a.Version, Eager: specs}
	if err := s.enqueue(ctx, "explode", b, j); err != nil {
		failure(ctx, fmt.Errorf("queueing the explode: %w", err), 500)
		return
	}
	writeJSON(ctx, map[string]any{"status": "processing", "batch_id": b.ID})
}

// explodeChain checks that the transformation holds exactly one pg_all
// and returns its canonical form.
func explodeChain(s string) (string, error) {
	ch, err := grammar.ParseChain(s)
	if err != nil {
		return "", fmt.Errorf("Invalid transformation: %v", err)
	}
	n := 0
	for _, c := range ch {
		if c.Page != nil && c.Page.All {
			n++
		}
	}
	if n != 1 {
		return "", errors.New("Transformation must contain exactly one pg_all")
	}
	return ch.String(), nil
}

// runExplode renders every page and reports them like eager results.
func (s *Server) runExplode(ctx context.Context, acct Account, j *job, b *catalog.Batch) error {
	a, err := s.assets.Get(ctx, j.Cloud, j.RT, j.Type, j.PublicID)
	if errors.Is(err, catalog.ErrAssetNotFound) || (err == nil && a.Version != j.Version) {
		return fmt.Errorf("%s was deleted or replaced before it was exploded", j.PublicID)
	}
	if err != nil {
		return &statusError{500, err}
	}
	pages := make([]eagerResult, 0, len(j.Eager))
	for _, e := range j.Eager {
		r, err := s.renderEager(ctx, a, e)
		if errors.Is(err, errBusy) || unavailable(err) {
			return err
		}
		if err != nil {
			return fmt.Errorf("page %s: %v", e.Chain, err)
		}
		pages = append(pages, r)
		b.Done = len(pages)
	}
	b.Status, b.Results = catalog.BatchComplete, anySlice(pages)
	var n *catalog.Notice
	if j.Notify != "" {
		n = &catalog.Notice{URL: j.Notify, Type: "explode", ID: deliveryID(j.BatchID, "explode"), Payload: map[string]any{
			"asset_id": a.AssetID, "public_id": a.PublicID, "pages": len(pages), "resources": pages,
			"request_id": j.RequestID}}
	}
	return s.finish(ctx, acct, b, n)
}
