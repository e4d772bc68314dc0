package origin

import (
	"fmt"

	"github.com/valyala/fasthttp"
)

// Resource and delivery types. Every type that reaches a store key passes
// checkIdentity (the stores call it too), so a type can never be a KV
// wildcard, a separator, or something no asset can have.
var (
	// apiResourceTypes are the {resource_type} path values of the API.
	apiResourceTypes = map[string]bool{"image": true, "raw": true, "video": true, "auto": true}
	// storedResourceTypes are the resource types assets are stored with.
	storedResourceTypes = map[string]bool{"image": true, "raw": true}
	// storedTypes are the delivery types assets are stored with.
	storedTypes = map[string]bool{"upload": true, "private": true, "authenticated": true,
		"fetch": true, "sprite": true, "multi": true}
	// ownedTypes are the types an upload or a rename may give an asset
	// (the others are made by edgepix itself).
	ownedTypes = map[string]bool{"upload": true, "private": true, "authenticated": true}
)

// InvalidTypeError is a resource or delivery type that names no asset.
type InvalidTypeError struct{ What, Value string }

func (e *InvalidTypeError) Error() string {
	return fmt.Sprintf("Invalid %s: %s", e.What, quote(e.Value))
}

// quote keeps a user's value readable and short in a message.
func quote(v string) string {
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return fmt.Sprintf("%q", v)
}

// checkIdentity returns an *InvalidTypeError unless rt and typ are types
// an asset can be stored with.
func checkIdentity(rt, typ string) error {
	if !storedResourceTypes[rt] {
		return &InvalidTypeError{"resource type", rt}
	}
	if !storedTypes[typ] {
		return &InvalidTypeError{"type", typ}
	}
	return nil
}

// typeParam reads a delivery type parameter (default upload) that must be
// one of allowed, answering 400 itself when it is not.
func typeParam(ctx *fasthttp.RequestCtx, f *form, name string, allowed map[string]bool) (string, bool) {
	t := f.get(name)
	if t == "" {
		t = "upload"
	}
	if !allowed[t] {
		apiError(ctx, 400, (&InvalidTypeError{name, t}).Error())
		return "", false
	}
	return t, true
}
