package edge

import (
	"strings"
	"sync"

	"github.com/edgepix/edgepix/transform/grammar"
)

// maxRoutes and maxRouteBytes bound the routes remembered (a few hundred
// bytes each, but a URL may be kilobytes long and a route holds up to four
// keys): past either they are all forgotten and learnt again from the next
// requests. maxRouteBytes is what MemoryLimit counts for them.
const (
	maxRoutes     = 8192
	maxRouteBytes = 8 << 20
)

// maxAccepts bounds the Accept headers whose class is remembered.
const maxAccepts = 256

// acceptClasses are grammar.AcceptClass's answers, in key order.
var acceptClasses = [...]string{"", "webp", "avif", "avif,webp"}

// route is what a delivery URL comes to once parsed and authorised, as
// far as a cached answer goes: the cache keys it reads and the headers
// that depend on the URL alone. Parsing and checking a URL costs more
// than the rest of a hit; a route is remembered by path, so a hit on a
// URL seen before does neither. Routes depend only on the URL and the
// edge's configuration, never on what is cached (purges need not know
// about them).
type route struct {
	keys      [len(acceptClasses)]string // by Accept class; only the first unless auto
	auto      bool                       // f_auto: the key depends on Accept
	immutable bool                       // a versioned URL, or fl_immutable_cache
	// attachment: fl_attachment's file name ("" for the public id's),
	// with the public id's last part and the URL's extension.
	attachment    bool
	name, id, ext string
}

// newRoute makes the route of an authorised path for cloud; format is
// p.Format().
func newRoute(cloud string, p *grammar.Path, format string) *route {
	r := &route{auto: format == "auto", ext: p.Ext}
	r.immutable = p.HasVersion || hasFlag(p.Chain, "immutable_cache")
	r.name, r.attachment = p.Chain.Flag("attachment")
	r.id = p.PublicID[strings.LastIndexByte(p.PublicID, '/')+1:]
	prefix := assetPrefix(cloud, p.ResourceType, p.Type, p.PublicID)
	if !r.auto {
		r.keys[0] = prefix + p.CacheKey(format+":")
		return r
	}
	for i, class := range acceptClasses {
		r.keys[i] = prefix + p.CacheKey(format+":"+class)
	}
	return r
}

// size is about what r holds in memory, its path of length n included.
func (r *route) size(n int) int {
	n += 128 + len(r.name) + len(r.id) + len(r.ext)
	for _, k := range r.keys {
		n += len(k)
	}
	return n
}

// key is the cache key for an Accept class.
func (r *route) key(class int) string { return r.keys[class] }

// routes remembers the routes of the URLs requested, by path, and the
// class of each Accept header seen.
type routes struct {
	mu      sync.RWMutex
	byPath  map[string]*route
	bytes   int            // sizes of the routes in byPath
	accepts map[string]int // Accept header → index in acceptClasses
}

func newRoutes() *routes {
	return &routes{byPath: map[string]*route{}, accepts: map[string]int{}}
}

// get returns the route of path, or nil.
func (rs *routes) get(path []byte) *route {
	rs.mu.RLock()
	r := rs.byPath[string(path)]
	rs.mu.RUnlock()
	return r
}

// put remembers the route of path.
func (rs *routes) put(path string, r *route) {
	size := r.size(len(path))
	rs.mu.Lock()
	if old, ok := rs.byPath[path]; ok {
		rs.bytes -= old.size(len(path))
	}
	if len(rs.byPath) >= maxRoutes || rs.bytes+size > maxRouteBytes {
		clear(rs.byPath)
		rs.bytes = 0
	}
	rs.byPath[path] = r
	rs.bytes += size
	rs.mu.Unlock()
}

// class returns the index of accept's class in acceptClasses, or -1 for
// a class a route has no key for.
func (rs *routes) class(accept []byte) int {
	rs.mu.RLock()
	i, ok := rs.accepts[string(accept)]
	rs.mu.RUnlock()
	if ok {
		return i
	}
	i = classIndex(grammar.AcceptClass(string(accept)))
	rs.mu.Lock()
	if len(rs.accepts) >= maxAccepts {
		clear(rs.accepts)
	}
	rs.accepts[string(accept)] = i
	rs.mu.Unlock()
	return i
}

func classIndex(class string) int {
	for i, c := range acceptClasses {
		if c == class {
			return i
		}
	}
	return -1
}
