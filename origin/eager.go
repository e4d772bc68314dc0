package origin

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
)

// eagerSpec is one eager transformation: a chain and an optional output
// extension ("c_fill,w_100/png").
type eagerSpec struct {
	Chain string `json:"chain"`
	Ext   string `json:"ext,omitempty"`
}

// String is the spec as the response's `transformation` shows it.
func (e eagerSpec) String() string {
	if e.Ext != "" {
		return e.Chain + "/" + e.Ext
	}
	return e.Chain
}

// eagerResult is one entry of a response's or notification's eager array.
type eagerResult struct {
	Transformation string `json:"transformation"`
	Width          int    `json:"width,omitempty"`
	Height         int    `json:"height,omitempty"`
	Bytes          int    `json:"bytes,omitempty"`
	Format         string `json:"format,omitempty"`
	URL            string `json:"url"`
	SecureURL      string `json:"secure_url"`
	Status         string `json:"status,omitempty"`
	BatchID        string `json:"batch_id,omitempty"`
}

// parseEager reads `eager`: transformations separated by '|', each with an
// optional '/ext' at the end. Every chain must parse.
func parseEager(s string) ([]eagerSpec, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []eagerSpec
	for _, part := range strings.Split(s, "|") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("Invalid eager transformation: empty entry in %q", s)
		}
		spec := eagerSpec{Chain: part}
		if i := strings.LastIndexByte(part, '/'); i >= 0 && !strings.ContainsAny(part[i+1:], "_,:") {
			spec.Chain, spec.Ext = part[:i], strings.ToLower(part[i+1:])
		} else if !strings.ContainsAny(part, "_,:") {
			spec.Chain, spec.Ext = "", strings.ToLower(part)
		}
		if _, ok := codec.ParseFormat(spec.Ext); spec.Ext != "" && !ok {
			return nil, fmt.Errorf("Invalid eager transformation %q: unknown format %q", part, spec.Ext)
		}
		ch, err := grammar.ParseChain(spec.Chain)
		if err != nil {
			return nil, fmt.Errorf("Invalid eager transformation %q: %v", part, err)
		}
		if _, _, _, plugin := ch.SplitPlugin(); plugin {
			return nil, fmt.Errorf("Invalid eager transformation %q: fn_wasm runs at the edge, not eagerly", part)
		}
		spec.Chain = ch.String()
		out = append(out, spec)
	}
	if len(out) > 20 {
		return nil, fmt.Errorf("Too many eager transformations: %d (at most 20)", len(out))
	}
	return out, nil
}

// eagerURL is the delivery URL of an eager derivative, the same path a
// client will request, so the stored derived file is found later.
func (s *Server) eagerPath(a *catalog.Asset, e eagerSpec) string {
	ext := e.Ext
	if ext == "" {
		ext = a.Format
	}
	p := a.ResourceType + "/" + a.Type + "/"
	if e.Chain != "" {
		p += e.Chain + "/"
	}
	return p + "v" + strconv.FormatInt(a.Version, 10) + "/" + a.PublicID + "." + ext
}

// renderEager renders (or finds stored) one eager derivative.
func (s *Server) renderEager(ctx context.Context, a *catalog.Asset, e eagerSpec) (eagerResult, error) {
	r := eagerResult{Transformation: e.String()}
	p, err := grammar.ParsePath(s.eagerPath(a, e))
	if err != nil {
		return r, err
	}
	r.URL = s.publicURL(a.Cloud, p)
	r.SecureURL = r.URL
	d, err := s.derive(ctx, a.Cloud, p, "", nil) // the owner's own API call
	if err != nil {
		return r, err
	}
	info, err := codec.Probe(d.data)
	if err != nil {
		return r, err
	}
	r.Width, r.Height, r.Bytes, r.Format = info.Width, info.Height, len(d.data), string(info.Format)
	return r, nil
}

// eager renders the eager transformations now, or with eager_async
// queues them and returns entries marked processing.
func (s *Server) eager(ctx context.Context, acct Account, a *catalog.Asset, f *form, reqID string) ([]eagerResult, error) {
	specs, err := parseEager(f.get("eager"))
	if err != nil || len(specs) == 0 {
		return nil, err
	}
	if a.ResourceType != "image" {
		return nil, fmt.Errorf("eager transformations need an image, %s is %s", a.PublicID, a.ResourceType)
	}
	out := make([]eagerResult, 0, len(specs))
	if !truthy(f.get("eager_async")) {
		for _, e := range specs {
			r, err := s.renderEager(ctx, a, e)
			if err != nil {
				return nil, fmt.Errorf("eager %s: %w", e, err)
			}
			out = append(out, r)
		}
		return out, nil
	}
	to, _ := notificationURL(f, acct, "eager_notification_url", "notification_url")
	b := newBatch(acct.Cloud, "eager", a.PublicID, len(specs))
	j := &job{Cloud: acct.Cloud, BatchID: b.ID, RequestID: reqID, Notify: to, RT: a.ResourceType, Type: a.Type,
		PublicID: a.PublicID, Version: a.Version, Eager: specs}
	if err := s.enqueue(ctx, "eager", b, j); err != nil {
		return nil, fmt.Errorf("queueing eager transformations: %w", err)
	}
	for _, e := range specs {
		p, err := grammar.ParsePath(s.eagerPath(a, e))
		if err != nil {
			return nil, err
		}
		u := s.publicURL(a.Cloud, p)
		out = append(out, eagerResult{Transformation: e.String(), URL: u, SecureURL: u, Status: "processing", BatchID: b.ID})
	}
	return out, nil
}
