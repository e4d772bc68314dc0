package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/origin"
	"github.com/edgepix/edgepix/sdk"
)

var otherAccount = origin.Account{Cloud: "other", APIKey: "999999999999999", APISecret: "other-secret-xyz"}

// TestConsoleInBrowser drives the web console in headless Chromium as a
// person would: sign in, upload by the file input, see thumbnails from the
// edge, tag and search, build a transformation, run an eager batch, read
// and redeliver its webhook, sign out.
func TestConsoleInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	started := time.Now()
	a, _ := start(t, func(c *app.Config) { c.Accounts = append(c.Accounts, otherAccount) })
	shots := t.TempDir()
	t.Logf("screenshots in %s", shots)
	// Another cloud's asset, which the demo cloud's console must never show.
	oc := sdk.New(sdk.Config{Cloud: "other", APIKey: otherAccount.APIKey, APISecret: otherAccount.APISecret, APIBase: a.OriginURL, DeliveryBase: a.EdgeURL})
	if _, err := oc.Upload(bg, "image", fixtures.Path(t, "photo-dune-grass-1680x1050.jpg"),
		url.Values{"public_id": {"shoot/secret-dune"}, "tags": {"star"}}); err != nil {
		t.Fatal(err)
	}
	hooks := make(chan string, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hooks <- r.Header.Get("webhook-id")
	}))
	defer rcv.Close()
	run := func(what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, acts...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Sign in: wrong secret first.
	run("open the console", chromedp.Navigate(a.ConsoleURL), chromedp.WaitVisible(chromedp.CSS("#api_key")))
	run("wrong secret", chromedp.SendKeys(chromedp.CSS("#api_key"), testAccount.APIKey), chromedp.SendKeys(chromedp.CSS("#secret"), "not-the-secret"),
		chromedp.Submit(chromedp.CSS("#signin-form")))
	waitJS(t, ctx, "wrong credentials refused", `!!document.getElementById('error') && document.getElementById('error').textContent.includes('do not match')`)
	run("sign in", chromedp.SetValue(chromedp.CSS("#api_key"), testAccount.APIKey), chromedp.SetValue(chromedp.CSS("#secret"), testAccount.APISecret),
		chromedp.Submit(chromedp.CSS("#signin-form")))
	waitJS(t, ctx, "the library after signing in", `document.body.dataset.page === 'library'`)
	cookies, err := chromedp.Run(ctx, func(c2 context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(c2, tg, network.GetCookies, network.GetCookiesParams{})
	})
	if err != nil {
		t.Fatal(err)
	}
	session := ""
	for _, c := range cookies.Cookies {
		if c.Name == "edgepix_console" {
			session = c.Value
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Path != "/console" {
				t.Errorf("session cookie: HttpOnly %v SameSite %v Path %s", c.HTTPOnly, c.SameSite, c.Path)
			}
		}
	}
	if session == "" {
		t.Fatal("no session cookie")
	}

	// Upload three fixtures through the file input, into a folder, tagged.
	files := []string{fixtures.Path(t, "photo-storm-1920x1280.jpg"), fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"),
		fixtures.Path(t, "interlaced-rgb-horse-200x200.png")}
	run("upload", chromedp.SetValue(chromedp.CSS("#up-folder"), "shoot"), chromedp.SetValue(chromedp.CSS("#up-tags"), "e2e"),
		chromedp.SetUploadFiles(chromedp.CSS("#files"), files))
	waitJS(t, ctx, "three thumbnails from the edge", `(() => { const i = [...document.querySelectorAll('#grid img')];
		return i.length === 3 && i.every(x => x.complete && x.naturalWidth === 240 && x.src.startsWith('`+a.EdgeURL+`/demo/image/upload/')); })()`)
	screenshot(t, ctx, shots, "library")
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "secret-dune") {
		t.Error("the demo cloud's library shows another cloud's asset")
	}

	// Tag one asset through the selection, then filter by that tag.
	run("select and tag", chromedp.Click(chromedp.CSS(`input[value="image|upload|shoot/photo-storm-1920x1280"]`)),
		chromedp.SetValue(chromedp.CSS("#action"), "tag"), chromedp.SetValue(chromedp.CSS("#act-tag"), "star"), chromedp.Click(chromedp.CSS("#apply")))
	waitJS(t, ctx, "tagged", `!!document.getElementById('flash') && document.getElementById('flash').textContent.includes('Done for 1 asset')`)
	run("filter by tag", chromedp.SetValue(chromedp.CSS("#tag"), "star"), chromedp.Click(chromedp.CSS("#search")))
	waitJS(t, ctx, "one asset tagged star (of this cloud only)", `document.querySelectorAll('#grid .card').length === 1 &&
		document.querySelector('#grid .name').textContent === 'shoot/photo-storm-1920x1280'`)

	// The asset page and the transformation builder.
	run("open the asset", chromedp.Click(chromedp.CSS("#grid a")))
	waitJS(t, ctx, "asset page", `document.body.dataset.page === 'asset' && document.getElementById('dims').textContent.includes('1920')`)

	assetPage, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	run("build", clearInput("b-tx"), chromedp.SendKeys(chromedp.CSS("#b-tx"), "c_fill,w_200,h_200,g_auto/e_sepia"))
	waitJS(t, ctx, "a 200×200 preview", `(() => { const i = document.getElementById('b-preview');
		return i.complete && i.naturalWidth === 200 && i.naturalHeight === 200 &&
			document.getElementById('b-url').textContent.includes('/e_sepia/') &&
			document.getElementById('b-stats').textContent.includes('KB'); })()`)
	screenshot(t, ctx, shots, "builder")
	run("a bad transformation", clearInput("b-tx"), chromedp.SendKeys(chromedp.CSS("#b-tx"), "c_bogus"))
	waitJS(t, ctx, "the builder says why", `!document.getElementById('b-error').hidden && document.getElementById('b-error').textContent.length > 10`)

	// An eager batch with a notification, followed on the batches page.
	run("start eager", chromedp.SendKeys(chromedp.CSS("#a-eager"), "c_scale,w_100"), chromedp.SendKeys(chromedp.CSS("#a-hook"), rcv.URL),
		chromedp.Click(chromedp.CSS("#a-eager-start")))
	waitJS(t, ctx, "the batch completes", `document.body.dataset.page === 'batches' && !!document.querySelector('#batches tr.status-complete')`)
	screenshot(t, ctx, shots, "batches")
	var first string
	select {
	case first = <-hooks:
	case <-time.After(20 * time.Second):
		t.Fatal("no notification reached the receiver")
	}

	// The asset page lists the derived files made: the library's
	// thumbnail, the builder's preview (rendered when the edge first asked
	// for them) and the eager one.
	run("back to the asset", chromedp.Navigate(assetPage))
	waitJS(t, ctx, "derived files listed", `(() => { const d = document.getElementById('derived');
		return !!d && d.querySelectorAll('li a').length === 3 && d.textContent.includes('c_scale,w_100 ') &&
			d.textContent.includes('c_fill,g_auto,h_200,w_200/e_sepia'); })()`)

	// The webhook log, and a redelivery with the same webhook-id.
	run("webhooks", chromedp.Navigate(a.ConsoleURL+"webhooks"))
	waitJS(t, ctx, "a delivered notification", `!!document.querySelector('.delivery.status-delivered .attempt')`)
	screenshot(t, ctx, shots, "webhooks")
	run("redeliver", chromedp.Click(chromedp.CSS(".redeliver")))
	waitJS(t, ctx, "redelivery accepted", `!!document.getElementById('flash') && document.getElementById('flash').textContent.includes('sent again')`)
	select {
	case again := <-hooks:
		if again != first || first == "" {
			t.Errorf("redelivered webhook-id %q, first %q", again, first)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the redelivery did not reach the receiver")
	}

	// Another cloud's asset, asked for by its id: not found in this cloud.
	run("another cloud's asset", chromedp.Navigate(a.ConsoleURL+"asset?id=shoot/secret-dune"))
	waitJS(t, ctx, "not shown", `!!document.getElementById('problem') && document.getElementById('problem').textContent.includes('could not be loaded')`)

	// A state change without the CSRF token is refused; with it, accepted.
	run("library", chromedp.Navigate(a.ConsoleURL+"library"), chromedp.WaitVisible(chromedp.CSS("#grid")))
	csrf, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.csrf`))
	if err != nil {
		t.Fatal(err)
	}
	post := func(form url.Values, hdr ...string) int {
		req, _ := http.NewRequest(http.MethodPost, a.ConsoleURL+"library/action", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "edgepix_console", Value: session})
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	form := url.Values{"sel": {"image|upload|shoot/photo-storm-1920x1280"}, "action": {"tag"}, "tag": {"csrf-test"}}
	if code := post(form); code != http.StatusForbidden {
		t.Errorf("POST without the CSRF token: %d, want 403", code)
	}
	form.Set("csrf", csrf)
	if code := post(form, "Origin", "http://evil.example"); code != http.StatusForbidden {
		t.Errorf("POST from another origin: %d, want 403", code)
	}
	if code := post(form); code != http.StatusSeeOther {
		t.Errorf("POST with the token: %d, want 303", code)
	}

	// Settings: a named transformation made through the form, then listed.
	run("settings", chromedp.Navigate(a.ConsoleURL+"settings"), chromedp.SendKeys(chromedp.CSS("#nn-name"), "thumb"),
		chromedp.SendKeys(chromedp.CSS("#nn-def"), "c_fill,w_100,h_100"), chromedp.Submit(chromedp.CSS("#named-new")))
	waitJS(t, ctx, "named transformation created", `!!document.getElementById('flash') && document.getElementById('flash').textContent.includes('t_thumb: created') &&
		!!document.getElementById('nt-thumb') && document.getElementById('nt-thumb').value.includes('w_100')`)
	screenshot(t, ctx, shots, "settings")

	// A phone-sized window: the library fits its width.
	run("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(a.ConsoleURL+"library"))
	waitJS(t, ctx, "no sideways scrolling on a phone", `document.body.dataset.page === 'library' && document.querySelectorAll('#grid img').length === 3 &&
		document.documentElement.scrollWidth <= window.innerWidth + 1`)
	screenshot(t, ctx, shots, "phone")
	run("desktop", chromedp.EmulateReset())

	// Sign out: the session is over for the server too.
	run("sign out", chromedp.Click(chromedp.CSS("#signout")))
	waitJS(t, ctx, "signed out", `document.body.dataset.page === 'signin'`)
	if code := post(form); code != http.StatusUnauthorized {
		t.Errorf("POST after signing out: %d, want 401", code)
	}
	t.Logf("browser test took %v", time.Since(started).Round(100*time.Millisecond))
}

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// signinForm loads the sign-in page and returns its form token and cookie.
func signinForm(t *testing.T, consoleURL string, hdr ...string) (string, *http.Cookie, *http.Response) {
	t.Helper()
	resp, body := get(t, consoleURL+"signin", hdr...)
	_, rest, ok := strings.Cut(string(body), `name="token" value="`)
	tok, _, _ := strings.Cut(rest, `"`)
	if !ok || tok == "" {
		t.Fatalf("no form token in the sign-in page: %s", body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "edgepix_signin" {
			return tok, c, resp
		}
	}
	t.Fatal("no sign-in cookie")
	return "", nil, nil
}

func signin(t *testing.T, consoleURL, key, secret string) *http.Response {
	t.Helper()
	tok, ck, _ := signinForm(t, consoleURL)
	form := url.Values{"token": {tok}, "api_key": {key}, "secret": {secret}}
	req, _ := http.NewRequest(http.MethodPost, consoleURL+"signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(ck)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestConsoleAccess checks the console's rules without a browser: the
// edge serves none of it, sign-ins are bounded per address, cookies and
// headers are set as they must be, forms are checked on the server.
func TestConsoleAccess(t *testing.T) {
	a, _ := start(t)
	if resp, body := get(t, a.EdgeURL+"/console/signin"); resp.StatusCode == 200 || strings.Contains(string(body), "Sign in") {
		t.Errorf("the edge serves the console: %d %s", resp.StatusCode, body)
	}
	resp, body := get(t, a.ConsoleURL+"signin")
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers: CSP %q, X-Frame-Options %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	if strings.Contains(string(body), "<script>") || strings.Contains(string(body), testAccount.APISecret) {
		t.Error("an inline script or the secret in the sign-in page")
	}
	if _, ck, _ := signinForm(t, a.ConsoleURL, "X-Forwarded-Proto", "https"); !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie over TLS: Secure %v HttpOnly %v SameSite %v", ck.Secure, ck.HttpOnly, ck.SameSite)
	}

	// A signed-in page carries no secret, and a form is checked on the server.
	resp = signin(t, a.ConsoleURL, testAccount.APIKey, testAccount.APISecret)
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "edgepix_console" {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil || !session.HttpOnly || session.Secure {
		t.Fatalf("sign-in: %d %+v", resp.StatusCode, session)
	}
	for _, page := range []string{"library", "settings", "batches", "webhooks", "plugins"} {
		req, _ := http.NewRequest(http.MethodGet, a.ConsoleURL+page, nil)
		req.AddCookie(session)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || strings.Contains(string(b), testAccount.APISecret) || strings.Contains(string(b), "<script>") {
			t.Errorf("%s: %d (secret or inline script in the page?)", page, r.StatusCode)
		}
		if page == "settings" {
			_, rest, _ := strings.Cut(string(b), `data-csrf="`)
			csrf, _, _ := strings.Cut(rest, `"`)
			form := url.Values{"csrf": {csrf}, "op": {"create"}, "name": {"thumb"}, "transformation": {"c_bogus,w_10"}}
			req, _ := http.NewRequest(http.MethodPost, a.ConsoleURL+"settings/named", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(session)
			r, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode != 400 || !strings.Contains(string(b), `id="named-error"`) || !strings.Contains(string(b), "not valid") {
				t.Errorf("an invalid named transformation: %d\n%s", r.StatusCode, b)
			}
		}
	}

	// Move (rename) through the console's selection form.
	c := sdk.New(mustConfig(t, a.OriginURL, a.EdgeURL))
	if _, err := c.Upload(bg, "image", fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), url.Values{"public_id": {"inbox/snake"}}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, a.ConsoleURL+"library", nil)
	req.AddCookie(session)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	_, rest, _ := strings.Cut(string(b), `data-csrf="`)
	csrf, _, _ := strings.Cut(rest, `"`)
	form := url.Values{"csrf": {csrf}, "action": {"move"}, "folder": {"archive/2026"}, "sel": {"image|upload|inbox/snake"}}
	req, _ = http.NewRequest(http.MethodPost, a.ConsoleURL+"library/action", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(session)
	if r, err := noRedirect.Do(req); err != nil || r.StatusCode != http.StatusSeeOther {
		t.Fatalf("move: %v %v", err, r)
	}
	if _, err := c.Resource(bg, "image", "upload", "archive/2026/snake"); err != nil {
		t.Errorf("moved asset: %v", err)
	}
	if _, err := c.Resource(bg, "image", "upload", "inbox/snake"); err == nil {
		t.Error("the asset is still at its old id")
	}

	// Failed sign-ins are bounded per address: after ten, even the right
	// secret is refused for a while.
	for i := range 10 {
		if r := signin(t, a.ConsoleURL, testAccount.APIKey, fmt.Sprintf("wrong-%d", i)); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong secret %d: %d", i, r.StatusCode)
		}
	}
	if r := signin(t, a.ConsoleURL, testAccount.APIKey, testAccount.APISecret); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("sign-in after ten failures: %d, want 429", r.StatusCode)
	}
}

// clearInput empties an input by its id.
func clearInput(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(document.getElementById('`+id+`').value = '') === ''`)(ctx, t)
		return err
	})
}
