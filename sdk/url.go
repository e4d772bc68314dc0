package sdk

import (
	"strconv"
	"strings"

	"github.com/edgepix/edgepix/transform/grammar"
)

// URLOptions shape a delivery URL; zero values give /image/upload/ with no
// version and the public_id's own extension.
type URLOptions struct {
	ResourceType, Type string
	Transformation     string // e.g. "c_fill,w_300,h_200/e_sepia"
	Format             string // extension to add
	Version            int64
	Sign               bool // add s--SIG-- (required with --strict)
}

// URL builds a delivery URL. The transformation is checked and written in
// its canonical form, so equal transformations share one cache entry.
func (c *Client) URL(publicID string, o URLOptions) (string, error) {
	rt, typ := o.ResourceType, o.Type
	if rt == "" {
		rt = "image"
	}
	if typ == "" {
		typ = "upload"
	}
	tx := ""
	if o.Transformation != "" {
		ch, err := grammar.ParseChain(o.Transformation)
		if err != nil {
			return "", err
		}
		tx = ch.String()
	}
	rest := publicID
	if o.Format != "" {
		rest += "." + o.Format
	}
	if o.Version > 0 {
		rest = "v" + strconv.FormatInt(o.Version, 10) + "/" + rest
	}
	if tx != "" {
		rest = tx + "/" + rest
	}
	if o.Sign {
		signed := rest
		if o.Version > 0 { // the version is not part of the signed string
			signed = strings.Replace(signed, "v"+strconv.FormatInt(o.Version, 10)+"/", "", 1)
		}
		rest = "s--" + grammar.SignURL(signed, c.APISecret, false) + "--/" + rest
	}
	return strings.TrimSuffix(c.DeliveryBase, "/") + "/" + c.Cloud + "/" + rt + "/" + typ + "/" + rest, nil
}
