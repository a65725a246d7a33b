package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// testTLS is a self-signed certificate for 127.0.0.1 and the pool that trusts it.
var testTLS = sync.OnceValues(func() (*tls.Config, *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
})

// inbox is a test SMTP server's backend: it records every accepted message and, when user
// is set, refuses MAIL until the client has signed in.
type inbox struct {
	user, pass string
	mu         sync.Mutex
	got        []received
	authTries  int
}

type received struct {
	from   string
	to     []string
	data   []byte
	tls    bool
	authed bool
}

func (in *inbox) NewSession(c *smtp.Conn) (smtp.Session, error) { return &session{in: in, c: c}, nil }

func (in *inbox) messages() []received {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.got)
}

type session struct {
	in *inbox
	c  *smtp.Conn
	r  received
}

func (s *session) AuthMechanisms() []string {
	if s.in.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.in.mu.Lock()
		s.in.authTries++
		s.in.mu.Unlock()
		if user != s.in.user || pass != s.in.pass {
			return errors.New("invalid credentials")
		}
		s.r.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.in.user != "" && !s.r.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	s.r.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.r.to = append(s.r.to, to); return nil }

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.r.tls = s.c.TLSConnectionState()
	s.in.mu.Lock()
	s.in.got = append(s.in.got, received{from: s.r.from, to: s.r.to, data: data, tls: s.r.tls, authed: s.r.authed})
	s.in.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.r = received{authed: s.r.authed} }
func (s *session) Logout() error { return nil }

// startSMTP serves on addr ("127.0.0.1:0" for any port): mode "plain" offers nothing, "starttls"
// offers STARTTLS, "smtps" is TLS from the first byte. AUTH is offered even in the clear
// (AllowInsecureAuth), which is what the client must refuse to use.
func startSMTP(t *testing.T, addr, mode, user, pass string) (*inbox, string) {
	t.Helper()
	in := &inbox{user: user, pass: pass}
	srv := smtp.NewServer(in)
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conf, _ := testTLS()
	switch mode {
	case "starttls":
		srv.TLSConfig = conf
	case "smtps":
		l = tls.NewListener(l, conf)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return in, l.Addr().String()
}

func testSender(t *testing.T, url string) *smtpSender {
	t.Helper()
	_, pool := testTLS()
	s, err := newSMTPSender(url, pool)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// parseMail reads raw as a mail client would and returns its headers and the two parts.
func parseMail(t *testing.T, raw []byte) (h netmail.Header, text, html string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	var parts []string
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for i := 0; ; i++ {
		p, err := mr.NextPart() // undoes quoted-printable itself
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		mt, ps, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		want := []string{"text/plain", "text/html"}
		if i > 1 || mt != want[i] || !strings.EqualFold(ps["charset"], "utf-8") {
			t.Fatalf("part %d is %q", i, p.Header.Get("Content-Type"))
		}
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, strings.ReplaceAll(string(b), "\r\n", "\n")) // lines travel as CRLF
	}
	if len(parts) != 2 {
		t.Fatalf("%d parts", len(parts))
	}
	return msg.Header, parts[0], parts[1]
}

// checkMail asserts that raw is m, well formed, as a recipient would see it.
func checkMail(t *testing.T, raw []byte, m Message) {
	t.Helper()
	h, text, html := parseMail(t, raw)
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != m.Subject || !strings.HasPrefix(h.Get("Subject"), "=?UTF-8?") {
		t.Errorf("Subject %q decodes to %q (%v), want %q, encoded", h.Get("Subject"), subject, err, m.Subject)
	}
	if h.Get("Message-Id") != m.MessageID || h.Get("Mime-Version") != "1.0" {
		t.Errorf("Message-ID %q MIME-Version %q", h.Get("Message-Id"), h.Get("Mime-Version"))
	}
	if d, err := h.Date(); err != nil || !d.Equal(m.CreatedAt.Truncate(time.Second)) {
		t.Errorf("Date %v (%v), want %v", d, err, m.CreatedAt)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != m.To {
		t.Errorf("To %v (%v)", to, err)
	}
	if from, err := h.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "noreply@help.example.com" {
		t.Errorf("From %v (%v)", from, err)
	}
	if text != m.Text || html != m.HTML {
		t.Errorf("parts differ from the message:\n%s\n%s", text, html)
	}
}

func composeReset(t *testing.T) Message {
	t.Helper()
	m, err := Compose(testSite, "alice@example.com", KindPasswordReset,
		map[string]string{"name": "Alice", "link": "/reset-password/SECRETTOKEN", "expires": "60 minutes"})
	if err != nil {
		t.Fatal(err)
	}
	m.CreatedAt = t0
	return m
}

// The worker delivers over real SMTP in each transport; credentials only travel encrypted.
func TestWorkerDeliversOverSMTP(t *testing.T) {
	tests := []struct {
		name, mode, user string
		wantErr          string // the failure when the mail must not go out
	}{
		{"plain, no AUTH", "plain", "", ""},
		{"STARTTLS, no AUTH", "starttls", "", ""},
		{"STARTTLS with AUTH", "starttls", "mailer", ""},
		{"implicit TLS with AUTH", "smtps", "mailer", ""},
		{"AUTH without TLS is refused", "plain", "mailer", "STARTTLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, addr := startSMTP(t, "127.0.0.1:0", tt.mode, tt.user, "s3cret pass")
			url := "smtp://" + addr
			if tt.mode == "smtps" {
				url = "smtps://" + addr
			}
			if tt.user != "" {
				url = strings.Replace(url, "//", "//"+tt.user+":s3cret%20pass@", 1)
			}
			ob, m := &memOutbox{}, composeReset(t)
			id := ob.add(m)
			w := NewWorker(ob, testSender(t, url), WorkerConfig{Poll: time.Hour, Now: func() time.Time { return t0 }}, nil)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() { w.Run(ctx); close(done) }()
			w.Wake()
			deadline := time.Now().Add(5 * time.Second)
			for r := ob.row(id); !r.sent && r.reason == "" && time.Now().Before(deadline); r = ob.row(id) {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			<-done
			r, got := ob.row(id), in.messages()
			if tt.wantErr != "" {
				if r.sent || !strings.Contains(r.reason, tt.wantErr) || len(got) != 0 || in.authTries != 0 {
					t.Fatalf("sent %v, reason %q, %d received, %d AUTH tries", r.sent, r.reason, len(got), in.authTries)
				}
				return
			}
			if !r.sent || len(got) != 1 {
				t.Fatalf("sent %v (reason %q), %d received", r.sent, r.reason, len(got))
			}
			g := got[0]
			if g.from != "noreply@help.example.com" || len(g.to) != 1 || g.to[0] != m.To || g.tls != (tt.mode != "plain") || g.authed != (tt.user != "") {
				t.Errorf("envelope %q→%q, tls %v, authed %v", g.from, g.to, g.tls, g.authed)
			}
			checkMail(t, g.data, m)
		})
	}
}

// A mail server down for a while loses nothing: each failure is recorded with the next
// backoff step, and the mail goes out once the server is back.
func TestWorkerRetriesUntilServerIsUp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens: connection refused

	ob, clk, m := &memOutbox{}, &clock{t: t0}, composeReset(t)
	id := ob.add(m)
	var logs bytes.Buffer
	w := NewWorker(ob, testSender(t, "smtp://"+addr), WorkerConfig{Now: clk.Now}, slog.New(slog.NewTextHandler(&logs, nil)))
	steps := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute}
	for i, d := range steps {
		w.pass(t.Context())
		r := ob.row(id)
		if r.sent || r.dead || r.m.Attempts != i+1 || !r.next.Equal(clk.Now().Add(d)) || r.reason == "" {
			t.Fatalf("after failure %d: %+v", i+1, r)
		}
		w.pass(t.Context()) // not due yet: no attempt
		if ob.row(id).m.Attempts != i+1 {
			t.Fatal("tried again before the backoff was over")
		}
		clk.Add(d)
	}
	in, _ := startSMTP(t, addr, "plain", "", "")
	w.pass(t.Context())
	if r := ob.row(id); !r.sent || r.m.Attempts != 4 || len(in.messages()) != 1 {
		t.Fatalf("after the server came back: %+v, %d received", r, len(in.messages()))
	}
	for _, leak := range []string{"alice@example.com", "SECRETTOKEN", "reset-password"} {
		if strings.Contains(logs.String(), leak) {
			t.Errorf("log contains %q:\n%s", leak, logs.String())
		}
	}
}

// Two instances over one outbox: leases make each message go out exactly once.
func TestTwoWorkersNeverSendTwice(t *testing.T) {
	in, addr := startSMTP(t, "127.0.0.1:0", "plain", "", "")
	ob := &memOutbox{}
	const n = 30
	for range n {
		m := composeReset(t)
		m.CreatedAt = time.Now()
		ob.add(m)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 2 {
		w := NewWorker(ob, testSender(t, "smtp://"+addr), WorkerConfig{Poll: 5 * time.Millisecond, Batch: 4}, nil)
		wg.Go(func() { w.Run(ctx) })
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(in.messages()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // room for a duplicate to show up
	cancel()
	wg.Wait()
	ids := map[string]int{}
	for _, g := range in.messages() {
		h, _, _ := parseMail(t, g.data)
		ids[h.Get("Message-Id")]++
	}
	if len(in.messages()) != n || len(ids) != n || ob.sentTwice != 0 {
		t.Errorf("%d received, %d distinct, %d recorded twice", len(in.messages()), len(ids), ob.sentTwice)
	}
}

// A server that accepts and then says nothing must not hold a shutdown for 30 s.
func TestSMTPSendStopsOnCancel(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = testSender(t, "smtp://"+l.Addr().String()).Send(ctx, "", composeReset(t))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
}

func TestFileSender(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "mail")
	var logs bytes.Buffer
	s := NewFileSender(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	m := composeReset(t)
	m.ID = 42
	if err := s.Send(t.Context(), "", m); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 || !regexp.MustCompile(`/\d{8}T\d{6}Z-42\.eml$`).MatchString(files[0]) {
		t.Fatalf("files %q", files)
	}
	if fi, _ := os.Stat(files[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	raw, _ := os.ReadFile(files[0])
	checkMail(t, raw, m)
	line := logs.String()
	if strings.Count(line, "\n") != 1 || !strings.Contains(line, files[0]) || !strings.Contains(line, "a***@example.com") {
		t.Errorf("log %q", line)
	}
	for _, leak := range []string{"alice@example.com", "SECRETTOKEN", "reset-password", "http"} {
		if strings.Contains(line, leak) {
			t.Errorf("log contains %q: %s", leak, line)
		}
	}
}

func TestNewSMTPSenderURL(t *testing.T) {
	tests := []struct {
		url, want string // want: "" for valid, else a word of the error
	}{
		{"smtp://mail.example.com:25", ""},
		{"smtps://u:p%40ss@mail.example.com", ""},
		{"smtp://[::1]:2525", ""},
		{"http://mail.example.com", "scheme"},
		{"smtp://:25", "host"},
		{"smtp://mail.example.com:0", "port"},
		{"smtp://u@mail.example.com", "password"},
		{"smtp://mail.example.com/x?y=1", "path"},
		{"smtp://user:pa ss/S3KR1T@host:x", "parsed"},
	}
	for _, tt := range tests {
		_, err := NewSMTPSender(tt.url)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: %v", tt.url, err)
		}
		if err != nil && strings.Contains(err.Error(), "S3KR1T") {
			t.Errorf("%s: error repeats the password: %v", tt.url, err)
		}
	}
	s, _ := newSMTPSender("smtps://u:p%40ss@mail.example.com", nil)
	if s.port != 465 || !s.implicitTLS || s.user != "u" || s.pass != "p@ss" {
		t.Errorf("%+v", s)
	}
}
