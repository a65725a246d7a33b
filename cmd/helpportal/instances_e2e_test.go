package main_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"helpportal/internal/mail"
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
	setup := setupLink(t, outB.String())
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

	// An article written by another process is found by B's search and listed on B's cached
	// pages well within 2 s: PostgreSQL's NOTIFY wakes B's index follower and page cache.
	_, topics := get(t, b+"/topics") // cached on B from here on
	if strings.Contains(topics, "Platypus invoices") {
		t.Fatal("the article is listed before it exists")
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "billing"), 0o755)
	os.WriteFile(filepath.Join(dir, "billing", "platypus-invoices.md"), []byte("---\ntitle: Platypus invoices\n---\nHow platypus billing works.\n"), 0o644)
	start := time.Now()
	if code, _, errOut := run(t, "import", "--database-url", dbURL, dir); code != 0 {
		t.Fatalf("import = %d %s", code, errOut)
	}
	committed := time.Now() // the import has committed and exited
	var searchable, listed time.Duration
	for searchable == 0 || listed == 0 {
		if _, body := get(t, b+"/api/v1/search?q=platypus"); searchable == 0 && strings.Contains(body, "platypus-invoices") {
			searchable = time.Since(committed)
		}
		if _, body := get(t, b+"/topics"); listed == 0 && strings.Contains(body, "Platypus invoices") {
			listed = time.Since(committed)
		}
		if time.Since(committed) > 15*time.Second {
			t.Fatalf("after 15 s: searchable on B %v, listed on B's topics page %v", searchable, listed)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("after the import committed (it ran %s): searchable on B in %s, B's cached topics page current in %s",
		committed.Sub(start).Round(time.Millisecond), searchable.Round(time.Millisecond), listed.Round(time.Millisecond))
	// The polls alone would take up to 0.5 s (search) and 1 s (pages); the bound leaves room
	// for a loaded machine and still holds the 2 s promise with a wide margin.
	if searchable > time.Second || listed > time.Second {
		t.Errorf("searchable on B after %s, listed after %s; want well under 2 s", searchable, listed)
	}

	// A reset requested on A is accepted by B, once; the mail is delivered exactly once
	// although both instances run a mail worker.
	newBrowser(t, a).post("/forgot-password", url.Values{"email": {"boss@example.com"}})
	link, _ := box.waitMail(t, "boss@example.com", "reset")
	changedAt := time.Now() // the reset on B queues the "password changed" notice
	if res, _ := newBrowser(t, b).post(pathOf(t, link), url.Values{"new_password": {"fresh river mountain cloud path"}}); res.StatusCode != 303 {
		t.Fatalf("reset on B = %d", res.StatusCode)
	}
	if res, _ := newBrowser(t, a).post(pathOf(t, link), url.Values{"new_password": {"other river mountain cloud path"}}); res.StatusCode != 404 {
		t.Errorf("the same link again on A = %d", res.StatusCode)
	}
	box.waitMail(t, "boss@example.com", "password was changed")
	// A second delivery would come from a worker's next look at the outbox: wait until both
	// have looked since the last mail was queued.
	time.Sleep(time.Until(changedAt.Add(mail.DefaultPoll + time.Second)))
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

// TestMailSurvivesSIGKILL kills an instance with SIGKILL while it delivers a mail: the
// survivor takes the mail over once the dead instance's lease runs out, and the mail is
// delivered exactly once.
func TestMailSurvivesSIGKILL(t *testing.T) {
	if os.Getenv("HELPPORTAL_TEST_DATABASE_URL") == "" {
		t.Skip("PostgreSQL tests skipped: set HELPPORTAL_TEST_DATABASE_URL=postgres://… to run them")
	}
	t.Parallel()
	dbURL := storetest.EmptyPostgres(t)
	if code, _, errOut := run(t, "migrate", "--database-url", dbURL); code != 0 {
		t.Fatalf("migrate = %d %s", code, errOut)
	}
	box, smtpURL := startStallingSMTP(t, "boss@example.com")
	const lease = 4 * time.Second
	args := func(from string) []string {
		return []string{"--database-url", dbURL, "--data", t.TempDir(), "--smtp-url", smtpURL,
			"--mail-from", from, "--mail-lease", lease.String()}
	}
	// Each instance sends from its own address, so the mail server can tell them apart.
	a := startInstance(t, args("a@example.com")...)
	b := startInstance(t, args("b@example.com")...)
	byFrom := map[string]*instance{"a@example.com": a, "b@example.com": b}

	setup := setupLink(t, b.out.String())
	if res, _ := newBrowser(t, a.base).post(setup, url.Values{"email": {"boss@example.com"}, "name": {"Boss"}, "new_password": {strongPassword}}); res.StatusCode != 303 {
		t.Fatalf("set-up = %d", res.StatusCode)
	}
	// A queues the reset mail and wakes its worker; whichever instance claims it stalls in
	// DATA, holding the lease, and is killed there.
	if res, _ := newBrowser(t, a.base).post("/forgot-password", url.Values{"email": {"boss@example.com"}}); res.StatusCode >= 400 {
		t.Fatalf("forgot-password on A = %d", res.StatusCode)
	}
	var holder string
	select {
	case holder = <-box.stalled:
	case <-time.After(15 * time.Second):
		t.Fatal("no instance tried to deliver the reset mail")
	}
	stalledAt := time.Now()
	dead := byFrom[holder]
	dead.kill(t)
	close(box.release) // the dead instance's DATA fails; the server never accepted the mail

	d := box.await(t, 20*time.Second)
	took := d.at.Sub(stalledAt)
	t.Logf("%s was killed mid-delivery; %s delivered the mail %s later (lease %s)", holder, d.from, took.Round(time.Millisecond), lease)
	if d.from == holder {
		t.Fatalf("delivered by the killed instance %s", holder)
	}
	if took < lease-time.Second {
		t.Errorf("taken over after %s, before the %s lease ran out", took, lease)
	}
	if !strings.Contains(d.raw, "/reset-password/") {
		t.Error("the delivered mail has no reset link")
	}
	// A second delivery would come from the survivor's next look at the outbox.
	time.Sleep(mail.DefaultPoll + time.Second)
	if n := box.count(); n != 1 {
		t.Errorf("the mail was delivered %d times, want exactly once", n)
	}
	// The survivor still serves.
	if code, _ := get(t, byFrom[d.from].base+"/readyz"); code != 200 {
		t.Errorf("survivor /readyz = %d", code)
	}
}

// stallingSMTP is a real SMTP server on loopback whose first delivery to one address stalls
// after the whole message arrived, before it is accepted: the sender sits in DATA, its lease
// on the message held.
type stallingSMTP struct {
	target  string
	stalled chan string   // the envelope sender of the stalled delivery
	release chan struct{} // closed to end the stall, failing that delivery
	mu      sync.Mutex
	didWait bool
	got     []delivery
}

type delivery struct {
	from, raw string
	at        time.Time
}

func startStallingSMTP(t *testing.T, target string) (*stallingSMTP, string) {
	t.Helper()
	box := &stallingSMTP{target: target, stalled: make(chan string, 1), release: make(chan struct{})}
	srv, addr := listenSMTP(t, box)
	t.Cleanup(func() {
		select {
		case <-box.release:
		default:
			close(box.release)
		}
		srv.Close()
	})
	return box, addr
}

func (b *stallingSMTP) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &stallSession{box: b}, nil
}

type stallSession struct {
	box      *stallingSMTP
	from     string
	toTarget bool
}

func (s *stallSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *stallSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.toTarget = s.toTarget || strings.EqualFold(to, s.box.target)
	return nil
}
func (s *stallSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if !s.toTarget {
		return nil
	}
	s.box.mu.Lock()
	stall := !s.box.didWait
	s.box.didWait = true
	if !stall {
		s.box.got = append(s.box.got, delivery{from: s.from, raw: string(raw), at: time.Now()})
	}
	s.box.mu.Unlock()
	if stall {
		s.box.stalled <- s.from
		<-s.box.release
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Stalled by the test"}
	}
	return nil
}
func (s *stallSession) Reset()        {}
func (s *stallSession) Logout() error { return nil }

func (b *stallingSMTP) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.got)
}

// await waits for the first accepted delivery to the target.
func (b *stallingSMTP) await(t *testing.T, within time.Duration) delivery {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b.mu.Lock()
		if len(b.got) > 0 {
			d := b.got[0]
			b.mu.Unlock()
			return d
		}
		b.mu.Unlock()
	}
	t.Fatalf("no delivery to %s within %s", b.target, within)
	return delivery{}
}
