package console

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// signinForm shows the sign-in form with a fresh form token, kept in a
// cookie too so that only this browser can post the form back.
func (c *Console) signinForm(w http.ResponseWriter, r *http.Request) {
	c.showSignin(w, r, http.StatusOK, "")
}

func (c *Console) showSignin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok := token()
	setCookie(w, r, signinCookie, tok, 600)
	c.render(w, r, status, "signin", nil, map[string]any{"Token": tok, "Error": msg,
		"Next": safeNext(r.FormValue("next")), "Password": c.cfg.Password != ""})
}

// signin checks an API key with its secret (or the console password) and
// starts a session for that key's cloud. Failed attempts are bounded per
// client address.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	if c.limit.blocked(ip) {
		c.cfg.Log.Warn("console: sign-in refused, too many failed attempts", "client", ip)
		w.Header().Set("Retry-After", "60")
		c.showSignin(w, r, http.StatusTooManyRequests, "Too many failed sign-ins from your address. Wait a minute and try again.")
		return
	}
	ck, err := r.Cookie(signinCookie)
	if err != nil || !sameToken(r.PostFormValue("token"), ck.Value) || !sameOrigin(r) {
		c.showSignin(w, r, http.StatusForbidden, "The sign-in form expired. Please try again.")
		return
	}
	key, secret := strings.TrimSpace(r.PostFormValue("api_key")), r.PostFormValue("secret")
	if key == "" || secret == "" {
		c.showSignin(w, r, http.StatusBadRequest, "Enter your API key and your API secret (or the console password).")
		return
	}
	cloud := ""
	for _, a := range c.cfg.Accounts {
		keyOK := subtle.ConstantTimeCompare([]byte(key), []byte(a.APIKey)) == 1
		secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(a.APISecret)) == 1
		pwOK := c.cfg.Password != "" && len(c.cfg.Accounts) == 1 && subtle.ConstantTimeCompare([]byte(secret), []byte(c.cfg.Password)) == 1
		if keyOK && (secretOK || pwOK) {
			cloud = a.Cloud
		}
	}
	if cloud == "" {
		c.limit.failed(ip)
		c.cfg.Log.Warn("console: failed sign-in", "client", ip)
		c.showSignin(w, r, http.StatusUnauthorized, "That API key and secret do not match an account.")
		return
	}
	s := c.sessions.create(cloud)
	setCookie(w, r, signinCookie, "", -1)
	setCookie(w, r, sessionCookie, s.id, 0)
	c.cfg.Log.Info("console: signed in", "cloud", cloud, "client", ip)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request, u *user) {
	c.sessions.drop(u.id)
	setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

// safeNext keeps a post-sign-in destination inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/console/library"
	}
	return next
}
