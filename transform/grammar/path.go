package grammar

import (
	"net/url"
	"strconv"
	"strings"
)

// Path is a parsed delivery path:
// {resource_type}/{type}/[s--SIG--/][component/...][vN/]{public_id}[.ext].
type Path struct {
	ResourceType string
	Type         string
	Signature    string // the text between "s--" and "--", or ""
	RawChain     string // the transformation exactly as in the URL
	Chain        Chain
	Version      int64
	HasVersion   bool
	PublicID     string
	Ext          string
}

var resourceTypes = map[string]bool{"image": true, "raw": true, "video": true}

var deliveryTypes = map[string]bool{
	"upload": true, "private": true, "authenticated": true, "fetch": true,
	"sprite": true, "multi": true, "text": true,
}

// imageExts are the extensions split off an image public_id.
var imageExts = map[string]bool{
	"jpg": true, "jpeg": true, "jpe": true, "png": true, "gif": true, "webp": true,
	"avif": true, "pdf": true, "css": true, "json": true, "bmp": true, "tiff": true, "tif": true, "ico": true,
}

// ParsePath parses a delivery path that follows "/{cloud}/". A query string,
// if present, is ignored (the SDKs append "_a=..."). Leading slashes are
// tolerated.
func ParsePath(p string) (*Path, error) {
	p = strings.TrimLeft(p, "/")
	if head := strings.SplitN(p, "/", 3); len(head) == 3 && head[1] == "fetch" {
		return parseFetch(p)
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	segs := strings.Split(p, "/")
	if len(segs) < 3 {
		return nil, errorf("Invalid delivery URL: %s", p)
	}
	out := &Path{ResourceType: segs[0], Type: segs[1]}
	if !resourceTypes[out.ResourceType] {
		return nil, errorf("Invalid resource type: %s", out.ResourceType)
	}
	if !deliveryTypes[out.Type] {
		return nil, errorf("Invalid delivery type: %s", out.Type)
	}
	segs = segs[2:]
	if s := segs[0]; strings.HasPrefix(s, "s--") && strings.HasSuffix(s, "--") && len(s) > 5 {
		out.Signature = s[3 : len(s)-2]
		segs = segs[1:]
	}
	// Consume the components that parse as transformations (§4.1); a v<digits>
	// component ends them. The last segment is always the public_id.
	var txs []string
	for len(segs) > 1 {
		s := segs[0]
		if v, ok := parseVersion(s); ok {
			out.Version, out.HasVersion = v, true
			segs = segs[1:]
			break
		}
		if !looksLikeComponent(s) {
			break
		}
		txs = append(txs, s)
		segs = segs[1:]
	}
	id := strings.Join(segs, "/")
	out.RawChain = strings.Join(txs, "/")
	ch, err := ParseChain(out.RawChain)
	if err != nil {
		return nil, err
	}
	out.Chain = ch
	out.PublicID, out.Ext = splitExt(id, out.ResourceType)
	if err := CheckPublicID(out.PublicID); err != nil {
		return nil, err
	}
	if out.ResourceType != "image" && !out.Chain.attachmentOnly() {
		return nil, errorf("Transformations are only supported for images, not %s", out.ResourceType)
	}
	return out, nil
}

// parseFetch parses {rt}/fetch/[s--SIG--/][TX/...]<remote URL>: the
// public_id is the whole URL (query included; the SDKs' _a parameter
// dropped), given plainly or percent-encoded; a collapsed "https:/" is
// restored.
func parseFetch(p string) (*Path, error) {
	segs := strings.Split(p, "/")
	out := &Path{ResourceType: segs[0], Type: "fetch"}
	if !resourceTypes[out.ResourceType] {
		return nil, errorf("Invalid resource type: %s", out.ResourceType)
	}
	segs = segs[2:]
	if s := segs[0]; strings.HasPrefix(s, "s--") && strings.HasSuffix(s, "--") && len(s) > 5 {
		out.Signature = s[3 : len(s)-2]
		segs = segs[1:]
	}
	var txs []string
	for len(segs) > 1 && !strings.HasPrefix(segs[0], "http") && looksLikeComponent(segs[0]) {
		txs = append(txs, segs[0])
		segs = segs[1:]
	}
	u := strings.Join(segs, "/")
	if dec, err := url.PathUnescape(u); err == nil && (strings.HasPrefix(u, "http%3A") || strings.HasPrefix(u, "https%3A")) {
		u = dec
	}
	for _, scheme := range []string{"http:/", "https:/"} {
		if strings.HasPrefix(u, scheme) && !strings.HasPrefix(u, scheme+"/") {
			u = scheme + "/" + u[len(scheme):]
		}
	}
	if i := strings.Index(u, "?_a="); i >= 0 {
		u = u[:i]
	} else if i := strings.Index(u, "&_a="); i >= 0 {
		u = u[:i]
	}
	if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return nil, errorf("Invalid fetch URL: %s", u)
	}
	out.RawChain = strings.Join(txs, "/")
	ch, err := ParseChain(out.RawChain)
	if err != nil {
		return nil, err
	}
	out.Chain, out.PublicID = ch, u
	return out, nil
}

// parseVersion recognises a v<digits> component.
func parseVersion(s string) (int64, bool) {
	if len(s) < 2 || s[0] != 'v' {
		return 0, false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s[1:], 10, 64)
	return v, err == nil
}

// splitExt separates a known image extension from the public_id. Raw assets
// keep their extension as part of the public_id.
func splitExt(id, resourceType string) (string, string) {
	if resourceType == "raw" {
		return id, ""
	}
	last := id[strings.LastIndexByte(id, '/')+1:]
	i := strings.LastIndexByte(last, '.')
	if i < 0 {
		return id, ""
	}
	ext := strings.ToLower(last[i+1:])
	if !imageExts[ext] {
		return id, ""
	}
	return id[:len(id)-len(last)+i], ext
}

// Format returns the output format the URL asks for: the chain's last f_,
// else the extension (normalised), else "" (keep the original's).
func (p *Path) Format() string {
	if f := p.Chain.Format(); f != "" {
		return f
	}
	if f, ok := formats[p.Ext]; ok {
		return f
	}
	return p.Ext
}

// String writes p back as the (unescaped) delivery path ParsePath reads:
// internal requests are built from parsed parts this way, never by joining
// strings a client sent.
func (p *Path) String() string {
	var b strings.Builder
	b.WriteString(p.ResourceType)
	b.WriteByte('/')
	b.WriteString(p.Type)
	b.WriteByte('/')
	if p.Signature != "" {
		b.WriteString("s--" + p.Signature + "--/")
	}
	if p.RawChain != "" {
		b.WriteString(p.RawChain)
		b.WriteByte('/')
	}
	if p.HasVersion {
		b.WriteString("v" + strconv.FormatInt(p.Version, 10) + "/")
	}
	b.WriteString(p.PublicID)
	if p.Ext != "" {
		b.WriteString("." + p.Ext)
	}
	return b.String()
}

// Signed returns a copy of p carrying its (short) signature made with
// secret: how an edge vouches for a path it built itself, after it
// authorised the client's URL.
func (p *Path) Signed(secret string) *Path {
	c := *p
	c.Signature = SignURL(c.SignedPart(), secret, false)
	return &c
}

// SignedPart is what a URL signature covers (§4.3): the transformation and
// the public_id with its extension, joined by '/', version excluded.
func (p *Path) SignedPart() string {
	id := p.PublicID
	if p.Ext != "" {
		id += "." + p.Ext
	}
	if p.RawChain == "" {
		return id
	}
	return p.RawChain + "/" + id
}

// CacheKey identifies a derived result: resource and delivery type, the
// canonical chain, version, public_id, extension and the negotiated output
// format (which matters for f_auto).
func (p *Path) CacheKey(format string) string {
	var b strings.Builder
	b.WriteString(p.ResourceType)
	b.WriteByte('/')
	b.WriteString(p.Type)
	b.WriteByte('/')
	b.WriteString(p.Chain.String())
	b.WriteString("/v")
	b.WriteString(strconv.FormatInt(p.Version, 10))
	b.WriteByte('/')
	b.WriteString(p.PublicID)
	b.WriteByte('.')
	b.WriteString(p.Ext)
	b.WriteByte('@')
	b.WriteString(format)
	return b.String()
}

// attachmentOnly reports whether every component is just fl_attachment
// (the one transformation a raw file takes: it changes headers, not bytes).
func (ch Chain) attachmentOnly() bool {
	for _, c := range ch {
		if len(c.pairs) != 1 || len(c.Flags) != 1 || c.Flags[0] != "attachment" {
			return false
		}
	}
	return true
}
