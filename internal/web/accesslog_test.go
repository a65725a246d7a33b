package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"helpportal"
	"helpportal/internal/auth"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
	"helpportal/internal/web"
)

// faultyStore is the real store, except that the article "boom" panics and "fail" errs.
type faultyStore struct{ *store.DB }

func (f faultyStore) ArticleBySlug(ctx context.Context, v helpportal.Viewer, slug string) (*helpportal.Article, error) {
	switch slug {
	case "boom":
		panic("kaboom")
	case "down":
		return nil, helpportal.Errorf(helpportal.EUNAVAILABLE, "the database does not answer")
	case "fail":
		return nil, errors.New("the disk is on fire")
	}
	return f.DB.ArticleBySlug(ctx, v, slug)
}

// logBuffer collects the server's log; it is safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns the lines written since the last call, each parsed as JSON.
func (b *logBuffer) take(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var lines []map[string]any
	sc := bufio.NewScanner(&b.buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, sc.Text())
		}
		lines = append(lines, m)
	}
	b.buf.Reset()
	return lines
}

type logFixture struct {
	t    *testing.T
	srv  *web.Server
	logs *logBuffer
	db   *store.DB
	user *helpportal.User
}

// newLogFixture is a portal with the client area whose log (debug and up) is JSON in
// memory; requests are served in process so the test chooses the peer's address.
func newLogFixture(t *testing.T, trusted ...string) *logFixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.MustOpen(t)
	u := &helpportal.User{Email: "casey@example.com", Name: "Casey", Role: helpportal.RoleClient, Status: helpportal.UserActive, PasswordHash: "x"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	c := &helpportal.Category{Slug: "billing", Name: "Billing"}
	if err := db.SaveCategory(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveArticle(ctx, &helpportal.Article{Slug: "pay", Title: "Pay an invoice", CategoryID: c.ID, Body: "Pay."}); err != nil {
		t.Fatal(err)
	}
	var prefixes []netip.Prefix
	for _, p := range trusted {
		prefixes = append(prefixes, netip.MustParsePrefix(p))
	}
	logs := &logBuffer{}
	srv, err := web.New(web.Config{Site: helpportal.Site{Name: "Test", Language: "en", BaseURL: "http://help.test"},
		Store: faultyStore{db}, Accounts: db, Hasher: auth.NewHasher(auth.DefaultParams(), 1, 4), Policy: auth.DefaultPolicy(),
		Logger:         slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		TrustedProxies: prefixes, Metrics: true})
	if err != nil {
		t.Fatal(err)
	}
	return &logFixture{t: t, srv: srv, logs: logs, db: db, user: u}
}

// serve sends a request from peer (host:port) and returns the response and the log lines
// it caused, the request line last.
func (f *logFixture) serve(req *http.Request, peer string) (*httptest.ResponseRecorder, []map[string]any) {
	f.t.Helper()
	req.RemoteAddr = peer
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	lines := f.logs.take(f.t)
	if len(lines) == 0 || lines[len(lines)-1]["msg"] != "request" {
		f.t.Fatalf("%s %s: the last log line is not the request's: %v", req.Method, req.URL, lines)
	}
	return w, lines
}

var requestIDRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestRequestLogLine(t *testing.T) {
	f := newLogFixture(t)
	req := httptest.NewRequest(http.MethodGet, "/articles/pay?utm_source=x&email=casey@example.com", nil)
	w, lines := f.serve(req, "203.0.113.9:4711")
	line := lines[len(lines)-1]
	id, _ := line["request_id"].(string)
	if !requestIDRE.MatchString(id) {
		t.Errorf("request_id = %q, want 16 hex digits", id)
	}
	if h := w.Header().Get("X-Request-ID"); h != "" {
		t.Errorf("a 200 answer carries X-Request-ID %q; only errors do", h)
	}
	for k, want := range map[string]any{
		"level": "INFO", "request_id": id, "method": "GET", "route": "GET /articles/{slug}", "path": "/articles/pay",
		"status": 200.0, "bytes": float64(w.Body.Len()), "ip": "203.0.113.9",
	} {
		if line[k] != want {
			t.Errorf("%s = %v (%T), want %v", k, line[k], line[k], want)
		}
	}
	if d, ok := line["duration_ms"].(float64); !ok || d < 0 || d > 10_000 {
		t.Errorf("duration_ms = %v", line["duration_ms"])
	}
	if _, ok := line["user_id"]; ok {
		t.Error("an anonymous request has a user_id")
	}
	if _, ok := line["time"]; !ok {
		t.Error("no time")
	}
	// Every request gets its own ID; the page cache's hit is logged like any other.
	_, lines = f.serve(httptest.NewRequest(http.MethodGet, "/articles/pay", nil), "203.0.113.9:4711")
	if id2 := lines[len(lines)-1]["request_id"]; id2 == id || !requestIDRE.MatchString(id2.(string)) {
		t.Errorf("second request's ID %q (first %q)", id2, id)
	}
	// Paths and methods no specific route takes fall to the 404 page's catch-all; an error
	// answer carries the ID its line has.
	w3, lines := f.serve(httptest.NewRequest(http.MethodGet, "/no/such/page", nil), "203.0.113.9:1")
	if h := w3.Header().Get("X-Request-ID"); h == "" || h != lines[len(lines)-1]["request_id"] {
		t.Errorf("404: X-Request-ID %q, logged %v", h, lines[len(lines)-1]["request_id"])
	}
	if l := lines[len(lines)-1]; l["route"] != "/" || l["status"] != 404.0 || l["path"] != "/no/such/page" {
		t.Errorf("404 line = %v", l)
	}
	_, lines = f.serve(httptest.NewRequest(http.MethodDelete, "/articles/pay", nil), "203.0.113.9:1")
	if l := lines[len(lines)-1]; l["route"] != "/" || l["status"] != 404.0 || l["method"] != "DELETE" {
		t.Errorf("DELETE line = %v", l)
	}
	// Refused before routing (bad input): still one line, with the status.
	_, lines = f.serve(httptest.NewRequest(http.MethodGet, "/search?q=%ff", nil), "203.0.113.9:1")
	if l := lines[len(lines)-1]; l["status"] != 400.0 || l["path"] != "/search" {
		t.Errorf("400 line = %v", l)
	}
}

func TestRequestLogSignedIn(t *testing.T) {
	f := newLogFixture(t)
	token, hash := auth.NewToken()
	now := time.Now()
	if err := f.db.CreateSession(context.Background(), &helpportal.Session{TokenHash: hash, UserID: f.user.ID, CreatedAt: now, LastSeenAt: now,
		IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}, helpportal.Event{UserID: f.user.ID, Kind: helpportal.EventSignIn}); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/account", nil)
	req.AddCookie(&http.Cookie{Name: "hp_session", Value: token})
	w, lines := f.serve(req, "198.51.100.4:5000")
	if w.Code != 200 {
		t.Fatalf("account page = %d", w.Code)
	}
	if l := lines[len(lines)-1]; l["user_id"] != float64(f.user.ID) || l["route"] != "GET /account" {
		t.Errorf("signed-in line = %v, want user_id %d", l, f.user.ID)
	}
	for _, l := range lines {
		b, _ := json.Marshal(l)
		for _, secret := range []string{token, hash, f.user.Email} {
			if strings.Contains(string(b), secret) {
				t.Errorf("log line holds %q: %s", secret, b)
			}
		}
	}
}

// tokenRoutes are the routes of routes.go with a token in the path, read from the source so
// that a new one is covered without editing this test.
func tokenRoutes(t *testing.T) [][2]string {
	t.Helper()
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, m := range regexp.MustCompile(`"(GET|POST|PUT|PATCH|DELETE) (/[^"]*\{[a-z]*token[a-z]*\}[^"]*)"`).FindAllStringSubmatch(string(src), -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	if len(out) < 6 {
		t.Fatalf("found %d token routes in routes.go: %v", len(out), out)
	}
	return out
}

func TestRequestLogRedactsTokens(t *testing.T) {
	f := newLogFixture(t)
	token, _ := auth.NewToken()
	wildcard := regexp.MustCompile(`\{[a-z]*token[a-z]*\}`)
	for _, rt := range tokenRoutes(t) {
		method, pattern := rt[0], rt[1]
		// The real token, a truncated one, the route's own method and a wrong one (the 404
		// page's catch-all, which knows nothing of tokens).
		for _, tok := range []string{token, token[:12]} {
			for _, m := range []string{method, http.MethodPut} {
				p := wildcard.ReplaceAllString(pattern, tok)
				_, lines := f.serve(httptest.NewRequest(m, p+"?token="+tok+"&email=casey@example.com", nil), "203.0.113.9:1")
				want := wildcard.ReplaceAllString(pattern, "[redacted]")
				if l := lines[len(lines)-1]; l["path"] != want {
					t.Errorf("%s %s: logged path %v, want %s", m, p, l["path"], want)
				}
				for _, l := range lines {
					b, _ := json.Marshal(l)
					if strings.Contains(string(b), tok) || strings.Contains(string(b), "casey@example.com") {
						t.Errorf("%s %s: a log line holds the token or email: %s", m, p, b)
					}
				}
			}
		}
	}
	// A token-shaped segment on the 404 page is redacted; an article's long slug is not.
	_, lines := f.serve(httptest.NewRequest(http.MethodGet, "/old-links/"+token+"/x", nil), "203.0.113.9:1")
	if l := lines[len(lines)-1]; l["path"] != "/old-links/[redacted]/x" {
		t.Errorf("404 with a token: path %v", l["path"])
	}
	slug := "how-to-move-a-domain-between-two-accounts-x" // 43 characters, like a token
	_, lines = f.serve(httptest.NewRequest(http.MethodGet, "/articles/"+slug, nil), "203.0.113.9:1")
	if l := lines[len(lines)-1]; l["path"] != "/articles/"+slug {
		t.Errorf("article path %v", l["path"])
	}
}

func TestRequestIDFromProxy(t *testing.T) {
	f := newLogFixture(t, "10.0.0.0/8")
	get := func(peer, id string) (string, map[string]any) {
		req := httptest.NewRequest(http.MethodGet, "/no/such/page", nil) // a 404 carries the ID
		req.Header.Set("X-Forwarded-For", "198.51.100.7")
		if id != "" {
			req.Header.Set("X-Request-ID", id)
		}
		w, lines := f.serve(req, peer)
		line := lines[len(lines)-1]
		if line["request_id"] != w.Header().Get("X-Request-ID") {
			t.Errorf("logged ID %v, header %q", line["request_id"], w.Header().Get("X-Request-ID"))
		}
		return w.Header().Get("X-Request-ID"), line
	}
	// A trusted proxy's ID is kept; the client's address is the one the proxy reports.
	if id, line := get("10.1.2.3:443", "lb-7f3a.01_X"); id != "lb-7f3a.01_X" || line["ip"] != "198.51.100.7" {
		t.Errorf("trusted proxy: id %q, ip %v", id, line["ip"])
	}
	// Any other peer's header is ignored, as is its X-Forwarded-For.
	if id, line := get("203.0.113.9:443", "lb-7f3a.01_X"); !requestIDRE.MatchString(id) || line["ip"] != "203.0.113.9" {
		t.Errorf("untrusted peer: id %q, ip %v", id, line["ip"])
	}
	// Bad values from a trusted proxy are replaced.
	for _, bad := range []string{"has space", `quo"te`, "new\\nline", "<script>", "é", strings.Repeat("a", 65), "a/b"} {
		if id, _ := get("10.1.2.3:443", bad); !requestIDRE.MatchString(id) {
			t.Errorf("trusted proxy sent %q: kept as %q", bad, id)
		}
	}
	if id, _ := get("10.1.2.3:443", strings.Repeat("a", 64)); id != strings.Repeat("a", 64) {
		t.Errorf("64 characters refused: %q", id)
	}
	// A server without trusted proxies believes nobody.
	g := newLogFixture(t)
	req := httptest.NewRequest(http.MethodGet, "/no/such/page", nil)
	req.Header.Set("X-Request-ID", "lb-7f3a")
	if w, _ := g.serve(req, "127.0.0.1:1"); !requestIDRE.MatchString(w.Header().Get("X-Request-ID")) {
		t.Errorf("no trusted proxies: id %q", w.Header().Get("X-Request-ID"))
	}
	// The client's address is logged for a request refused before routing too.
	req = httptest.NewRequest(http.MethodGet, "/search?q=%ff", nil)
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	if _, lines := f.serve(req, "10.1.2.3:443"); lines[len(lines)-1]["ip"] != "198.51.100.7" {
		t.Errorf("400 behind a proxy: ip %v", lines[len(lines)-1]["ip"])
	}
}

func TestErrorLogsCarryTheRequestID(t *testing.T) {
	f := newLogFixture(t)
	for _, tc := range []struct{ path, msg string }{
		{"/articles/boom", "panic"},
		{"/articles/fail", "request failed"},
	} {
		w, lines := f.serve(httptest.NewRequest(http.MethodGet, tc.path, nil), "203.0.113.9:1")
		if w.Code != 500 {
			t.Errorf("%s = %d", tc.path, w.Code)
		}
		id := w.Header().Get("X-Request-ID")
		if !strings.Contains(w.Body.String(), "<code>"+id+"</code>") {
			t.Errorf("%s: the error page does not show the reference %s", tc.path, id)
		}
		req := lines[len(lines)-1]
		if req["status"] != 500.0 || req["request_id"] != id || req["route"] != "GET /articles/{slug}" {
			t.Errorf("%s: request line %v", tc.path, req)
		}
		found := false
		for _, l := range lines[:len(lines)-1] {
			if l["msg"] == tc.msg && l["level"] == "ERROR" {
				found = true
				if l["request_id"] != id || l["path"] != tc.path {
					t.Errorf("%s: error line %v lacks request_id %s", tc.path, l, id)
				}
			}
		}
		if !found {
			t.Errorf("%s: no %q error line in %v", tc.path, tc.msg, lines)
		}
	}
}

// With the request log off (a proxy in front logs requests), no line is written per
// request, but errors are still logged with the request's ID.
func TestRequestLogOff(t *testing.T) {
	db := storetest.MustOpen(t)
	logs := &logBuffer{}
	srv, err := web.New(web.Config{Site: helpportal.Site{Name: "Test", Language: "en", BaseURL: "http://help.test"},
		Store: faultyStore{db}, Logger: slog.New(slog.NewJSONHandler(logs, nil)), NoRequestLog: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/articles/fail"} {
		srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	lines := logs.take(t)
	if len(lines) != 1 || lines[0]["msg"] != "request failed" || lines[0]["request_id"] == nil {
		t.Errorf("with the request log off, want only the error line with its request_id: %v", lines)
	}
}

// During an outage every request fails alike: each gets its 503 line, but the cause is
// logged once in a while, not once per request.
func TestOutageErrorsAreNotAFlood(t *testing.T) {
	f := newLogFixture(t)
	errorLines, statuses := 0, 0
	for range 20 {
		_, lines := f.serve(httptest.NewRequest(http.MethodGet, "/articles/down", nil), "203.0.113.9:1")
		for _, l := range lines {
			if l["level"] == "ERROR" {
				errorLines++
			}
			if l["msg"] == "request" && l["status"] == 503.0 {
				statuses++
			}
		}
	}
	if errorLines != 1 || statuses != 20 {
		t.Errorf("20 requests during an outage: %d error lines (want 1), %d request lines with 503 (want 20)", errorLines, statuses)
	}
}

// A client that leaves mid-request is not a server error: no ERROR line, no 500, and the
// request's line says 499.
func TestClientGoneIsNotAnError(t *testing.T) {
	f := newLogFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w, lines := f.serve(httptest.NewRequestWithContext(ctx, http.MethodGet, "/articles/pay", nil), "203.0.113.9:1")
	if w.Code == http.StatusInternalServerError {
		t.Errorf("canceled request answered 500")
	}
	for _, l := range lines {
		if l["level"] == "ERROR" {
			t.Errorf("error line for a canceled request: %v", l)
		}
	}
	if last := lines[len(lines)-1]; last["msg"] != "request" || last["status"] != 499.0 {
		t.Errorf("request line %v, want status 499", last)
	}
}

// BenchmarkRequestLog is the request log's own cost, on the cheapest route: the same
// request with its line written as JSON or text (to io.Discard) and with the log off.
func BenchmarkRequestLog(b *testing.B) {
	for _, tc := range []struct {
		name string
		h    slog.Handler
	}{
		{"json", slog.NewJSONHandler(io.Discard, nil)},
		{"text", slog.NewTextHandler(io.Discard, nil)},
		{"off", slog.DiscardHandler},
	} {
		b.Run(tc.name, func(b *testing.B) {
			srv, err := web.New(web.Config{Site: helpportal.Site{Name: "Bench", Language: "en", BaseURL: "http://bench.test"},
				Store: storetest.MustOpen(b), Logger: slog.New(tc.h)})
			if err != nil {
				b.Fatal(err)
			}
			benchGet(b, srv, func(int) string { return "/healthz" })
		})
	}
}
