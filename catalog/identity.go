package catalog

import "fmt"

// Resource and delivery types assets are stored with. Every type that
// reaches a key passes CheckIdentity, so a type can never be a KV
// wildcard, a separator, or something no asset can have.
var (
	// StoredResourceTypes are the resource types assets are stored with.
	StoredResourceTypes = map[string]bool{"image": true, "raw": true}
	// StoredTypes are the delivery types assets are stored with.
	StoredTypes = map[string]bool{"upload": true, "private": true, "authenticated": true,
		"fetch": true, "sprite": true, "multi": true}
)

// InvalidTypeError is a resource or delivery type that names no asset.
type InvalidTypeError struct{ What, Value string }

func (e *InvalidTypeError) Error() string {
	return fmt.Sprintf("Invalid %s: %s", e.What, Quote(e.Value))
}

// Quote keeps a user's value readable and short in a message.
func Quote(v string) string {
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return fmt.Sprintf("%q", v)
}

// CheckIdentity returns an *InvalidTypeError unless rt and typ are types
// an asset can be stored with.
func CheckIdentity(rt, typ string) error {
	if !StoredResourceTypes[rt] {
		return &InvalidTypeError{"resource type", rt}
	}
	if !StoredTypes[typ] {
		return &InvalidTypeError{"type", typ}
	}
	return nil
}
