// Package console is edgepix's web console, served by the origin at
// /console: sign in with an account's API key, browse and upload media,
// build transformations, follow background work and webhooks, and edit
// settings. Pages are rendered on the server with html/template and a
// little plain JavaScript, all embedded in the binary. Every action is a
// call to the origin's own API (sdk.Client over an in-process transport),
// so the console has exactly the API's rules and limits.
package console

import (
	"context"
	"crypto/subtle"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/edgepix/edgepix/origin"
	"github.com/edgepix/edgepix/sdk"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the console is served on the origin.
const Prefix = "/console"

// Owns says whether a request path belongs to the console.
func Owns(path string) bool { return path == Prefix || strings.HasPrefix(path, Prefix+"/") }

// Config is what the console needs from the process it runs in.
type Config struct {
	Accounts []origin.Account
	// API is the origin's request handler: every console action is an API
	// request handed to it in-process.
	API fasthttp.RequestHandler
	// DeliveryBase is the edge's public URL: thumbnails and previews are
	// delivered (and cached) there.
	DeliveryBase string
	// Password, when set, is accepted instead of the API secret when there
	// is a single account (with several, each signs in with its own secret).
	Password string
	// Failed sign-ins allowed per client address: SigninBurst at once, then
	// one more every SigninEvery (defaults 10 and 1 minute).
	SigninBurst int
	SigninEvery time.Duration
	Log         *slog.Logger
}

// Console serves the console's pages.
type Console struct {
	cfg      Config
	sessions *sessions
	limit    *limiter
	pages    map[string]*template.Template
	handler  fasthttp.RequestHandler
	csp      string
}

// New prepares the console.
func New(cfg Config) (*Console, error) {
	if cfg.SigninBurst <= 0 {
		cfg.SigninBurst = 10
	}
	if cfg.SigninEvery <= 0 {
		cfg.SigninEvery = time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	c := &Console{cfg: cfg, sessions: newSessions(), limit: newLimiter(cfg.SigninBurst, cfg.SigninEvery)}
	var err error
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	edge := ""
	if u, err := url.Parse(cfg.DeliveryBase); err == nil && u.Host != "" {
		edge = " " + u.Scheme + "://" + u.Host
	}
	c.csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:" + edge +
		"; connect-src 'self'" + edge + "; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	c.handler = fasthttpadaptor.NewFastHTTPHandler(c.routes())
	return c, nil
}

// Handler serves a request whose path Owns.
func (c *Console) Handler(ctx *fasthttp.RequestCtx) { c.handler(ctx) }

// page is a handler of a signed-in user.
type page func(w http.ResponseWriter, r *http.Request, u *user)

// user is the signed-in session with an API client for its cloud.
type user struct {
	*session
	api *sdk.Client
}

func (c *Console) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/library", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /console/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/library", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /console/signin", c.signinForm)
	mux.HandleFunc("POST /console/signin", c.signin)
	for pattern, p := range map[string]page{
		"POST /console/signout":            c.signout,
		"GET /console/library":             c.library,
		"POST /console/library/action":     c.libraryAction,
		"POST /console/api/sign":           c.sign,
		"GET /console/asset":               c.asset,
		"GET /console/api/url":             c.previewURL,
		"GET /console/batches":             c.batches,
		"POST /console/batches/start":      c.startWork,
		"GET /console/webhooks":            c.webhooks,
		"POST /console/webhooks/redeliver": c.redeliver,
		"GET /console/settings":            c.settings,
		"POST /console/settings/named":     c.saveNamed,
		"POST /console/settings/preset":    c.savePreset,
		"GET /console/plugins":             c.plugins,
	} {
		mux.Handle(pattern, c.signedIn(p))
	}
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, http.StatusNotFound, "error", nil, map[string]any{"Message": "There is no such page in the console."})
	})
	return c.secureHeaders(mux)
}

// secureHeaders sets the headers every console answer carries.
func (c *Console) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", c.csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/console/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// signedIn loads the session; without one, pages go to the sign-in form
// and API calls get 401. A POST must carry the session's CSRF token (form
// field csrf or header X-CSRF-Token) and, when the browser sends one, an
// Origin of this host.
func (c *Console) signedIn(p page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s *session
		if ck, err := r.Cookie(sessionCookie); err == nil {
			s = c.sessions.get(ck.Value)
		}
		api := strings.HasPrefix(r.URL.Path, "/console/api/")
		if s == nil {
			if api || r.Method != http.MethodGet {
				jsonError(w, http.StatusUnauthorized, "Your session has ended: sign in again.")
				return
			}
			http.Redirect(w, r, "/console/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			tok := r.Header.Get("X-CSRF-Token")
			if tok == "" {
				tok = r.PostFormValue("csrf")
			}
			if !sameToken(tok, s.csrf) || !sameOrigin(r) {
				c.cfg.Log.Warn("console: request without a valid CSRF token refused", "path", r.URL.Path, "client", clientIP(r))
				c.render(w, r, http.StatusForbidden, "error", nil,
					map[string]any{"Message": "This form has expired or did not come from the console. Reload the page and try again."})
				return
			}
		}
		acct, ok := c.account(s.cloud)
		if !ok {
			c.sessions.drop(s.id)
			http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
			return
		}
		r = r.WithContext(withClientAddr(r.Context(), r.RemoteAddr))
		p(w, r, &user{session: s, api: c.client(acct)})
	})
}

// sameOrigin checks the Origin header, when the browser sent one.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && subtle.ConstantTimeCompare([]byte(u.Host), []byte(r.Host)) == 1
}

func (c *Console) account(cloud string) (origin.Account, bool) {
	for _, a := range c.cfg.Accounts {
		if a.Cloud == cloud {
			return a, true
		}
	}
	return origin.Account{}, false
}

// client is an API client for acct whose requests go to the origin's
// handler in-process.
func (c *Console) client(a origin.Account) *sdk.Client {
	return &sdk.Client{Config: sdk.Config{Cloud: a.Cloud, APIKey: a.APIKey, APISecret: a.APISecret,
		APIBase: "http://origin.internal", DeliveryBase: c.cfg.DeliveryBase, SHA256: a.SignatureAlgorithm == "sha256"},
		HTTP: &http.Client{Transport: inproc{c.cfg.API}, Timeout: 2 * time.Minute}}
}

// ctx is the context API calls of a request run under.
func ctx(r *http.Request) context.Context { return r.Context() }
