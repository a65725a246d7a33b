package main_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"helpportal/internal/store/storetest"
)

// TestTwoInstancesOnePostgres runs two `serve` processes over one PostgreSQL database and
// checks they behave as one portal: set-up, sessions, search, one-time links, throttling and
// mail all cross from one instance to the other.
func TestTwoInstancesOnePostgres(t *testing.T) {
	if os.Getenv("HELPPORTAL_TEST_DATABASE_URL") == "" {
		t.Skip("PostgreSQL tests skipped: set HELPPORTAL_TEST_DATABASE_URL=postgres://… to run them")
	}
	dbURL := storetest.EmptyPostgres(t)
	if code, _, errOut := run(t, "migrate", "--database-url", dbURL); code != 0 {
		t.Fatalf("migrate = %d %s", code, errOut)
	}
	box, smtpURL := startSMTP(t)
	args := func() []string {
		return []string{"--database-url", dbURL, "--data", t.TempDir(), "--smtp-url", smtpURL, "--mail-from", "help@example.com"}
	}
	a, _ := serve(t, args()...)
	b, outB := serve(t, args()...)

	// The set-up link B printed works on A (it voided the one A printed).
	setup := regexp.MustCompile(`/invite/[A-Za-z0-9_-]{43}`).FindString(outB.String())
	admin := newBrowser(t, a)
	if res, _ := admin.post(setup, url.Values{"email": {"boss@example.com"}, "name": {"Boss"}, "new_password": {strongPassword}}); res.StatusCode != 303 {
		t.Fatalf("set-up on A with B's link = %d", res.StatusCode)
	}

	// A session made on A works on B.
	res, _ := newBrowser(t, a).post("/login", url.Values{"email": {"boss@example.com"}, "password": {strongPassword}})
	if res.StatusCode != 303 || len(res.Cookies()) == 0 {
		t.Fatalf("sign in on A = %d", res.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, b+"/account", nil)
	req.AddCookie(res.Cookies()[0])
	resB, err := noFollow().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resB.Body.Close()
	if resB.StatusCode != 200 {
		t.Errorf("A's session on B = %d", resB.StatusCode)
	}

	// An article written by another process is found by B's search.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "billing"), 0o755)
	os.WriteFile(filepath.Join(dir, "billing", "platypus-invoices.md"), []byte("---\ntitle: Platypus invoices\n---\nHow platypus billing works.\n"), 0o644)
	start := time.Now()
	if code, _, errOut := run(t, "import", "--database-url", dbURL, dir); code != 0 {
		t.Fatalf("import = %d %s", code, errOut)
	}
	for {
		_, body := get(t, b+"/api/v1/search?q=platypus")
		if strings.Contains(body, "platypus-invoices") {
			t.Logf("searchable on B %s after the write", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Since(start) > 15*time.Second {
			t.Fatal("the new article never became searchable on B")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A reset requested on A is accepted by B, once; the mail is delivered exactly once
	// although both instances run a mail worker.
	newBrowser(t, a).post("/forgot-password", url.Values{"email": {"boss@example.com"}})
	link, _ := box.waitMail(t, "boss@example.com", "reset")
	if res, _ := newBrowser(t, b).post(pathOf(t, link), url.Values{"new_password": {"fresh river mountain cloud path"}}); res.StatusCode != 303 {
		t.Fatalf("reset on B = %d", res.StatusCode)
	}
	if res, _ := newBrowser(t, a).post(pathOf(t, link), url.Values{"new_password": {"other river mountain cloud path"}}); res.StatusCode != 404 {
		t.Errorf("the same link again on A = %d", res.StatusCode)
	}
	box.waitMail(t, "boss@example.com", "password was changed")
	time.Sleep(3 * time.Second) // both workers have polled the outbox by now
	if n := box.count("boss@example.com"); n != 0 {
		t.Errorf("%d mails to the account were delivered twice", n)
	}

	// Throttling counted on A applies on B.
	for range 5 {
		newBrowser(t, a).post("/login", url.Values{"email": {"boss@example.com"}, "password": {"not the password at all"}})
	}
	if res, _ := newBrowser(t, b).post("/login", url.Values{"email": {"boss@example.com"}, "password": {"not the password at all"}}); res.StatusCode != 429 {
		t.Errorf("sixth failure, on B = %d, want 429", res.StatusCode)
	}
}

func noFollow() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
