package origin

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/edgepix/edgepix/catalog"
	"github.com/valyala/fasthttp"
)

// searchQuery is the Search API request (JSON, as the SDKs send it).
type searchQuery struct {
	Expression string              `json:"expression"`
	SortBy     []map[string]string `json:"sort_by"`
	MaxResults int                 `json:"max_results"`
	NextCursor string              `json:"next_cursor"`
}

// handleSearch serves POST (or GET) resources/search: a Lucene-like
// expression over the cloud's assets (fields public_id, filename, folder,
// resource_type, type, format, tags, context.<key>, bytes, width, height,
// pixels, aspect_ratio, created_at/uploaded_at; =, :, <, <=, >, >=, !=;
// AND, OR, NOT, -, parentheses; a trailing * matches a prefix; a bare word
// matches public_id, filename or a tag), sorted and paged. It scans the
// cloud's assets: fine for the thousands a self-hosted cloud holds.
func (s *Server) handleSearch(ctx *fasthttp.RequestCtx, acct Account, f *form) {
	start := time.Now()
	var q searchQuery
	if mt, _, _ := mime.ParseMediaType(string(ctx.Request.Header.ContentType())); mt == "application/json" && len(ctx.PostBody()) > 0 {
		if err := json.Unmarshal(ctx.PostBody(), &q); err != nil {
			apiError(ctx, 400, "Invalid search request: "+err.Error())
			return
		}
	} else {
		q.Expression, q.NextCursor = f.get("expression"), f.get("next_cursor")
		q.MaxResults, _ = strconv.Atoi(f.get("max_results"))
	}
	if q.MaxResults == 0 {
		q.MaxResults = 50
	}
	if q.MaxResults < 1 || q.MaxResults > 500 {
		apiError(ctx, 400, "max_results must be between 1 and 500")
		return
	}
	match, err := parseSearch(q.Expression)
	if err != nil {
		apiError(ctx, 400, "Invalid search expression: "+err.Error())
		return
	}
	var hits []*catalog.Asset
	for _, rt := range []string{"image", "raw"} {
		page, err := s.assets.List(ctx, acct.Cloud, rt, "", "", "", 1<<30)
		if err != nil {
			failure(ctx, err, 500)
			return
		}
		for _, a := range page.Assets {
			if match(a) {
				hits = append(hits, a)
			}
		}
	}
	if err := sortAssets(hits, q.SortBy); err != nil {
		failure(ctx, err, 400)
		return
	}
	from := 0
	if q.NextCursor != "" {
		if c, ok := unb64(q.NextCursor); ok {
			from, _ = strconv.Atoi(c)
		}
	}
	from = min(max(from, 0), len(hits))
	to := min(from+q.MaxResults, len(hits))
	out := make([]map[string]any, 0, to-from)
	for _, a := range hits[from:to] {
		m := s.brief(a, true, false)
		m["folder"], m["filename"] = path.Dir(a.PublicID), path.Base(a.PublicID)
		if m["folder"] == "." {
			m["folder"] = ""
		}
		m["uploaded_at"], m["pixels"] = m["created_at"], a.Width*a.Height
		if a.Height > 0 {
			m["aspect_ratio"] = float64(a.Width) / float64(a.Height)
		}
		m["context"] = orEmptyMap(a.Context)
		out = append(out, m)
	}
	res := map[string]any{"total_count": len(hits), "time": time.Since(start).Milliseconds(), "resources": out}
	if to < len(hits) {
		res["next_cursor"] = b64(strconv.Itoa(to))
	}
	writeJSON(ctx, res)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func unb64(s string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return string(b), err == nil
}

func orEmptyMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// sortAssets orders by sort_by fields (default created_at desc).
func sortAssets(as []*catalog.Asset, by []map[string]string) error {
	type key struct {
		field string
		desc  bool
	}
	var keys []key
	for _, m := range by {
		for f, d := range m {
			if d != "asc" && d != "desc" {
				return fmt.Errorf("sort direction must be asc or desc, got %q", d)
			}
			keys = append(keys, key{f, d == "desc"})
		}
	}
	if len(keys) == 0 {
		keys = []key{{"created_at", true}}
	}
	slices.SortStableFunc(as, func(a, b *catalog.Asset) int {
		for _, k := range keys {
			c := compareField(a, b, k.field)
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return strings.Compare(a.PublicID, b.PublicID)
	})
	return nil
}

func compareField(a, b *catalog.Asset, field string) int {
	if na, ok := numericField(a, field); ok {
		nb, _ := numericField(b, field)
		switch {
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	}
	return strings.Compare(stringField(a, field), stringField(b, field))
}

// numericField reads bytes, width, height, pixels, aspect_ratio and the
// dates (as unix seconds).
func numericField(a *catalog.Asset, field string) (float64, bool) {
	switch field {
	case "bytes":
		return float64(a.Bytes), true
	case "width":
		return float64(a.Width), true
	case "height":
		return float64(a.Height), true
	case "pixels":
		return float64(a.Width * a.Height), true
	case "aspect_ratio":
		if a.Height == 0 {
			return 0, true
		}
		return float64(a.Width) / float64(a.Height), true
	case "created_at", "uploaded_at":
		return float64(a.CreatedAt.Unix()), true
	}
	return 0, false
}

func stringField(a *catalog.Asset, field string) string {
	switch field {
	case "public_id":
		return a.PublicID
	case "filename":
		return path.Base(a.PublicID)
	case "folder", "asset_folder":
		if d := path.Dir(a.PublicID); d != "." {
			return d
		}
		return ""
	case "resource_type":
		return a.ResourceType
	case "type":
		return a.Type
	case "format":
		return a.Format
	}
	if k, ok := strings.CutPrefix(field, "context."); ok {
		return a.Context[k]
	}
	return ""
}

// matcher tests one asset.
type matcher func(*catalog.Asset) bool

// parseSearch compiles an expression; empty matches everything.
func parseSearch(expr string) (matcher, error) {
	toks, err := tokenize(expr)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return func(*catalog.Asset) bool { return true }, nil
	}
	if len(toks) > maxSearchTokens { // matchers nest as deep as the expression is long
		return nil, fmt.Errorf("expression too long: at most %d terms and operators", maxSearchTokens)
	}
	p := &searchParser{toks: toks}
	m, err := p.or()
	if err == nil && p.i < len(p.toks) {
		err = fmt.Errorf("unexpected %q", p.toks[p.i])
	}
	return m, err
}

// tokenize splits into words, parentheses and quoted strings (kept with
// their quotes so terms can tell them apart).
func tokenize(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case unicode.IsSpace(rune(c)):
			i++
		case c == '(' || c == ')':
			out = append(out, string(c))
			i++
		default:
			j := i
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && s[j] != '(' && s[j] != ')' {
				if s[j] == '"' {
					k := strings.IndexByte(s[j+1:], '"')
					if k < 0 {
						return nil, fmt.Errorf("unterminated quote")
					}
					j += k + 1
				}
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out, nil
}

// Bounds on an expression: the parser recurses on parentheses and NOT,
// the compiled matcher on every operator.
const (
	maxSearchTokens = 512
	maxSearchDepth  = 32
)

type searchParser struct {
	toks  []string
	i     int
	depth int
}

func (p *searchParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *searchParser) or() (matcher, error) {
	left, err := p.and()
	for err == nil && p.peek() == "OR" {
		p.i++
		var right matcher
		if right, err = p.and(); err == nil {
			l, r := left, right
			left = func(a *catalog.Asset) bool { return l(a) || r(a) }
		}
	}
	return left, err
}

func (p *searchParser) and() (matcher, error) {
	left, err := p.unary()
	for err == nil && p.peek() != "" && p.peek() != "OR" && p.peek() != ")" {
		if p.peek() == "AND" {
			p.i++
		}
		var right matcher
		if right, err = p.unary(); err == nil {
			l, r := left, right
			left = func(a *catalog.Asset) bool { return l(a) && r(a) }
		}
	}
	return left, err
}

func (p *searchParser) unary() (matcher, error) {
	t := p.peek()
	if t == "NOT" || t == "(" {
		if p.depth++; p.depth > maxSearchDepth {
			return nil, fmt.Errorf("expression nested too deeply: at most %d levels", maxSearchDepth)
		}
		defer func() { p.depth-- }()
	}
	switch {
	case t == "":
		return nil, fmt.Errorf("expression ends early")
	case t == "NOT":
		p.i++
		m, err := p.unary()
		return func(a *catalog.Asset) bool { return m != nil && !m(a) }, err
	case t == "(":
		p.i++
		m, err := p.or()
		if err == nil && p.peek() != ")" {
			err = fmt.Errorf("missing )")
		}
		p.i++
		return m, err
	case strings.HasPrefix(t, "-") && len(t) > 1:
		p.i++
		m, err := term(t[1:])
		return func(a *catalog.Asset) bool { return m != nil && !m(a) }, err
	}
	p.i++
	return term(t)
}

// term compiles field<op>value or a bare word.
func term(t string) (matcher, error) {
	for _, op := range []string{">=", "<=", "!=", "=", ":", ">", "<"} {
		i := strings.Index(t, op)
		if i <= 0 {
			continue
		}
		field, value := strings.ToLower(t[:i]), strings.Trim(t[i+len(op):], `"`)
		return fieldTerm(field, op, value)
	}
	word := strings.ToLower(strings.Trim(t, `"`))
	return func(a *catalog.Asset) bool {
		if strings.Contains(strings.ToLower(a.PublicID), word) {
			return true
		}
		return slices.ContainsFunc(a.Tags, func(tag string) bool { return strings.EqualFold(tag, word) })
	}, nil
}

func fieldTerm(field, op, value string) (matcher, error) {
	probe := &catalog.Asset{}
	if _, numeric := numericField(probe, field); numeric {
		want, err := searchNumber(field, value)
		if err != nil {
			return nil, err
		}
		return func(a *catalog.Asset) bool {
			v, _ := numericField(a, field)
			switch op {
			case ">":
				return v > want
			case ">=":
				return v >= want
			case "<":
				return v < want
			case "<=":
				return v <= want
			case "!=":
				return v != want
			}
			return v == want
		}, nil
	}
	switch op {
	case "=", ":", "!=":
	default:
		return nil, fmt.Errorf("%s compares only with =, : or !=", field)
	}
	if field != "tags" && !strings.HasPrefix(field, "context.") && stringField(&catalog.Asset{PublicID: "x/y"}, field) == "" &&
		!slices.Contains([]string{"resource_type", "type", "format"}, field) {
		return nil, fmt.Errorf("unknown field %q", field)
	}
	eq := func(s string) bool {
		s, v := strings.ToLower(s), strings.ToLower(value)
		if prefix, ok := strings.CutSuffix(v, "*"); ok {
			return strings.HasPrefix(s, prefix)
		}
		return s == v
	}
	m := func(a *catalog.Asset) bool {
		if field == "tags" {
			return slices.ContainsFunc(a.Tags, eq)
		}
		return eq(stringField(a, field))
	}
	if op == "!=" {
		return func(a *catalog.Asset) bool { return !m(a) }, nil
	}
	return m, nil
}

// searchNumber reads a number, or for dates an ISO date or a relative age
// such as 1d, 2w, 3m, 1y (meaning that long ago).
func searchNumber(field, v string) (float64, error) {
	if field != "created_at" && field != "uploaded_at" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("%s needs a number, got %q", field, v)
		}
		return f, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return float64(t.Unix()), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return float64(t.Unix()), nil
	}
	if n, err := strconv.Atoi(strings.TrimRight(v, "hdwmy")); err == nil && len(v) > 1 {
		unit := map[byte]time.Duration{'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour,
			'm': 30 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}[v[len(v)-1]]
		if unit > 0 {
			return float64(time.Now().Add(-time.Duration(n) * unit).Unix()), nil
		}
	}
	return 0, fmt.Errorf("%s needs a date (2026-01-31) or an age (7d), got %q", field, v)
}
