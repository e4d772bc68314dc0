package grammar

import (
	"strconv"
	"strings"
)

// MaxPublicIDLength is the longest public_id accepted (as Cloudinary).
const MaxPublicIDLength = 255

// CheckPublicID returns an error unless id can name an asset: not empty,
// at most MaxPublicIDLength bytes, folders separated by single '/', no
// '.' or '..' folder, no ".." anywhere (so no id can walk out of its cloud
// and type once it is part of a path), and no '\\', '?', '#' or control
// characters. Every public_id that enters edgepix — upload, rename, a
// delivery path, an l_/u_/d_ reference, an fn_wasm plugin — passes here.
func CheckPublicID(id string) error {
	if id == "" || len(id) > MaxPublicIDLength || strings.HasPrefix(id, "/") || strings.HasSuffix(id, "/") ||
		strings.Contains(id, "//") || strings.Contains(id, "..") {
		return errorf("Invalid public_id: %s", quoteID(id))
	}
	for _, seg := range strings.Split(id, "/") {
		if seg == "." {
			return errorf("Invalid public_id: %s", quoteID(id))
		}
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c == 0x7f || c == '\\' || c == '?' || c == '#' {
			return errorf("Invalid public_id: %s", quoteID(id))
		}
	}
	return nil
}

// quoteID keeps an id readable in an error message, whatever it holds.
func quoteID(id string) string {
	if len(id) > 80 {
		id = id[:80] + "..."
	}
	q := strconv.Quote(id)
	return q[1 : len(q)-1]
}

// Delivery types that only signed URLs may reach (see docs/security.md):
// every delivery of an "authenticated" asset, and the original of a
// "private" one. Derived versions of a private asset are public, as on
// Cloudinary (use --strict to stop unsigned new derivations).

// NeedsSignature reports whether delivering an asset stored with type typ
// through p needs a valid URL signature. p's own Type is not consulted:
// callers pass the type the asset is stored with.
func NeedsSignature(typ string, p *Path) bool {
	switch typ {
	case "authenticated":
		return true
	case "private":
		return p.DeliversOriginal()
	}
	return false
}

// DeliversOriginal reports whether p asks for the original file: no
// transformation (whatever the extension: a format change alone gives
// the full original pixels) or a non-image resource, whose bytes are
// always delivered as stored.
func (p *Path) DeliversOriginal() bool {
	return len(p.Chain) == 0 || p.ResourceType != "image"
}

// StrictNames returns the named transformations of a chain made of t_
// components only (the one form --strict lets unsigned URLs use, each name
// still having to allow it); ok is false when any component holds anything
// else. An empty chain (the original) is ok with no names.
func (ch Chain) StrictNames() (names []string, ok bool) {
	for _, c := range ch {
		if len(c.Named) == 0 || len(c.pairs) != 1 {
			return nil, false
		}
		names = append(names, c.Named...)
	}
	return names, true
}
