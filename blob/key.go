package blob

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits shared by every backend: S3's longest key, and the longest file
// name of common file systems.
const (
	maxKeyBytes     = 1024
	maxSegmentBytes = 255
	tmpPrefix       = ".tmp-" // the file store's temporary files
)

// ValidKey returns nil if key can name an object on every backend: one or
// more '/'-separated segments of valid UTF-8 without control characters, no
// leading or trailing '/', no segment empty, "." or ".." or starting with
// ".tmp-", at most 255 bytes a segment and 1024 in all. Otherwise the
// error wraps ErrInvalidKey.
func ValidKey(key string) error {
	why := ""
	switch {
	case key == "":
		why = "empty"
	case len(key) > maxKeyBytes:
		why = "longer than 1024 bytes"
	case !utf8.ValidString(key):
		why = "not UTF-8"
	case strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		why = "control character"
	default:
		for seg := range strings.SplitSeq(key, "/") {
			switch {
			case seg == "":
				why = "empty segment (leading, trailing or double '/')"
			case seg == "." || seg == "..":
				why = "'.' or '..' segment"
			case strings.HasPrefix(seg, tmpPrefix):
				why = "segment starting with " + tmpPrefix
			case len(seg) > maxSegmentBytes:
				why = "segment longer than 255 bytes"
			default:
				continue
			}
			break
		}
	}
	if why != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, why)
	}
	return nil
}

// validPrefix is ValidKey, except that the whole store ("") may be listed.
func validPrefix(prefix string, emptyOK bool) error {
	if prefix == "" && emptyOK {
		return nil
	}
	return ValidKey(prefix)
}
