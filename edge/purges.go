package edge

import (
	"strings"

	"github.com/edgepix/edgepix/internal/purge"
)

// Purge drops every cached delivery of the assets named and returns how
// many entries went. It also drops what used an asset as a plugin (a raw
// .wasm) or as an overlay (an image in l_ or u_): those are found by
// scanning the cache index, once for all the assets named.
func (s *Server) Purge(ms ...purge.Message) int {
	if len(ms) == 0 {
		return 0
	}
	prefixes := map[string]bool{}
	refs := map[string]map[string]bool{} // cloud → steps naming a purged asset
	for _, m := range ms {
		prefixes[assetPrefix(m.Cloud, m.ResourceType, m.Type, m.PublicID)] = true
		id := strings.ReplaceAll(m.PublicID, "/", ":")
		var rs []string
		switch {
		case m.ResourceType == "raw" && strings.HasSuffix(m.PublicID, ".wasm"):
			rs = []string{"fn_wasm:" + id}
		case m.ResourceType == "image" && m.Type == "upload":
			rs = []string{"l_" + id, "u_" + id}
		}
		for _, r := range rs {
			if refs[m.Cloud] == nil {
				refs[m.Cloud] = map[string]bool{}
			}
			refs[m.Cloud][r] = true
		}
	}
	n := s.cache.purgeMatch(func(k string) bool {
		asset, key, _ := strings.Cut(k, "\x00")
		if prefixes[asset+"\x00"] {
			return true
		}
		cloud, _, _ := strings.Cut(asset, "/")
		r := refs[cloud]
		if r == nil {
			return false
		}
		// rt/type/chain/v…: a step is a whole token between / or ,
		tokens := strings.FieldsFunc(key, func(c rune) bool { return c == '/' || c == ',' })
		for i := 1; i < len(tokens)-1; i++ {
			if r[tokens[i]] {
				return true
			}
		}
		return false
	})
	s.cfg.Metrics.Purges.Add(float64(len(ms)))
	if len(ms) == 1 {
		s.log.Info("purged", "cloud", ms[0].Cloud, "public_id", ms[0].PublicID, "entries", n)
	} else {
		s.log.Info("purged", "assets", len(ms), "entries", n)
	}
	return n
}

// PurgeCache is the cache as the purge stream's follower sees it
// (internal/purge.Follow): its position in the stream is kept in the
// cache itself, so a cache rebuilt or abandoned has none.
func (s *Server) PurgeCache() purge.Cache { return purgeCache{s} }

type purgeCache struct{ s *Server }

func (p purgeCache) Position() (uint64, bool) { return p.s.cache.position() }

func (p purgeCache) Apply(seq uint64, ms []purge.Message) {
	p.s.Purge(ms...)
	p.s.cache.setPosition(seq)
}

func (p purgeCache) Reset(seq uint64, why string) {
	n := p.s.cache.dropAll()
	p.s.cache.setPosition(seq)
	if n > 0 {
		p.s.log.Warn("edge cache dropped: purges may be missing", "why", why, "entries", n, "seq", seq)
	} else {
		p.s.log.Info("edge cache follows purges", "from_seq", seq+1)
	}
}

func (p purgeCache) CaughtUp() {
	if p.s.cache.held.Swap(false) {
		p.s.log.Info("edge cache caught up with purges: serving cached entries")
	}
}
