package origin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/edgepix/edgepix/transform/grammar"
)

// AccessError is a delivery refused for want of a (valid) signature.
type AccessError struct{ Msg string }

func (e *AccessError) Error() string { return e.Msg }

// authorize applies the delivery rules (docs/security.md) to a request
// through p for an asset stored with type typ: every delivery of an
// authenticated asset and the original of a private one need a valid URL
// signature; with strict, unsigned URLs may only use named transformations
// whose allowed_for_strict is set. It runs on the URL's type before the
// lookup and on the stored asset's after it. Edges check the same rules on
// the URL first; this is the check that holds.
func (s *Server) authorize(ctx context.Context, acct Account, p *grammar.Path, typ string) error {
	signed := p.Signature != "" && p.VerifySignature(acct.APISecret)
	switch {
	case p.Signature != "" && !signed:
		return &AccessError{"Invalid URL signature"}
	case signed:
		return nil
	case grammar.NeedsSignature(typ, p):
		return &AccessError{fmt.Sprintf("Signature required: %s assets are delivered through signed URLs only", typ)}
	case !s.cfg.Strict:
		return nil
	case p.Type == "fetch":
		return &AccessError{"Strict transformations: fetch URLs must be signed"}
	}
	names, ok := p.Chain.StrictNames()
	if !ok {
		return &AccessError{"Strict transformations: only signed URLs and named transformations are allowed"}
	}
	for _, name := range names {
		n, found, err := s.named.Get(ctx, acct.Cloud, name)
		if err != nil {
			return err
		}
		if !found {
			return &grammar.Error{Msg: "Unknown transformation t_" + name}
		}
		if !n.AllowedForStrict {
			return &AccessError{"Strict transformations: " + name + " is not allowed for unsigned URLs"}
		}
	}
	return nil
}

// errCloudMismatch answers an internal request whose path names another
// cloud than the one it is for.
var errCloudMismatch = errors.New("Internal request for another cloud")

// publicURL is the delivery URL of p in cloud, signed when the asset's
// type needs it (the URLs in API results work as given).
func (s *Server) publicURL(cloud string, p *grammar.Path) string {
	if grammar.NeedsSignature(p.Type, p) {
		p = p.Signed(s.accounts[cloud].APISecret)
	}
	return s.cfg.PublicURL + "/" + cloud + "/" + p.String()
}

// checkPlugin validates a raw asset that will be named *.wasm (an fn_wasm
// plugin) with the plugin host's limits: at upload and at rename, the two
// ways such a name comes to exist.
func (s *Server) checkPlugin(acct Account, rt, typ, publicID string, data []byte) error {
	if rt != "raw" || !strings.HasSuffix(publicID, ".wasm") || s.plugins == nil {
		return nil
	}
	if typ == "private" {
		return errors.New("Invalid plugin: upload it with type upload or authenticated")
	}
	return s.plugins.Validate(data, acct.PluginLimits())
}
