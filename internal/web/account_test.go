package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"helpportal"
	"helpportal/internal/auth"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
	"helpportal/internal/web"
)

// accountFixture is a portal with the client area on, over HTTPS-looking base URL so that
// cookie and header rules for production apply.
func accountFixture(t *testing.T, base string) (*httptest.Server, *helpportal.User) {
	t.Helper()
	ctx := context.Background()
	db := storetest.MustOpen(t)
	h := auth.NewHasher(auth.DefaultParams(), 2, 8)
	hash, err := h.Hash(ctx, "correct horse battery staple ocean")
	if err != nil {
		t.Fatal(err)
	}
	u := &helpportal.User{Email: "casey@example.com", Name: "Casey", Role: helpportal.RoleClient, Status: helpportal.UserActive, PasswordHash: hash}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	c := &helpportal.Category{Slug: "billing", Name: "Billing"}
	db.SaveCategory(ctx, c)
	db.SaveArticle(ctx, &helpportal.Article{Slug: "for-clients", Title: "Clients only guide", Visibility: helpportal.VisibilityClients, CategoryID: c.ID, Body: "Hi."})
	db.SaveArticle(ctx, &helpportal.Article{Slug: "public", Title: "Public guide", CategoryID: c.ID, Body: "Hi."})
	srv, err := web.New(web.Config{Site: helpportal.Site{Name: "Test", Language: "en", BaseURL: base}, Store: db,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)), Accounts: db, Hasher: h, Policy: auth.DefaultPolicy(), Metrics: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, u
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestAccountBadInput(t *testing.T) {
	ts, _ := accountFixture(t, "http://help.test")
	c := noRedirect()
	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		status int
	}{
		{"missing fields", "/login", url.Values{}, 400},
		{"malformed email", "/login", url.Values{"email": {"not-an-email"}, "password": {"x"}}, 400},
		{"email with a display name", "/login", url.Values{"email": {"Casey <casey@example.com>"}, "password": {"x"}}, 400},
		{"huge password", "/login", url.Values{"email": {"casey@example.com"}, "password": {strings.Repeat("p", 10<<20)}}, 413},
		{"long password under the body limit", "/login", url.Values{"email": {"casey@example.com"}, "password": {strings.Repeat("p", 100<<10)}}, 400},
		{"invalid UTF-8 email", "/login", url.Values{"email": {"\xff@example.com"}, "password": {"x"}}, 400},
		{"forgot: malformed", "/forgot-password", url.Values{"email": {"@@"}}, 400},
		{"forgot: unknown address", "/forgot-password", url.Values{"email": {"nobody@example.com"}}, 200},
		{"reset: forged token", "/reset-password/" + strings.Repeat("A", 43), url.Values{"new_password": {"long enough passphrase here"}}, 404},
		{"reset: truncated token", "/reset-password/abc", url.Values{"new_password": {"long enough passphrase here"}}, 404},
		{"invite: forged token", "/invite/" + strings.Repeat("B", 43), url.Values{"new_password": {"long enough passphrase here"}}, 404},
		{"email confirm: forged token", "/account/email/" + strings.Repeat("C", 43), url.Values{}, 404},
		{"strength: not JSON", "/api/v1/password/strength", url.Values{"x": {"y"}}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := postForm(t, c, ts.URL+tc.path, tc.form)
			if res.StatusCode != tc.status {
				t.Errorf("POST %s = %d, want %d\n%.300s", tc.path, res.StatusCode, tc.status, body)
			}
		})
	}
	for _, p := range []string{"/reset-password/" + strings.Repeat("A", 43), "/invite/short", "/reset-password/%00"} {
		res, err := c.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 && res.StatusCode != 400 {
			t.Errorf("GET %s = %d", p, res.StatusCode)
		}
	}
	// Account pages need a session and never answer 500 without one.
	for _, p := range []string{"/account", "/account/security"} {
		res, err := c.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
			t.Errorf("GET %s anonymous = %d %s", p, res.StatusCode, res.Header.Get("Location"))
		}
	}
	for _, p := range []string{"/account/password", "/account/name", "/account/email", "/account/sessions/1/revoke", "/account/sessions/revoke-others"} {
		if res, _ := postForm(t, c, ts.URL+p, url.Values{}); res.StatusCode != 303 {
			t.Errorf("POST %s anonymous = %d", p, res.StatusCode)
		}
	}
	// A cross-origin POST is refused before it can change anything.
	if res, _ := postForm(t, c, ts.URL+"/login", url.Values{"email": {"casey@example.com"}, "password": {"correct horse battery staple ocean"}},
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); res.StatusCode != 403 {
		t.Errorf("cross-origin login = %d", res.StatusCode)
	}
}

func TestHTTPSCookiesHeadersAndClientVisibility(t *testing.T) {
	ts, _ := accountFixture(t, "https://help.example.com")
	c := noRedirect()
	res, _ := postForm(t, c, ts.URL+"/login", url.Values{"email": {"CASEY@example.com "}, "password": {"correct horse battery staple ocean"}, "remember": {"1"}})
	if res.StatusCode != 303 {
		t.Fatalf("login = %d", res.StatusCode)
	}
	cookie := res.Cookies()[0]
	if cookie.Name != "__Host-hp_session" || !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.MaxAge < 29*24*3600 {
		t.Errorf("session cookie = %+v", cookie)
	}
	for _, p := range []string{"/", "/login", "/account", "/account/security", "/forgot-password", "/articles/public", "/api/v1/articles", "/nope"} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+p, nil)
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if hsts := res.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
			t.Errorf("%s: HSTS = %q", p, hsts)
		}
		if csp := res.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || csp == "" {
			t.Errorf("%s: CSP = %q", p, csp)
		}
		if strings.HasPrefix(p, "/account") && res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control = %q", p, res.Header.Get("Cache-Control"))
		}
	}
	// A signed-in client reads clients-only articles; the anonymous page cache never leaks them.
	get := func(withCookie bool) int {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/articles/for-clients", nil)
		if withCookie {
			req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// Anonymous readers are sent to sign in (and back), and learn nothing of the article.
	if a, b, a2 := get(false), get(true), get(false); a != 303 || b != 200 || a2 != 303 {
		t.Errorf("clients-only article: anonymous %d, client %d, anonymous again %d", a, b, a2)
	}
	req0, _ := http.NewRequest(http.MethodGet, ts.URL+"/articles/for-clients", nil)
	res0, err := c.Do(req0)
	if err != nil {
		t.Fatal(err)
	}
	b0, _ := io.ReadAll(res0.Body)
	res0.Body.Close()
	if loc := res0.Header.Get("Location"); loc != "/login?next=%2Farticles%2Ffor-clients" || strings.Contains(string(b0), "Clients only guide") {
		t.Errorf("anonymous redirect = %q, body %q", loc, b0)
	}
	// Sign out ends the session in the store: the old cookie no longer works.
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/logout", nil)
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	if res, err := c.Do(req); err != nil || res.StatusCode != 303 {
		t.Fatalf("logout: %v %v", res, err)
	}
	if get(true) != 303 {
		t.Error("the session still works after signing out")
	}
}

// testWriter sends the server's log to the test's output.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestPasswordStrengthAdvice(t *testing.T) {
	ts, _ := accountFixture(t, "http://help.test")
	for _, tc := range []struct {
		password string
		ok       bool
	}{
		{"password123", false},
		{"casey casey casey casey", false}, // built from the account's own name
		{"quiet maple lantern harbour seventeen", true},
	} {
		res, err := http.Post(ts.URL+"/api/v1/password/strength", "application/json",
			strings.NewReader(`{"password":"`+tc.password+`","email":"casey@example.com","name":"Casey"}`))
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Score int
			OK    bool
			Hint  string
		}
		json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if res.StatusCode != 200 || out.OK != tc.ok || (!tc.ok && out.Hint == "") || (tc.ok && out.Score < 3) {
			t.Errorf("%q: %d %+v", tc.password, res.StatusCode, out)
		}
	}
}

// sessionsDown is the store with session lookups failing as in a database outage.
type sessionsDown struct{ *store.DB }

func (sessionsDown) SessionByToken(context.Context, string, time.Time) (*helpportal.Session, *helpportal.User, error) {
	return nil, nil, helpportal.Errorf(helpportal.EUNAVAILABLE, "The database is not answering.")
}

// A session that cannot be looked up is not treated as no session: a signed-in visitor
// gets 503 with Retry-After rather than pages for visitors, while what is the same for
// everyone (health checks, the static files that style the error page) still answers.
func TestSessionLookupOutage(t *testing.T) {
	db := storetest.MustOpen(t)
	srv, err := web.New(web.Config{Site: helpportal.Site{Name: "Test", Language: "en", BaseURL: "http://help.test"}, Store: db,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)), Accounts: sessionsDown{db},
		Hasher: auth.NewHasher(auth.DefaultParams(), 1, 1), Policy: auth.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	cookie := &http.Cookie{Name: "hp_session", Value: strings.Repeat("A", 43)}
	for _, tc := range []struct {
		path string
		want int
	}{{"/account", 503}, {"/", 503}, {"/healthz", 200}, {"/robots.txt", 200}} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+tc.path, nil)
		req.AddCookie(cookie)
		res, err := noRedirect().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("GET %s with a session during an outage = %d, want %d", tc.path, res.StatusCode, tc.want)
		}
		if tc.want == 503 && res.Header.Get("Retry-After") == "" {
			t.Errorf("GET %s: 503 without Retry-After", tc.path)
		}
	}
	// Without a cookie nothing is looked up: the home page is served as usual.
	if res, err := http.Get(ts.URL + "/"); err != nil || res.StatusCode != 200 {
		t.Errorf("GET / without a session during an outage = %v, %v", res.StatusCode, err)
	}
}
