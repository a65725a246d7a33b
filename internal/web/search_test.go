package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"helpportal"
	"helpportal/internal/auth"
	"helpportal/internal/search"
	"helpportal/internal/web"
)

// newSearchFixture is newFixture's portal served with the full-text search engine (and
// the client area, so that staff and clients can sign in).
func newSearchFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := search.Open(ctx, f.db, search.Options{Dir: filepath.Join(t.TempDir(), "index"), Language: "en", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if err := eng.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{
		Site: helpportal.Site{Name: "Test Help", Tagline: "Answers.", Language: "en", BaseURL: "http://help.test",
			HeaderLinks: []helpportal.Link{{Label: "Get prices", URL: "https://example.com/prices"}}},
		Store: f.db, Logger: log, Search: eng,
		Accounts: f.db, Hasher: auth.NewHasher(auth.DefaultParams(), 2, 8), Policy: auth.DefaultPolicy(),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.ts.Close()
	f.srv = srv
	f.ts = httptest.NewServer(srv)
	t.Cleanup(f.ts.Close)
	return f
}

// /readyz waits for the search engine to have loaded its index: until then searches fall
// back to the store's slow simple search.
func TestReadyzWaitsForSearch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opt := search.Options{Dir: filepath.Join(t.TempDir(), "index"), Language: "en", Logger: log}
	// A restart: the index on disk is built and current, the new process has not loaded it.
	first, err := search.Open(ctx, f.db, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	first.Close()
	eng, err := search.Open(ctx, f.db, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	srv, err := web.New(web.Config{Site: helpportal.Site{Name: "Test Help", Language: "en", BaseURL: "http://help.test"},
		Store: f.db, Logger: log, Search: eng})
	if err != nil {
		t.Fatal(err)
	}
	ready := func() int {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return w.Code
	}
	if code := ready(); code != http.StatusServiceUnavailable {
		t.Errorf("before the index is loaded, /readyz = %d", code)
	}
	if err := eng.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if code := ready(); code != http.StatusOK {
		t.Errorf("once loaded, /readyz = %d", code)
	}
}

// signIn creates a user with role and returns their session cookie.
func (f *fixture) signIn(role helpportal.Role) *http.Cookie {
	f.t.Helper()
	ctx := context.Background()
	h := auth.NewHasher(auth.DefaultParams(), 2, 8)
	hash, err := h.Hash(ctx, "correct horse battery staple ocean")
	if err != nil {
		f.t.Fatal(err)
	}
	u := &helpportal.User{Email: string(role) + "@example.com", Name: "T", Role: role, Status: helpportal.UserActive, PasswordHash: hash}
	if err := f.db.CreateUser(ctx, u); err != nil {
		f.t.Fatal(err)
	}
	res, _ := postForm(f.t, noRedirect(), f.ts.URL+"/login", url.Values{"email": {u.Email}, "password": {"correct horse battery staple ocean"}})
	if res.StatusCode != http.StatusSeeOther || len(res.Cookies()) == 0 {
		f.t.Fatalf("sign in as %s: %d", role, res.StatusCode)
	}
	return res.Cookies()[0]
}

func (f *fixture) getAs(path string, c *http.Cookie) (*http.Response, string) {
	f.t.Helper()
	req := mustRequest(f.t, http.MethodGet, f.ts.URL+path, nil)
	if c != nil {
		req.AddCookie(c)
	}
	return f.do(req)
}

func TestSearchPage(t *testing.T) {
	f := newSearchFixture(t)
	doc := f.page("/search?q=card", 200)
	hits := find(doc, func(n *html.Node) bool { return n.Data == "ol" && hasClass(n, "search-hits") })
	if len(hits) != 1 {
		t.Fatal("no result list")
	}
	links := hrefs(hits[0])
	if len(links) != 2 || !strings.HasPrefix(links[0], "/search/click?q=card&pos=1&slug=") || !strings.Contains(links[1], "&pos=2&") {
		t.Errorf("result links = %v", links)
	}
	marks := find(hits[0], tag("mark"))
	if len(marks) != 2 || !strings.EqualFold(text(marks[0]), "card") {
		t.Errorf("no highlighted words: %v", texts(marks))
	}
	if got := text(find(doc, byClass("search-summary"))[0]); !strings.Contains(got, "2 articles match “card”") {
		t.Errorf("summary = %q", got)
	}
	if len(find(doc, byClass("search-facets"))) != 1 {
		t.Error("no facets")
	}
	for _, n := range find(doc, func(n *html.Node) bool { return n.Data == "script" || n.Data == "style" }) {
		if attr(n, "src") == "" && n.Data == "script" && attr(n, "type") != "application/ld+json" || n.Data == "style" {
			t.Error("inline script or style (the CSP forbids them)")
		}
	}
	// Typo tolerance and prefix, through the page.
	for _, q := range []string{"invoce", "invoi", "payment failed", "faild paymnt"} {
		doc := f.page("/search?q="+url.QueryEscape(q), 200)
		if len(find(doc, byClass("search-hits"))) != 1 {
			t.Errorf("%q found nothing", q)
		}
	}
	// Nothing found: a suggestion from the index's own words.
	doc = f.page("/search?q=onvoice", 200)
	dym := find(doc, byClass("did-you-mean"))
	if len(dym) != 1 || !strings.Contains(text(dym[0]), "invoice") || !contains(hrefs(dym[0]), "/search?q=invoice") {
		t.Errorf("did you mean: %v", texts(dym))
	}
}

func TestSearchPageEmptyFiltersAndPaging(t *testing.T) {
	f := newSearchFixture(t)
	doc := f.page("/search", 200)
	if len(find(doc, func(n *html.Node) bool { return attr(n, "id") == "popular-h" })) != 1 {
		t.Error("empty query: no popular articles")
	}
	// The category filter includes sub-categories; the type filter narrows further.
	doc = f.page("/search?q=records&category=domains", 200)
	if got := hrefs(find(doc, byClass("search-hits"))[0]); len(got) != 1 || !strings.Contains(got[0], "slug=mx-records") {
		t.Errorf("category filter: %v", got)
	}
	if res, _ := f.get("/search?q=pay&type=reference"); res.StatusCode != 200 {
		t.Errorf("type filter = %d", res.StatusCode)
	}
	for path, want := range map[string]int{"/search?q=pay&type=blog": 400, "/search?q=pay&category=nope": 404, "/search?q=pay&page=0": 400,
		"/search?q=pay&page=x": 400} {
		if res, _ := f.get(path); res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, want)
		}
	}
	res, _ := f.get("/search?q=pay&page=99")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/search?q=pay" {
		t.Errorf("page out of range = %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	for _, q := range []string{`"`, `-`, `* ( ) : \ ~ ^ + -`, "🔑 pay", "مرحبا", strings.Repeat("pay ", 200), "<script>alert(1)</script>", `title:"pay`} {
		res, body := f.get("/search?q=" + url.QueryEscape(q))
		if res.StatusCode != 200 || strings.Contains(body, "<script>alert(1)") {
			t.Errorf("q=%.20q: %d", q, res.StatusCode)
		}
	}
}

func TestSearchAPI(t *testing.T) {
	f := newSearchFixture(t)
	res, body := f.get("/api/v1/search?q=pay+invoice&limit=5")
	var got map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &got); err != nil || res.StatusCode != 200 {
		t.Fatalf("%d %v %s", res.StatusCode, err, body)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"hits", "query", "took_ms", "total"}) {
		t.Errorf("keys = %v", keys)
	}
	var out struct {
		Query string
		Total int
		Hits  []map[string]string
	}
	json.Unmarshal([]byte(body), &out)
	if out.Query != "pay invoice" || out.Total != 2 || len(out.Hits) != 2 {
		t.Fatalf("result = %+v", out)
	}
	h := out.Hits[0]
	if h["slug"] != "pay-an-invoice" || h["url"] != "http://help.test/articles/pay-an-invoice" || h["category"] != "billing" ||
		h["title"] != "Pay an invoice" || !strings.Contains(h["snippet"], "<mark>") || len(h) != 5 {
		t.Errorf("hit = %v", h)
	}
	res, _ = f.get("/api/v1/search?q=records&category=domains")
	json.NewDecoder(strings.NewReader(body)).Decode(&out)
	if res.StatusCode != 200 {
		t.Errorf("category filter = %d", res.StatusCode)
	}
	for path, want := range map[string]int{"/api/v1/search": 400, "/api/v1/search?q=%20%20": 400, "/api/v1/search?q=a&limit=0": 400,
		"/api/v1/search?q=a&limit=1000": 400, "/api/v1/search?q=a&category=nope": 404, "/api/v1/search?q=%ff": 400} {
		res, body := f.get(path)
		var e struct {
			Error struct{ Code, Message string }
		}
		if res.StatusCode != want || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Errorf("GET %s = %d %s, want %d with an error object", path, res.StatusCode, body, want)
		}
	}
	_, body = f.get("/api/v1/search")
	if !strings.Contains(body, `"code":"invalid"`) {
		t.Errorf("empty query error = %s", body)
	}
}

func TestSuggestAPI(t *testing.T) {
	f := newSearchFixture(t)
	var out struct {
		Suggestions []struct{ Slug, Title, URL, Category string }
	}
	_, body := f.get("/api/v1/search/suggest?q=pay")
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.Suggestions) != 2 || out.Suggestions[0].Slug != "pay-an-invoice" ||
		out.Suggestions[0].URL != "http://help.test/articles/pay-an-invoice" || out.Suggestions[0].Category != "Billing & invoices" {
		t.Errorf("suggest pay = %s", body)
	}
	_, body = f.get("/api/v1/search/suggest?q=")
	if !strings.Contains(body, `"suggestions":[]`) {
		t.Errorf("empty suggest = %s", body)
	}
	if res, _ := f.get("/api/v1/search/suggest?q=x&limit=99"); res.StatusCode != 400 {
		t.Errorf("bad limit = %d", res.StatusCode)
	}
}

func TestSearchClick(t *testing.T) {
	f := newSearchFixture(t)
	res, _ := f.get("/search/click?q=invoice&pos=1&slug=pay-an-invoice")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/articles/pay-an-invoice" {
		t.Errorf("click = %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	for _, slug := range []string{"", "//evil.example", "https:%2F%2Fevil.example", "../admin", "a b"} {
		if res, _ := f.get("/search/click?q=x&pos=1&slug=" + url.QueryEscape(slug)); res.StatusCode != 400 {
			t.Errorf("slug %q = %d, want 400", slug, res.StatusCode)
		}
	}
}

func TestSearchAnalyticsAPI(t *testing.T) {
	f := newSearchFixture(t)
	for range 3 {
		f.get("/search?q=Invoice")
	}
	f.get("/api/v1/search?q=zzzzzz")
	f.get("/search/click?q=invoice&pos=1&slug=pay-an-invoice")
	res, body := f.get("/api/v1/analytics/search")
	if res.StatusCode != 401 || !strings.Contains(body, `"code":"unauthorized"`) {
		t.Errorf("anonymous = %d %s", res.StatusCode, body)
	}
	if res, _ := f.getAs("/api/v1/analytics/search", f.signIn(helpportal.RoleClient)); res.StatusCode != 403 {
		t.Errorf("client = %d", res.StatusCode)
	}
	staff := f.signIn(helpportal.RoleEditor)
	res, body = f.getAs("/api/v1/analytics/search?days=7", staff)
	var out struct {
		Report struct {
			Searches    int
			ZeroResults int `json:"zero_results"`
			Clicks      int
			Top         []struct {
				Query    string
				Searches int
				Clicks   int
			} `json:"top_queries"`
			Zero []struct{ Query string } `json:"zero_result_queries"`
		}
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || res.StatusCode != 200 {
		t.Fatalf("staff = %d %v %s", res.StatusCode, err, body)
	}
	r := out.Report
	if r.Searches != 4 || r.ZeroResults != 1 || r.Clicks != 1 || len(r.Top) == 0 || r.Top[0].Query != "invoice" || r.Top[0].Searches != 3 ||
		r.Top[0].Clicks != 1 || len(r.Zero) != 1 || r.Zero[0].Query != "zzzzzz" {
		t.Errorf("report = %s", body)
	}
}

// The search surfaces never show what the viewer may not read: not in results, counts,
// facets, suggestions or "did you mean".
func TestSearchNothingHiddenLeaks(t *testing.T) {
	f := newSearchFixture(t)
	secrets := []string{"secret-draft", "clients-only", "staff-only"}
	for _, p := range []string{"/search?q=zebra", "/search?q=zebr", "/search?q=zebras", "/search?q=payments", "/search?q=only",
		"/api/v1/search?q=zebra", "/api/v1/search?q=only", "/api/v1/search?q=internal", "/api/v1/search/suggest?q=zeb",
		"/api/v1/search/suggest?q=secret", "/api/v1/search/suggest?q=staff"} {
		_, body := f.get(p)
		for _, s := range append(secrets, "Secret draft", "Clients only", "Staff only") {
			if strings.Contains(body, s) {
				t.Errorf("GET %s shows %q", p, s)
			}
		}
	}
	_, body := f.get("/api/v1/search?q=zebra")
	if !strings.Contains(body, `"total":0`) {
		t.Errorf("anonymous zebra total: %s", body)
	}
	client := f.signIn(helpportal.RoleClient)
	_, body = f.getAs("/api/v1/search?q=zebra", client)
	if !strings.Contains(body, "clients-only") || strings.Contains(body, "staff-only") || strings.Contains(body, "secret-draft") {
		t.Errorf("client zebra: %s", body)
	}
	staff := f.signIn(helpportal.RoleAdmin)
	_, body = f.getAs("/api/v1/search?q=zebra", staff)
	for _, s := range secrets {
		if !strings.Contains(body, s) {
			t.Errorf("staff zebra lacks %s: %s", s, body)
		}
	}
}

// Without an engine (or before its first build) the portal falls back to the simple
// search, so the page and the API still answer.
func TestSearchFallback(t *testing.T) {
	f := newFixture(t)
	_, body := f.get("/api/v1/search?q=invoice")
	if !strings.Contains(body, `"slug":"pay-an-invoice"`) {
		t.Errorf("fallback API: %s", body)
	}
	_, body = f.get("/api/v1/search/suggest?q=pay")
	if !strings.Contains(body, `"slug":"pay-an-invoice"`) {
		t.Errorf("fallback suggest: %s", body)
	}
	if res, _ := f.get("/api/v1/analytics/search"); res.StatusCode != 401 {
		t.Errorf("analytics without engine, anonymous = %d", res.StatusCode)
	}
}
