package web_test

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"helpportal"
)

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.get("/articles/pay-an-invoice")
	f.get("/articles/pay-an-invoice")
	f.get("/no-such-page")
	f.get("/reset-password/" + strings.Repeat("A", 43))
	res, body := f.get("/metrics")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics = %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`helpportal_http_requests_total{code="200",route="GET /articles/{slug}"} 2`,
		`helpportal_http_requests_total{code="404",route="/"} 2`, // the unknown page and the reset link (no client area here)
		`helpportal_http_request_duration_seconds_bucket{route="GET /articles/{slug}",le="+Inf"} 2`,
		`helpportal_change_seq `,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, strings.Repeat("A", 43)) {
		t.Error("a token reached a metric label")
	}
}

// TestMetricsGauges: search latency, the outbox by state and live sessions, each read from
// where the value lives.
func TestMetricsGauges(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u := &helpportal.User{Email: "m@example.com", Name: "M", Role: helpportal.RoleClient, Status: helpportal.UserActive, PasswordHash: "h"}
	if err := f.db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	// Three mails: one left waiting, one failed once (retrying), one given up.
	for i := range 3 {
		m := &helpportal.OutgoingMail{To: u.Email, Subject: "s", Text: "t", HTML: "h", MessageID: fmt.Sprintf("<%d@x>", i)}
		if err := f.db.CreateToken(ctx, u.ID, helpportal.TokenReset, fmt.Sprintf("t%d", i), "", time.Hour, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	claimed, err := f.db.ClaimMail(ctx, now, 2, time.Minute)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	if err := f.db.MailFailed(ctx, claimed[0].ID, now.Add(time.Minute), "451 try later", false); err != nil {
		t.Fatal(err)
	}
	if err := f.db.MailFailed(ctx, claimed[1].ID, now, "550 no such user", true); err != nil {
		t.Fatal(err)
	}
	// Two live sessions and one that ended an hour ago.
	for i, end := range []time.Time{now.Add(time.Hour), now.Add(2 * time.Hour), now.Add(-time.Hour)} {
		s := &helpportal.Session{TokenHash: fmt.Sprintf("s%d", i), UserID: u.ID, CreatedAt: now.Add(-2 * time.Hour), LastSeenAt: now,
			IdleUntil: end, ExpiresAt: end}
		if err := f.db.CreateSession(ctx, s, helpportal.Event{UserID: u.ID, Kind: helpportal.EventSignIn}); err != nil {
			t.Fatal(err)
		}
	}
	f.get("/search?q=invoice")
	f.get("/api/v1/search?q=payment")
	_, body := f.get("/metrics")
	for _, want := range []string{
		"helpportal_search_duration_seconds_count 2\n",
		`helpportal_search_duration_seconds_bucket{le="+Inf"} 2` + "\n",
		"helpportal_mail_outbox_depth 2\n",
		"helpportal_mail_outbox_retrying 1\n",
		"helpportal_mail_outbox_given_up 1\n",
		"helpportal_sessions_active 2\n",
		`helpportal_http_requests_total{code="200",route="GET /search"} 1` + "\n",
		"helpportal_login_failures_total 0\n",
		"go_memstats_heap_alloc_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", strings.TrimSpace(want))
		}
	}
}

// A refused sign-in counts; one that succeeds does not.
func TestMetricsLoginFailures(t *testing.T) {
	ts, u := accountFixture(t, "http://help.test")
	c := noRedirect()
	for _, pw := range []string{"wrong", "also wrong", "correct horse battery staple ocean"} {
		postForm(t, c, ts.URL+"/login", url.Values{"email": {u.Email}, "password": {pw}})
	}
	res, err := c.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if want := "helpportal_login_failures_total 2\n"; !strings.Contains(string(body), want) {
		t.Errorf("metrics lack %q", strings.TrimSpace(want))
	}
}
