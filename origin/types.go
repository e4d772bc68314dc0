package origin

import (
	"github.com/edgepix/edgepix/catalog"
	"github.com/valyala/fasthttp"
)

// Resource and delivery types of the API; those assets are stored with
// are catalog.StoredResourceTypes and catalog.StoredTypes, checked by
// catalog.CheckIdentity (the stores call it too).
var (
	// apiResourceTypes are the {resource_type} path values of the API.
	apiResourceTypes = map[string]bool{"image": true, "raw": true, "video": true, "auto": true}
	// ownedTypes are the types an upload or a rename may give an asset
	// (the others are made by edgepix itself).
	ownedTypes = map[string]bool{"upload": true, "private": true, "authenticated": true}
)

// typeParam reads a delivery type parameter (default upload) that must be
// one of allowed, answering 400 itself when it is not.
func typeParam(ctx *fasthttp.RequestCtx, f *form, name string, allowed map[string]bool) (string, bool) {
	t := f.get(name)
	if t == "" {
		t = "upload"
	}
	if !allowed[t] {
		apiError(ctx, 400, (&catalog.InvalidTypeError{What: name, Value: t}).Error())
		return "", false
	}
	return t, true
}
