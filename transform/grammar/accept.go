package grammar

import "strings"

// AcceptClass reduces an Accept header to what matters for f_auto: which of
// AVIF and WebP the client takes ("avif,webp", "avif", "webp" or ""). Edges
// key f_auto results by this class, not by the raw header.
func AcceptClass(accept string) string {
	var avif, webp bool
	for _, part := range strings.Split(accept, ",") {
		mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") &&
			!strings.Contains(params, "q=0.") {
			continue // explicitly refused
		}
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case "image/avif":
			avif = true
		case "image/webp":
			webp = true
		}
	}
	switch {
	case avif && webp:
		return "avif,webp"
	case avif:
		return "avif"
	case webp:
		return "webp"
	}
	return ""
}
