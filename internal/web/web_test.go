package web_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"helpportal"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
	"helpportal/internal/web"
)

// fixture is a portal with a small, known knowledge base.
type fixture struct {
	t    *testing.T
	db   *store.DB
	srv  *web.Server
	ts   *httptest.Server
	cats map[string]*helpportal.Category
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.MustOpen(t)
	f := &fixture{t: t, db: db, cats: map[string]*helpportal.Category{}}
	for _, c := range []*helpportal.Category{
		{Slug: "billing", Name: "Billing & invoices", Description: "Paying for your services.", Position: 1},
		{Slug: "domains", Name: "Domains & DNS", Description: "Names and records.", Position: 2},
	} {
		if err := db.SaveCategory(ctx, c); err != nil {
			t.Fatal(err)
		}
		f.cats[c.Slug] = c
	}
	sub := &helpportal.Category{Slug: "dns-records", Name: "DNS records", ParentID: f.cats["domains"].ID}
	if err := db.SaveCategory(ctx, sub); err != nil {
		t.Fatal(err)
	}
	f.cats[sub.Slug] = sub
	f.article(&helpportal.Article{Slug: "pay-an-invoice", Title: "Pay an invoice", Summary: "Settle what you owe.", Type: helpportal.TypeHowTo,
		CategoryID: f.cats["billing"].ID, Tags: []string{"invoices", "payments"},
		Body: "Pay on time.\n\n## Before you start\n\nHave a card.\n\n## Steps\n\n1. Sign in.\n2. Open **Billing**.\n3. Click Pay.\n\n## If it fails\n\nCall us.\n"})
	f.article(&helpportal.Article{Slug: "failed-payment", Title: "A payment failed", Type: helpportal.TypeTroubleshooting,
		CategoryID: f.cats["billing"].ID, Tags: []string{"payments"}, Body: "Check the card.\n"})
	f.article(&helpportal.Article{Slug: "mx-records", Title: "MX records explained", Type: helpportal.TypeReference,
		CategoryID: f.cats["dns-records"].ID, Tags: []string{"dns"}, Body: "| Record | Use |\n|---|---|\n| MX | mail |\n"})
	// Articles no anonymous visitor may ever see.
	f.article(&helpportal.Article{Slug: "secret-draft", Title: "Secret draft zebra", Status: helpportal.StatusDraft, Type: helpportal.TypeFAQ,
		CategoryID: f.cats["billing"].ID, Tags: []string{"payments"}, Body: "Not yet."})
	f.article(&helpportal.Article{Slug: "clients-only", Title: "Clients only zebra", Visibility: helpportal.VisibilityClients, Type: helpportal.TypeFAQ,
		CategoryID: f.cats["billing"].ID, Tags: []string{"payments"}, Body: "For clients."})
	f.article(&helpportal.Article{Slug: "staff-only", Title: "Staff only zebra", Visibility: helpportal.VisibilityStaff, Type: helpportal.TypeWalkthrough,
		CategoryID: f.cats["dns-records"].ID, Tags: []string{"dns"}, Body: "1. Internal step."})
	now := time.Now()
	for _, a := range []*helpportal.Announcement{
		{Slug: "mail-maintenance", Title: "Mail maintenance tonight", Body: "We will *restart* mail.", Severity: helpportal.SeverityWarning, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour)},
		{Slug: "old-news", Title: "Old news item", Body: "Done.", StartsAt: now.Add(-48 * time.Hour), EndsAt: now.Add(-24 * time.Hour)},
		{Slug: "future-news", Title: "Future news item", Body: "Soon.", StartsAt: now.Add(24 * time.Hour)},
	} {
		if err := db.SaveAnnouncement(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := web.New(web.Config{
		Site: helpportal.Site{Name: "Test Help", Tagline: "Answers.", Language: "en", BaseURL: "http://help.test",
			HeaderLinks: []helpportal.Link{{Label: "Get prices", URL: "https://example.com/prices"}}},
		Store:   db,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	f.ts = httptest.NewServer(srv)
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fixture) article(a *helpportal.Article) *helpportal.Article {
	f.t.Helper()
	if err := f.db.SaveArticle(context.Background(), a); err != nil {
		f.t.Fatal(err)
	}
	return a
}

// get fetches path without following redirects.
func (f *fixture) get(path string) (*http.Response, string) {
	f.t.Helper()
	return f.do(mustRequest(f.t, http.MethodGet, f.ts.URL+path, nil))
}

func (f *fixture) do(req *http.Request) (*http.Response, string) {
	f.t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return res, string(b)
}

func mustRequest(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// page fetches path, expects status, and parses the HTML.
func (f *fixture) page(path string, status int) *html.Node {
	f.t.Helper()
	res, body := f.get(path)
	if res.StatusCode != status {
		f.t.Fatalf("GET %s: status %d, want %d\n%s", path, res.StatusCode, status, body)
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		f.t.Fatalf("GET %s: %v", path, err)
	}
	return doc
}

// find returns every element for which match is true, in document order.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

func byClass(class string) func(*html.Node) bool {
	return func(n *html.Node) bool { return hasClass(n, class) }
}

func texts(nodes []*html.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = text(n)
	}
	return out
}

func hrefs(doc *html.Node) []string {
	var out []string
	for _, a := range find(doc, tag("a")) {
		out = append(out, attr(a, "href"))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestHeaderOnEveryPage(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/", "/topics", "/categories/billing", "/articles/pay-an-invoice", "/search?q=pay", "/announcements", "/no-such-page"} {
		doc := f.page(path, map[bool]int{true: 404, false: 200}[path == "/no-such-page"])
		header := find(doc, byClass("site-header"))
		if len(header) != 1 {
			t.Fatalf("%s: %d site headers", path, len(header))
		}
		links := hrefs(header[0])
		for _, want := range []string{"/", "/topics", "https://example.com/prices", "/login"} {
			if !contains(links, want) {
				t.Errorf("%s: header lacks a link to %s (has %v)", path, want, links)
			}
		}
		if n := find(header[0], func(n *html.Node) bool { return n.Data == "input" && attr(n, "name") == "q" }); len(n) != 1 {
			t.Errorf("%s: header search box missing", path)
		}
		root := find(doc, tag("html"))[0]
		if attr(root, "lang") != "en" {
			t.Errorf("%s: html lang = %q", path, attr(root, "lang"))
		}
		// The breaking bar shows the active announcement only.
		bar := find(doc, byClass("breaking"))
		if len(bar) != 1 || !strings.Contains(text(bar[0]), "Mail maintenance tonight") || strings.Contains(text(bar[0]), "Old news") {
			t.Errorf("%s: breaking bar = %v", path, texts(bar))
		}
		for _, meta := range []string{"description", "og:title", "og:url", "og:type"} {
			if len(find(doc, func(n *html.Node) bool {
				return n.Data == "meta" && (attr(n, "name") == meta || attr(n, "property") == meta)
			})) != 1 {
				t.Errorf("%s: no meta %s", path, meta)
			}
		}
		if len(find(doc, func(n *html.Node) bool { return n.Data == "link" && attr(n, "rel") == "canonical" })) != 1 {
			t.Errorf("%s: no canonical link", path)
		}
	}
}

func TestHome(t *testing.T) {
	f := newFixture(t)
	doc := f.page("/", 200)
	if h := texts(find(doc, tag("h1"))); len(h) != 1 {
		t.Fatalf("h1s = %v", h)
	}
	sections := texts(find(doc, byClass("section-card")))
	if len(sections) != 3 { // troubleshooting, how-to, reference: the types with public articles
		t.Errorf("sections = %q", sections)
	}
	cards := texts(find(doc, byClass("card")))
	want := []string{"Billing & invoices Paying for your services. 2 articles", "Domains & DNS Names and records. 1 article"}
	if strings.Join(cards, "|") != strings.Join(want, "|") {
		t.Errorf("cards = %q, want %q", cards, want)
	}
	if !contains(hrefs(doc), "/topics") {
		t.Error("no Browse all knowledge link")
	}
}

func TestTopics(t *testing.T) {
	f := newFixture(t)
	doc := f.page("/topics", 200)
	topics := find(doc, byClass("topic"))
	if len(topics) != 2 {
		t.Fatalf("topics = %q", texts(topics))
	}
	sub := find(topics[1], byClass("subtopic"))
	if len(sub) != 1 || !strings.Contains(text(sub[0]), "MX records explained") {
		t.Errorf("sub-topic = %q", texts(sub))
	}
}

func TestCategory(t *testing.T) {
	f := newFixture(t)
	doc := f.page("/categories/domains", 200)
	crumbs := texts(find(find(doc, byClass("breadcrumbs"))[0], tag("li")))
	if strings.Join(crumbs, " › ") != "Home › All topics › Domains & DNS" {
		t.Errorf("crumbs = %q", crumbs)
	}
	if cards := texts(find(doc, byClass("card"))); len(cards) != 1 || !strings.HasPrefix(cards[0], "DNS records") {
		t.Errorf("sub-category cards = %q", cards)
	}
	f.page("/categories/nope", 404)
	for _, bad := range []string{"?page=0", "?page=abc", "?page=-1", "?page=99999999999"} {
		f.page("/categories/billing"+bad, 400)
	}
	f.page("/categories/billing?page=2", 404)
}

func TestCategoryPagination(t *testing.T) {
	f := newFixture(t)
	var list []*helpportal.Article
	for i := range 60 {
		list = append(list, &helpportal.Article{Slug: "bulk-" + strconv.Itoa(i), Title: "Bulk article " + strconv.Itoa(i),
			CategoryID: f.cats["billing"].ID, Body: "Body."})
	}
	if err := f.db.SaveArticles(context.Background(), list); err != nil {
		t.Fatal(err)
	}
	p1 := f.page("/categories/billing", 200)
	p2 := f.page("/categories/billing?page=2", 200)
	n1 := len(find(find(p1, byClass("article-list"))[0], tag("li")))
	n2 := len(find(find(p2, byClass("article-list"))[0], tag("li")))
	if n1 != 50 || n2 != 12 {
		t.Errorf("page sizes = %d, %d; want 50, 12", n1, n2)
	}
	if !contains(hrefs(p1), "/categories/billing?page=2") || !contains(hrefs(p2), "/categories/billing?page=1") {
		t.Error("pager links missing")
	}
}

func TestArticle(t *testing.T) {
	f := newFixture(t)
	doc := f.page("/articles/pay-an-invoice", 200)
	crumbs := texts(find(find(doc, byClass("breadcrumbs"))[0], tag("li")))
	if strings.Join(crumbs, " › ") != "Home › All topics › Billing & invoices › Pay an invoice" {
		t.Errorf("crumbs = %q", crumbs)
	}
	if !contains(hrefs(doc), "/articles/pay-an-invoice/print") {
		t.Error("no print link")
	}
	if back := find(doc, byClass("back")); len(back) != 1 || text(back[0]) != "‹ All topics" || attr(back[0], "href") != "/topics" {
		t.Errorf("back link = %q", texts(back))
	}
	if b := texts(find(find(doc, byClass("article-header"))[0], byClass("badge"))); len(b) != 1 || b[0] != "How-to" {
		t.Errorf("badge = %q", b)
	}
	toc := find(doc, byClass("toc"))
	if len(toc) != 1 || len(find(toc[0], tag("li"))) != 3 {
		t.Errorf("toc = %q", texts(toc))
	}
	if rel := texts(find(find(doc, byClass("sidebar"))[0], tag("section"))); len(rel) != 1 || !strings.Contains(rel[0], "A payment failed") || strings.Contains(rel[0], "zebra") {
		t.Errorf("related = %q", rel)
	}
	if tags := texts(find(find(doc, byClass("tags"))[0], tag("li"))); strings.Join(tags, ",") != "invoices,payments" {
		t.Errorf("tags = %q", tags)
	}
	forms := find(doc, func(n *html.Node) bool { return n.Data == "form" && attr(n, "method") == "post" })
	if len(forms) != 1 || attr(forms[0], "action") != "/articles/pay-an-invoice/vote" || len(find(forms[0], tag("button"))) != 2 {
		t.Errorf("vote form = %q", texts(forms))
	}
	if times := find(doc, tag("time")); len(times) == 0 || attr(times[0], "datetime") == "" {
		t.Error("no last-updated time")
	}
	// Structured data: HowTo with its steps, and the breadcrumb list.
	ld := find(doc, func(n *html.Node) bool { return n.Data == "script" && attr(n, "type") == "application/ld+json" })
	if len(ld) != 1 {
		t.Fatalf("%d JSON-LD blocks", len(ld))
	}
	var data []map[string]any
	if err := json.Unmarshal([]byte(ld[0].FirstChild.Data), &data); err != nil {
		t.Fatalf("JSON-LD: %v", err)
	}
	if data[0]["@type"] != "HowTo" || len(data[0]["step"].([]any)) != 3 || data[1]["@type"] != "BreadcrumbList" {
		t.Errorf("JSON-LD = %v", data)
	}
	// Fewer than three headings: no table of contents.
	if toc := find(f.page("/articles/failed-payment", 200), byClass("toc")); len(toc) != 0 {
		t.Error("toc shown for an article without headings")
	}
}

func TestPrintView(t *testing.T) {
	f := newFixture(t)
	doc := f.page("/articles/pay-an-invoice/print", 200)
	if n := find(doc, func(n *html.Node) bool { return n.Data == "nav" || n.Data == "header" && hasClass(n, "site-header") }); len(n) != 0 {
		t.Errorf("print view has navigation: %q", texts(n))
	}
	if u := texts(find(doc, byClass("print-url"))); len(u) != 1 || u[0] != "http://help.test/articles/pay-an-invoice" {
		t.Errorf("printed URL = %q", u)
	}
	f.page("/articles/staff-only/print", 404)
}

func TestRenamedArticleRedirects(t *testing.T) {
	f := newFixture(t)
	a, err := f.db.ArticleBySlug(context.Background(), helpportal.Anonymous, "failed-payment")
	if err != nil {
		t.Fatal(err)
	}
	a.Slug = "payment-declined"
	f.article(a)
	for path, want := range map[string]string{
		"/articles/failed-payment":       "/articles/payment-declined",
		"/articles/failed-payment/print": "/articles/payment-declined/print",
	} {
		res, _ := f.get(path)
		if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != want {
			t.Errorf("GET %s = %d → %q, want 301 → %s", path, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
	f.page("/articles/payment-declined", 200)
}

func TestNothingHiddenLeaks(t *testing.T) {
	f := newFixture(t)
	paths := []string{"/", "/topics", "/categories/billing", "/categories/domains", "/categories/dns-records",
		"/articles/pay-an-invoice", "/articles/failed-payment", "/articles/mx-records", "/articles/pay-an-invoice/print",
		"/search?q=zebra", "/search?q=payment", "/search", "/sitemap.xml", "/announcements", "/announcements.atom",
		"/api/v1/articles", "/api/v1/articles?category=billing", "/api/v1/articles?tag=payments", "/api/v1/categories"}
	for _, p := range paths {
		res, body := f.get(p)
		if res.StatusCode != 200 {
			t.Errorf("GET %s = %d", p, res.StatusCode)
		}
		for _, secret := range []string{"zebra", "secret-draft", "clients-only", "staff-only", "Future news"} {
			if strings.Contains(body, secret) && !(secret == "zebra" && strings.HasPrefix(p, "/search?q=zebra")) {
				t.Errorf("GET %s shows %q", p, secret)
			}
		}
	}
	for _, p := range []string{"/articles/secret-draft", "/articles/clients-only", "/articles/staff-only", "/articles/clients-only/print",
		"/api/v1/articles/staff-only", "/announcements/future-news"} {
		if res, _ := f.get(p); res.StatusCode != 404 {
			t.Errorf("GET %s = %d, want 404", p, res.StatusCode)
		}
	}
	// Counts respect visibility: billing has 2 public articles of 4.
	var cats struct {
		Categories []struct {
			Slug     string
			Articles int
		}
	}
	_, body := f.get("/api/v1/categories")
	json.Unmarshal([]byte(body), &cats)
	for _, c := range cats.Categories {
		if c.Slug == "billing" && c.Articles != 2 {
			t.Errorf("billing count = %d, want 2", c.Articles)
		}
	}
	if res := vote(f, "staff-only", "yes", nil); res.StatusCode != 404 {
		t.Errorf("vote on hidden article = %d", res.StatusCode)
	}
}

func vote(f *fixture, slug, answer string, cookie *http.Cookie) *http.Response {
	req := mustRequest(f.t, http.MethodPost, f.ts.URL+"/articles/"+slug+"/vote", strings.NewReader(url.Values{"helpful": {answer}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	res, _ := f.do(req)
	return res
}

func TestVote(t *testing.T) {
	f := newFixture(t)
	res := vote(f, "pay-an-invoice", "yes", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/articles/pay-an-invoice?voted=yes#feedback" {
		t.Fatalf("vote = %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	cookies := res.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly {
		t.Fatalf("visitor cookie = %v", cookies)
	}
	vote(f, "pay-an-invoice", "yes", cookies[0]) // the same visitor again: still one vote
	vote(f, "pay-an-invoice", "no", nil)         // another visitor
	a, _ := f.db.ArticleBySlug(context.Background(), helpportal.Anonymous, "pay-an-invoice")
	if a.Helpful != 1 || a.NotHelpful != 1 {
		t.Errorf("helpful, not helpful = %d, %d; want 1, 1", a.Helpful, a.NotHelpful)
	}
	vote(f, "pay-an-invoice", "no", cookies[0]) // changing one's mind moves the vote
	a, _ = f.db.ArticleBySlug(context.Background(), helpportal.Anonymous, "pay-an-invoice")
	if a.Helpful != 0 || a.NotHelpful != 2 {
		t.Errorf("after change: %d, %d; want 0, 2", a.Helpful, a.NotHelpful)
	}
	if r := vote(f, "pay-an-invoice", "maybe", nil); r.StatusCode != 400 {
		t.Errorf("bad vote = %d", r.StatusCode)
	}
	if r := vote(f, "nope", "yes", nil); r.StatusCode != 404 {
		t.Errorf("vote on unknown = %d", r.StatusCode)
	}
	doc := f.page("/articles/pay-an-invoice?voted=yes", 200)
	if fb := texts(find(doc, byClass("feedback"))); len(fb) != 1 || !strings.Contains(fb[0], "Thanks") {
		t.Errorf("feedback = %q", fb)
	}
	// A cross-site form post is refused and counts nothing.
	req := mustRequest(t, http.MethodPost, f.ts.URL+"/articles/pay-an-invoice/vote", strings.NewReader("helpful=yes"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res, _ := f.do(req); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site vote = %d", res.StatusCode)
	}
}

func TestCacheSeesChanges(t *testing.T) {
	f := newFixture(t)
	f.page("/articles/mx-records", 200)
	a, _ := f.db.ArticleBySlug(context.Background(), helpportal.Anonymous, "mx-records")
	a.Title = "MX records, explained again"
	f.article(a)
	if h := texts(find(f.page("/articles/mx-records", 200), tag("h1"))); h[0] != "MX records, explained again" {
		t.Errorf("h1 after edit = %q", h)
	}
	res, _ := f.get("/articles/mx-records")
	req := mustRequest(t, http.MethodGet, f.ts.URL+"/articles/mx-records", nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	if res, _ := f.do(req); res.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", res.StatusCode)
	}
}

func TestSecurityHeadersEverywhere(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/", "/topics", "/articles/pay-an-invoice", "/articles/pay-an-invoice/print", "/nope", "/api/v1/articles",
		"/api/v1/nope", "/sitemap.xml", "/robots.txt", "/healthz", "/announcements.atom", "/search?q=x", "/%ff"} {
		res, _ := f.get(p)
		csp := res.Header.Get("Content-Security-Policy")
		if csp == "" || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP = %q", p, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers = %v", p, res.Header)
		}
	}
}

func TestHostileInput(t *testing.T) {
	f := newFixture(t)
	routes := []string{"/", "/topics", "/categories/billing", "/articles/pay-an-invoice", "/articles/pay-an-invoice/print",
		"/search", "/announcements", "/announcements/mail-maintenance", "/announcements.atom", "/sitemap.xml", "/robots.txt",
		"/opensearch.xml", "/api/v1/articles", "/api/v1/articles/pay-an-invoice", "/api/v1/categories", "/healthz", "/readyz"}
	suffixes := []string{"?q=%ff%fe", "?q=a%00b", "?page=%00", "?q=" + strings.Repeat("x", 5000), "?%zz", "?q=%3Cscript%3Ealert(1)%3C/script%3E",
		"?page=-5", "?page=1e9", "?q=' OR 1=1 --", "?category=..%2F..%2Fetc", "/%ff", "/%00", "/" + strings.Repeat("a", 3000), "/../../etc/passwd"}
	for _, r := range routes {
		for _, s := range suffixes {
			res, body := f.get(r + s)
			if res.StatusCode >= 500 {
				t.Errorf("GET %s%s = %d", r, truncate(s), res.StatusCode)
			}
			if strings.Contains(body, "<script>alert(1)") {
				t.Errorf("GET %s%s reflects a script", r, truncate(s))
			}
		}
		for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
			res, _ := f.do(mustRequest(t, m, f.ts.URL+r, nil))
			if res.StatusCode != http.StatusMethodNotAllowed && res.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s = %d, want 405", m, r, res.StatusCode)
			}
		}
	}
	for path, want := range map[string]int{"/%ff": 400, "/articles/%00": 400, "/search?q=%ff": 400, "/api/v1/articles?page=0": 400,
		"/api/v1/articles?per_page=100000": 400, "/api/v1/articles?type=blog": 400, "/" + strings.Repeat("a", 3000): 400} {
		if res, _ := f.get(path); res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", truncate(path), res.StatusCode, want)
		}
	}
	// An oversized form body is refused with 413.
	req := mustRequest(t, http.MethodPost, f.ts.URL+"/articles/pay-an-invoice/vote", strings.NewReader("helpful=yes&pad="+strings.Repeat("x", 2<<20)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, _ := f.do(req); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized vote = %d, want 413", res.StatusCode)
	}
	if res, _ := f.do(mustRequest(t, http.MethodPost, f.ts.URL+"/articles/pay-an-invoice/vote", strings.NewReader("%zz"))); res.StatusCode >= 500 {
		t.Errorf("garbage vote = %d", res.StatusCode)
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func TestAPI(t *testing.T) {
	f := newFixture(t)
	res, body := f.get("/api/v1/articles?per_page=2")
	var list struct {
		Articles []struct{ Slug, Title, URL, Category string }
		Total    int
		Pages    int
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || res.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("list: %v %s", err, body)
	}
	if list.Total != 3 || len(list.Articles) != 2 || list.Pages != 2 {
		t.Errorf("list = %+v", list)
	}
	_, body = f.get("/api/v1/articles?category=domains")
	json.Unmarshal([]byte(body), &list)
	if list.Total != 1 || list.Articles[0].Slug != "mx-records" || list.Articles[0].Category != "dns-records" {
		t.Errorf("category filter (with sub-categories) = %+v", list)
	}
	_, body = f.get("/api/v1/articles/pay-an-invoice")
	var one struct {
		Slug, HTML, Markdown string
		Tags                 []string
	}
	json.Unmarshal([]byte(body), &one)
	if one.Slug != "pay-an-invoice" || !strings.Contains(one.HTML, "<ol>") || len(one.Tags) != 2 {
		t.Errorf("article = %+v", one)
	}
	for path, code := range map[string]string{"/api/v1/articles/nope": "not_found", "/api/v1/articles?page=x": "invalid", "/api/v1/nope": "not_found"} {
		res, body := f.get(path)
		var e struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != code || e.Error.Message == "" || res.StatusCode < 400 {
			t.Errorf("%s: %d %s", path, res.StatusCode, body)
		}
	}
}

func TestFeedsAndCrawlers(t *testing.T) {
	f := newFixture(t)
	_, body := f.get("/announcements.atom")
	var feed struct {
		Entries []struct{ Title string } `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(body), &feed); err != nil || len(feed.Entries) != 2 {
		t.Errorf("feed: %v, %d entries", err, len(feed.Entries))
	}
	_, body = f.get("/sitemap.xml")
	var sm struct {
		URLs []struct{ Loc string } `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(body), &sm); err != nil || len(sm.URLs) != 2+3+3 {
		t.Errorf("sitemap: %v, %d urls", err, len(sm.URLs))
	}
	_, body = f.get("/robots.txt")
	if !strings.Contains(body, "Sitemap: http://help.test/sitemap.xml") {
		t.Errorf("robots = %q", body)
	}
	_, body = f.get("/opensearch.xml")
	if err := xml.Unmarshal([]byte(body), new(struct{})); err != nil || !strings.Contains(body, "http://help.test/search?q={searchTerms}") {
		t.Errorf("opensearch = %q", body)
	}
	doc := f.page("/announcements/mail-maintenance", 200)
	if p := find(doc, byClass("prose")); len(p) != 1 || !strings.Contains(text(p[0]), "We will restart mail.") {
		t.Errorf("announcement body = %q", texts(p))
	}
}

func TestStaticAssets(t *testing.T) {
	f := newFixture(t)
	doc := f.page("/", 200)
	css := find(doc, func(n *html.Node) bool { return n.Data == "link" && attr(n, "rel") == "stylesheet" })
	if len(css) != 1 {
		t.Fatal("no stylesheet")
	}
	res, _ := f.get(attr(css[0], "href"))
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") || res.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("stylesheet: %d %v", res.StatusCode, res.Header)
	}
	if res, _ := f.get("/static/style.css"); res.StatusCode != 404 {
		t.Errorf("unhashed asset = %d, want 404", res.StatusCode)
	}
}
