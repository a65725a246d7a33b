package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// mailbox is a real SMTP server on loopback that keeps what it receives.
type mailbox struct {
	mu   sync.Mutex
	msgs []*mail.Message
	raw  []string
}

func (b *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{box: b}, nil }

type smtpSession struct {
	box *mailbox
	to  []string
}

func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, m)
	s.box.raw = append(s.box.raw, string(raw))
	s.box.mu.Unlock()
	return nil
}
func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

func startSMTP(t *testing.T) (*mailbox, string) {
	t.Helper()
	box := &mailbox{}
	srv, addr := listenSMTP(t, box)
	t.Cleanup(func() { srv.Close() })
	return box, addr
}

// listenSMTP serves be on a loopback port and returns the server and its smtp:// URL.
func listenSMTP(t *testing.T, be smtp.Backend) (*smtp.Server, string) {
	t.Helper()
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	return srv, "smtp://" + ln.Addr().String()
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+/(?:invite|reset-password|account/email)/[A-Za-z0-9_-]{43}`)

// waitMail waits for a message to addr whose raw text matches subject, returning its link.
func (b *mailbox) waitMail(t *testing.T, addr, subject string) (string, string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		for i, m := range b.msgs {
			if strings.EqualFold(m.Header.Get("To"), addr) || strings.Contains(strings.ToLower(m.Header.Get("To")), strings.ToLower(addr)) {
				if strings.Contains(strings.ToLower(b.raw[i]), strings.ToLower(subject)) {
					raw := b.raw[i]
					b.msgs = append(b.msgs[:i], b.msgs[i+1:]...)
					b.raw = append(b.raw[:i], b.raw[i+1:]...)
					b.mu.Unlock()
					return linkRE.FindString(strings.ReplaceAll(raw, "=\r\n", "")), raw
				}
			}
		}
		b.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no mail to %s about %q", addr, subject)
	return "", ""
}

func (b *mailbox) count(addr string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range b.msgs {
		if strings.Contains(strings.ToLower(m.Header.Get("To")), strings.ToLower(addr)) {
			n++
		}
	}
	return n
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	res, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	res, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func pathOf(t *testing.T, link string) string {
	u, err := url.Parse(link)
	if err != nil || link == "" {
		t.Fatalf("bad link %q", link)
	}
	return u.Path
}

const strongPassword = "correct horse battery staple ocean"

func TestAccountJourneys(t *testing.T) {
	box, smtpURL := startSMTP(t)
	data := t.TempDir()
	base, out, logs := serveLogs(t, "--data", data, "--smtp-url", smtpURL, "--mail-from", "help@example.com")
	setup := setupLink(t, out.String())

	// The first admin sets up their account from the printed link.
	admin := newBrowser(t, base)
	if res, body := admin.get(setup); res.StatusCode != 200 || !strings.Contains(body, `autocomplete="new-password"`) {
		t.Fatalf("setup page = %d", res.StatusCode)
	}
	admin.get(setup) // opening the link twice never uses it up
	res, _ := admin.post(setup, url.Values{"email": {"boss@example.com"}, "name": {"Boss"}, "new_password": {"short"}})
	if res.StatusCode != 400 {
		t.Errorf("weak setup password = %d", res.StatusCode)
	}
	res, _ = admin.post(setup, url.Values{"email": {"Boss@Example.com"}, "name": {"Boss"}, "new_password": {strongPassword}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "/account?welcome=1" {
		t.Fatalf("setup = %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := newBrowser(t, base).get(setup); res.StatusCode != 404 {
		t.Errorf("used setup link = %d", res.StatusCode)
	}

	// Invite → create password → signed in.
	code, _, errOut := run(t, "user", "invite", "--data", data, "--smtp-url", smtpURL, "--mail-from", "help@example.com",
		"--email", "Client@Example.com", "--name", "Casey Client", "--role", "client")
	if code != 0 {
		t.Fatalf("user invite = %d %s", code, errOut)
	}
	link, raw := box.waitMail(t, "client@example.com", "invit")
	if !strings.HasPrefix(link, base) || !strings.Contains(raw, "Message-Id") && !strings.Contains(raw, "Message-ID") {
		t.Fatalf("invite link %q is not built from the base URL %s", link, base)
	}
	client := newBrowser(t, base)
	client.get(pathOf(t, link))
	res, body := client.post(pathOf(t, link), url.Values{"new_password": {"casey client example"}})
	if res.StatusCode != 400 || !strings.Contains(body, "field-error") {
		t.Errorf("password built from the name = %d", res.StatusCode)
	}
	res, _ = client.post(pathOf(t, link), url.Values{"new_password": {strongPassword}})
	if res.StatusCode != 303 {
		t.Fatalf("accept invite = %d", res.StatusCode)
	}
	if res, body := client.get("/account"); res.StatusCode != 200 || !strings.Contains(body, "client@example.com") || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("account page = %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}

	// Sign in on a second device; cookie flags; open redirects refused.
	phone := newBrowser(t, base)
	res, _ = phone.post("/login", url.Values{"email": {"client@example.com"}, "password": {strongPassword}, "next": {"//evil.example/x"}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "/account" {
		t.Errorf("open redirect: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	sc := res.Header.Get("Set-Cookie")
	if !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") || !strings.Contains(sc, "Path=/") {
		t.Errorf("session cookie = %q", sc)
	}
	for _, next := range []string{"https://evil.example", "/\\evil.example", "javascript:alert(1)"} {
		res, _ := newBrowser(t, base).post("/login", url.Values{"email": {"client@example.com"}, "password": {strongPassword}, "next": {next}})
		if loc := res.Header.Get("Location"); loc != "/account" {
			t.Errorf("next=%q → %q", next, loc)
		}
	}

	// Sessions: the client sees the phone and the three sign-ins above, and signs each out.
	_, sec := client.get("/account/security")
	ids := regexp.MustCompile(`/account/sessions/(\d+)/revoke`).FindAllStringSubmatch(sec, -1)
	if len(ids) != 4 || !strings.Contains(sec, "This device") {
		t.Fatalf("security page lists %d other sessions", len(ids))
	}
	for _, id := range ids {
		if res, _ := client.post("/account/sessions/"+id[1]+"/revoke", nil); res.StatusCode != 303 {
			t.Errorf("revoke = %d", res.StatusCode)
		}
	}
	if res, _ := phone.get("/account"); res.StatusCode != 303 {
		t.Errorf("revoked session still works: %d", res.StatusCode)
	}
	phone.post("/login", url.Values{"email": {"client@example.com"}, "password": {strongPassword}})

	// Email change: current password required, confirmed from the new address, notice to the old.
	if res, _ := client.post("/account/email", url.Values{"email": {"casey@example.org"}, "current_password": {"nope nope nope nope"}}); res.StatusCode != 400 {
		t.Errorf("email change with a wrong password = %d", res.StatusCode)
	}
	if res, _ := client.post("/account/email", url.Values{"email": {"casey@example.org"}, "current_password": {strongPassword}}); res.StatusCode != 303 {
		t.Fatalf("email change = %d", res.StatusCode)
	}
	link, _ = box.waitMail(t, "casey@example.org", "confirm")
	client.get(pathOf(t, link))
	if res, _ := client.post(pathOf(t, link), nil); res.StatusCode != 303 {
		t.Fatalf("confirm email = %d", res.StatusCode)
	}
	box.waitMail(t, "client@example.com", "email address")
	if res, _ := newBrowser(t, base).post("/login", url.Values{"email": {"casey@example.org"}, "password": {strongPassword}}); res.StatusCode != 303 {
		t.Fatalf("sign in with the new address = %d", res.StatusCode)
	}
	client.post("/account/email", url.Values{"email": {"client@example.com"}, "current_password": {strongPassword}})
	link, _ = box.waitMail(t, "client@example.com", "confirm")
	client.post(pathOf(t, link), nil)
	box.waitMail(t, "casey@example.org", "email address")

	// Change password: wrong current, weak new, then success, which ends the other sessions
	// and mails a notice.
	res, _ = client.post("/account/password", url.Values{"current_password": {"wrong password entirely"}, "new_password": {"another fine long passphrase"}})
	if res.StatusCode != 400 {
		t.Errorf("wrong current = %d", res.StatusCode)
	}
	res, _ = client.post("/account/password", url.Values{"current_password": {strongPassword}, "new_password": {"password"}})
	if res.StatusCode != 400 {
		t.Errorf("weak new = %d", res.StatusCode)
	}
	const second = "quiet maple lantern harbour seventeen"
	res, _ = client.post("/account/password", url.Values{"current_password": {strongPassword}, "new_password": {second}, "signout_others": {"on"}})
	if res.StatusCode != 303 {
		t.Fatalf("change password = %d", res.StatusCode)
	}
	if res, _ := client.get("/account/security"); res.StatusCode != 200 {
		t.Errorf("this session after the change = %d", res.StatusCode)
	}
	if res, _ := phone.get("/account"); res.StatusCode != 303 {
		t.Errorf("other session after the change = %d, want a redirect to sign in", res.StatusCode)
	}
	_, notice := box.waitMail(t, "client@example.com", "password was changed")
	if linkRE.MatchString(notice) {
		t.Error("the change notice carries a token link")
	}

	// Forgot → mail → reset → old password fails, link reuse fails, sessions gone.
	known, _ := newBrowser(t, base).post("/forgot-password", url.Values{"email": {"client@example.com"}})
	unknown, unknownBody := newBrowser(t, base).post("/forgot-password", url.Values{"email": {"nobody@example.com"}})
	if known.StatusCode != 200 || unknown.StatusCode != 200 || !strings.Contains(unknownBody, "If an account exists") {
		t.Errorf("forgot = %d / %d", known.StatusCode, unknown.StatusCode)
	}
	link, _ = box.waitMail(t, "client@example.com", "reset")
	anon := newBrowser(t, base)
	anon.get(pathOf(t, link))
	res, _ = anon.post(pathOf(t, link), url.Values{"new_password": {"fresh river mountain cloud path"}})
	if res.StatusCode != 303 {
		t.Fatalf("reset = %d", res.StatusCode)
	}
	if res, _ := anon.post(pathOf(t, link), url.Values{"new_password": {"other river mountain cloud path"}}); res.StatusCode != 404 {
		t.Errorf("reused reset link = %d", res.StatusCode)
	}
	if res, _ := client.get("/account"); res.StatusCode != 303 {
		t.Errorf("session after reset = %d", res.StatusCode)
	}
	if res, _ := newBrowser(t, base).post("/login", url.Values{"email": {"client@example.com"}, "password": {second}}); res.StatusCode != 401 {
		t.Errorf("old password after reset = %d", res.StatusCode)
	}
	if res, _ := newBrowser(t, base).post("/login", url.Values{"email": {"client@example.com"}, "password": {"fresh river mountain cloud path"}}); res.StatusCode != 303 {
		t.Errorf("new password after reset = %d", res.StatusCode)
	}
	if box.count("nobody@example.com") != 0 {
		t.Error("a mail went to an address without an account")
	}

	// Throttling: after 5 failures the account answers 429 with Retry-After, for the right
	// password too, while a password reset still works.
	var last *http.Response
	for range 6 {
		last, _ = newBrowser(t, base).post("/login", url.Values{"email": {"boss@example.com"}, "password": {"not the password at all"}})
	}
	if last.StatusCode != 429 || last.Header.Get("Retry-After") == "" {
		t.Errorf("6th failure = %d, Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}
	if res, _ := newBrowser(t, base).post("/login", url.Values{"email": {"boss@example.com"}, "password": {strongPassword}}); res.StatusCode != 429 {
		t.Errorf("right password while throttled = %d", res.StatusCode)
	}
	if res, _ := newBrowser(t, base).post("/forgot-password", url.Values{"email": {"boss@example.com"}}); res.StatusCode != 200 {
		t.Errorf("reset while throttled = %d", res.StatusCode)
	}
	box.waitMail(t, "boss@example.com", "reset")

	// Unknown and known emails fail the same way.
	r1, b1 := newBrowser(t, base).post("/login", url.Values{"email": {"ghost@example.com"}, "password": {"whatever it may be"}})
	r2, b2 := newBrowser(t, base).post("/login", url.Values{"email": {"client@example.com"}, "password": {"whatever it may be"}})
	if r1.StatusCode != r2.StatusCode || errorText(b1) != errorText(b2) {
		t.Errorf("unknown vs known: %d %q / %d %q", r1.StatusCode, errorText(b1), r2.StatusCode, errorText(b2))
	}
	// A cross-site POST changes nothing.
	req, _ := http.NewRequest(http.MethodPost, base+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res, err := admin.c.Do(req); err != nil || res.StatusCode != 403 {
		t.Errorf("cross-site logout = %v %v", res, err)
	}
	if res, _ := admin.get("/account"); res.StatusCode != 200 {
		t.Errorf("admin signed out by a cross-site post: %d", res.StatusCode)
	}
	// Nothing secret in the server's log, which is one JSON object a line, with a line for
	// every request.
	secrets := []string{strongPassword, second, "fresh river mountain cloud path", pathOf(t, link)[len("/reset-password/"):],
		setup[len("/invite/"):], "client@example.com"}
	baseURL, _ := url.Parse(base)
	for _, b := range []*browser{admin, client, phone, anon} {
		for _, c := range b.c.Jar.Cookies(baseURL) {
			secrets = append(secrets, c.Value) // session and vote cookies
		}
	}
	// serve writes its log in batches, at least every 100 ms: wait for the last requests'.
	for deadline := time.Now().Add(2 * time.Second); strings.Count(logs.String(), `"msg":"request"`) < 50 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	requests := 0
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a log line is not JSON (%v): %s", err, line)
			continue
		}
		if rec["msg"] == "request" {
			requests++
			if id, _ := rec["request_id"].(string); len(id) != 16 || rec["route"] == nil || rec["status"] == nil {
				t.Errorf("request line without its fields: %s", line)
			}
		}
		for _, secret := range secrets {
			if strings.Contains(line, secret) {
				t.Errorf("the server's log contains %q: %s", secret, line)
			}
		}
		if m := logTokenRE.FindString(line); m != "" { // any token: confirmation links, other cookies
			t.Errorf("the server's log contains a token %q: %s", m, line)
		}
		if m := logEmailRE.FindString(line); m != "" {
			t.Errorf("the server's log contains an email address %q: %s", m, line)
		}
	}
	if requests < 50 {
		t.Errorf("%d request lines in the log; every request should have one", requests)
	}
}

var (
	logTokenRE = regexp.MustCompile(`[A-Za-z0-9_-]{43}`)
	logEmailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+`)
)

var alertRE = regexp.MustCompile(`(?s)<div class="alert alert-error"[^>]*>(.*?)</div>`)

func errorText(body string) string { return strings.TrimSpace(alertRE.FindString(body)) }
