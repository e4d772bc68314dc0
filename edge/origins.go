package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Origin health: each origin's /readyz is polled every interval (with
// the DNS names re-resolved); a connection error marks an origin
// unreachable at once, until a poll reaches it again.
const (
	DefaultHealthInterval = 2 * time.Second
	healthTimeout         = 2 * time.Second
	// minRetry is the least time left for a request to move on to the
	// next origin.
	minRetry = time.Second
)

// origins is the set of origin addresses an edge spreads its misses
// over: round-robin over those ready, then over those that answer but
// are not ready (a store of theirs is away), then the unreachable ones:
// a request tries each in that order while it fails over.
type origins struct {
	specs    []*url.URL
	resolved [][]string // per spec, the addresses its name had last (resolve only)
	resolver *net.Resolver
	client   *fasthttp.Client // health checks only
	interval time.Duration
	log      *slog.Logger
	next     atomic.Uint64
	stop     chan struct{}
	done     chan struct{}

	mu      sync.RWMutex
	members []*origin
}

// origin is one address of an origin.
type origin struct {
	base      string // scheme://host:port[/path], no trailing slash
	reachable atomic.Bool
	ready     atomic.Bool // its /readyz answered 200
}

// rank orders origins: 0 ready, 1 reachable, 2 neither.
func (m *origin) rank() int {
	switch {
	case m.ready.Load():
		return 0
	case m.reachable.Load():
		return 1
	}
	return 2
}

// parseOrigins checks the configured origin URLs (none: every miss
// fails).
func parseOrigins(list []string) ([]*url.URL, error) {
	var specs []*url.URL
	for _, raw := range list {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return nil, fmt.Errorf("origin %q: want http(s)://host[:port]", raw)
		}
		specs = append(specs, u)
	}
	return specs, nil
}

// newOrigins resolves the origins once, then starts polling them.
func newOrigins(specs []*url.URL, resolver *net.Resolver, interval time.Duration, log *slog.Logger) *origins {
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	if interval <= 0 {
		interval = DefaultHealthInterval
	}
	o := &origins{specs: specs, resolved: make([][]string, len(specs)), resolver: resolver, interval: interval, log: log,
		stop: make(chan struct{}), done: make(chan struct{}),
		client: &fasthttp.Client{ReadTimeout: healthTimeout, WriteTimeout: healthTimeout, MaxConnsPerHost: 4,
			MaxResponseBodySize: 64 << 10}}
	o.resolve()
	go o.run()
	return o
}

// run polls until stopped.
func (o *origins) run() {
	defer close(o.done)
	t := time.NewTicker(o.interval)
	defer t.Stop()
	for {
		o.checkAll()
		select {
		case <-o.stop:
			return
		case <-t.C:
		}
		o.resolve()
	}
}

func (o *origins) close() {
	close(o.stop)
	<-o.done
	o.client.CloseIdleConnections()
}

// resolve expands each plain-HTTP origin whose host is a name into one
// member per address (HTTPS origins keep their name, for TLS). A name
// that does not resolve keeps the addresses it had, or stands as itself.
func (o *origins) resolve() {
	o.mu.RLock()
	old := map[string]*origin{}
	for _, m := range o.members {
		old[m.base] = m
	}
	o.mu.RUnlock()
	var members []*origin
	seen := map[string]bool{}
	add := func(base string) {
		if seen[base] {
			return
		}
		seen[base] = true
		m := old[base]
		if m == nil {
			m = &origin{base: base}
			m.reachable.Store(true) // until its first check says otherwise
			m.ready.Store(true)
		}
		members = append(members, m)
	}
	for i, u := range o.specs {
		host := u.Hostname()
		if u.Scheme != "http" || net.ParseIP(host) != nil {
			add(u.String())
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
		addrs, err := o.resolver.LookupHost(ctx, host)
		cancel()
		if err == nil && len(addrs) > 0 {
			port := u.Port()
			if port == "" {
				port = "80"
			}
			o.resolved[i] = o.resolved[i][:0]
			for _, a := range addrs {
				v := *u
				v.Host = net.JoinHostPort(a, port)
				o.resolved[i] = append(o.resolved[i], v.String())
			}
		} else {
			o.log.Warn("resolving an origin", "host", host, "err", err)
		}
		if len(o.resolved[i]) == 0 {
			add(u.String()) // dialled by name
		}
		for _, base := range o.resolved[i] {
			add(base)
		}
	}
	o.mu.Lock()
	o.members = members
	o.mu.Unlock()
}

// checkAll polls every member's /readyz at once.
func (o *origins) checkAll() {
	var wg sync.WaitGroup
	for _, m := range o.list() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _, err := o.client.GetTimeout(nil, m.base+"/readyz", healthTimeout)
			switch {
			case err != nil:
				o.mark(m, false, false, err.Error())
			case status != fasthttp.StatusOK:
				o.mark(m, true, false, fmt.Sprintf("/readyz answered %d", status))
			default:
				o.mark(m, true, true, "")
			}
		}()
	}
	wg.Wait()
}

// mark records m's state, logging changes with why.
func (o *origins) mark(m *origin, reachable, ready bool, why string) {
	before := m.rank()
	m.reachable.Store(reachable)
	m.ready.Store(ready)
	switch after := m.rank(); {
	case after == before:
	case after == 0:
		o.log.Info("origin ready", "origin", m.base)
	case after == 1:
		o.log.Warn("origin not ready: misses go to ready origins first", "origin", m.base, "why", why)
	default:
		o.log.Warn("origin unreachable: misses go to the others", "origin", m.base, "why", why)
	}
}

func (o *origins) list() []*origin {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.members
}

// order is the order in which a request tries the origins: by rank,
// round-robin within each.
func (o *origins) order() []*origin {
	ms := o.list()
	n := len(ms)
	if n == 0 {
		return nil
	}
	start := int(o.next.Add(1) % uint64(n))
	out := make([]*origin, 0, n)
	for rank := range 3 {
		for i := range n {
			if m := ms[(start+i)%n]; m.rank() == rank {
				out = append(out, m)
			}
		}
	}
	return out
}

// check is the edge's readiness as to its origins: at least one
// reachable. An origin that answers but is not ready (its own stores
// are away) does not make the edge unready: it still serves its cache.
func (o *origins) check(context.Context) error {
	ms := o.list()
	for _, m := range ms {
		if m.reachable.Load() {
			return nil
		}
	}
	return fmt.Errorf("none of %d origin addresses reachable", len(ms))
}

// failover reports whether a call that failed with err may be made
// again to another origin: the origin could not be reached, or answered
// 502 or 503. down is whether the origin itself looks unreachable.
func failover(err error) (retry, down bool) {
	var oe *originError
	switch {
	case err == nil:
		return false, false
	case errors.As(err, &oe):
		return oe.status == fasthttp.StatusBadGateway || oe.status == fasthttp.StatusServiceUnavailable, false
	case errors.Is(err, fasthttp.ErrTimeout):
		return false, false // the request's time is spent
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true, true
	}
	for _, e := range []error{fasthttp.ErrDialTimeout, fasthttp.ErrConnectionClosed, fasthttp.ErrNoFreeConns,
		io.EOF, io.ErrUnexpectedEOF, syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE} {
		if errors.Is(err, e) {
			return true, e != fasthttp.ErrNoFreeConns // a busy origin is not down
		}
	}
	return false, false
}
