package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Cookie names: the session, and the token that ties a sign-in form to
// the browser that loaded it.
const (
	sessionCookie = "edgepix_console"
	signinCookie  = "edgepix_signin"
)

// session is one signed-in browser: the cloud it may see and the token its
// state-changing requests must carry.
type session struct {
	id, cloud, csrf string
	created, seen   time.Time
	flash           string // a message for the next page shown
}

// sessions are kept in memory: they end with the process (sign in again
// after a restart), and a sign-out ends one at once.
type sessions struct {
	mu         sync.Mutex
	m          map[string]*session
	max        int
	idle, life time.Duration
}

func newSessions() *sessions {
	return &sessions{m: map[string]*session{}, max: 10000, idle: 2 * time.Hour, life: 12 * time.Hour}
}

func token() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) create(cloud string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if len(s.m) >= s.max { // drop the oldest
		var old *session
		for _, x := range s.m {
			if old == nil || x.seen.Before(old.seen) {
				old = x
			}
		}
		delete(s.m, old.id)
	}
	x := &session{id: token(), cloud: cloud, csrf: token(), created: now, seen: now}
	s.m[x.id] = x
	return x
}

// get returns the live session with this id, or nil.
func (s *sessions) get(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.m[id]
	if x == nil {
		return nil
	}
	now := time.Now()
	if now.Sub(x.seen) > s.idle || now.Sub(x.created) > s.life {
		delete(s.m, id)
		return nil
	}
	x.seen = now
	return x
}

func (s *sessions) drop(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// takeFlash returns and clears the session's pending message.
func (s *sessions) takeFlash(x *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := x.flash
	x.flash = ""
	return f
}

func (s *sessions) setFlash(x *session, msg string) {
	s.mu.Lock()
	x.flash = msg
	s.mu.Unlock()
}

// secure says whether the console is served over TLS (directly or by a
// proxy that says so): cookies are then Secure.
func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/console", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)})
}

// sameToken compares two tokens in constant time; empty never matches.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// limiter bounds failed sign-ins per client address: a burst, then one
// more per interval. Addresses whose bucket is full again are forgotten
// when the table fills up.
type limiter struct {
	mu    sync.Mutex
	m     map[string]*rate.Limiter
	every time.Duration
	burst int
}

func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{m: map[string]*rate.Limiter{}, every: every, burst: burst}
}

func (l *limiter) get(addr string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if x := l.m[addr]; x != nil {
		return x
	}
	if len(l.m) >= 100000 {
		for k, x := range l.m {
			if x.Tokens() >= float64(l.burst) {
				delete(l.m, k)
			}
		}
	}
	x := rate.NewLimiter(rate.Every(l.every), l.burst)
	l.m[addr] = x
	return x
}

// blocked says whether addr has no failed attempts left.
func (l *limiter) blocked(addr string) bool { return l.get(addr).Tokens() < 1 }

// failed counts one failed attempt of addr.
func (l *limiter) failed(addr string) { l.get(addr).Allow() }

// clientIP is the request's peer address without its port.
func clientIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}
