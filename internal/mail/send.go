package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"

	"helpportal"
)

const smtpTimeout = 30 * time.Second

type smtpSender struct {
	host, user, pass string
	port             int
	implicitTLS      bool
	tls              *tls.Config
}

// NewSMTPSender: smtp://[user:pass@]host:port is plain with opportunistic STARTTLS; smtps://
// is implicit TLS; user/pass → SMTP AUTH (PLAIN/LOGIN via go-mail's auto-discover). Timeouts
// 30 s. The port defaults to 587 (smtp) or 465 (smtps). Returns an EINVALID error naming the
// problem for a bad URL; the message never repeats the password.
//
// Certificates are always verified, STARTTLS included. go-mail's auto-discover never offers
// PLAIN or LOGIN over an unencrypted connection, so with credentials the server must offer
// STARTTLS or be reached by smtps://; otherwise Send fails rather than leak the password.
func NewSMTPSender(smtpURL string) (Sender, error) { return newSMTPSender(smtpURL, nil) }

// newSMTPSender takes the roots to trust (nil: the system's) so tests can run TLS servers.
func newSMTPSender(smtpURL string, roots *x509.CertPool) (*smtpSender, error) {
	bad := func(format string, a ...any) error {
		return helpportal.Errorf(helpportal.EINVALID, "SMTP URL: "+format, a...)
	}
	u, err := url.Parse(smtpURL)
	if err != nil {
		// url.Error quotes the whole URL, password included, and so may its inner error.
		return nil, bad("it cannot be parsed; it must look like smtp://user:pass@host:port, with special characters in user and password percent-encoded")
	}
	s := &smtpSender{host: u.Hostname(), port: 587}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.port, s.implicitTLS = 465, true
	default:
		return nil, bad("the scheme must be smtp:// or smtps://, not %q", u.Scheme)
	}
	if s.host == "" {
		return nil, bad("a host is needed")
	}
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil || s.port < 1 || s.port > 65535 {
			return nil, bad("the port must be from 1 to 65535")
		}
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, bad("only user, password, host and port may be given, no path or query")
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		if s.user == "" || s.pass == "" {
			return nil, bad("SMTP AUTH needs both a user and a password")
		}
	}
	s.tls = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12, RootCAs: roots}
	return s, nil
}

func (s *smtpSender) Send(ctx context.Context, from string, m Message) error {
	msg, err := build(from, m)
	if err != nil {
		return err
	}
	var stop func() bool
	// go-mail honours ctx only while dialling and then relies on its per-command timeouts.
	// Closing the connection when ctx ends lets a shutdown or the worker's deadline cut a
	// stalled session short. We dial TLS ourselves for smtps so the same hook applies; go-mail
	// still sees a *tls.Conn and counts the session as encrypted for AUTH.
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{Timeout: smtpTimeout}
		var c net.Conn
		var err error
		if s.implicitTLS {
			c, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(dctx, network, addr)
		} else {
			c, err = d.DialContext(dctx, network, addr)
		}
		if err == nil {
			stop = context.AfterFunc(ctx, func() { _ = c.Close() }) // unblocks a send at shutdown
		}
		return c, err
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port), gomail.WithTimeout(smtpTimeout), gomail.WithTLSConfig(s.tls),
		gomail.WithTLSPolicy(gomail.TLSOpportunistic), gomail.WithDialContextFunc(dial),
	}
	if s.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.user), gomail.WithPassword(s.pass))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return err
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if stop != nil {
		stop()
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("smtp: %w (%v)", ctx.Err(), err)
	case errors.Is(err, gomail.ErrNoSupportedAuthDiscovered):
		return fmt.Errorf("smtp: the server offers no sign-in that keeps the password encrypted; use smtps:// or enable STARTTLS on it: %w", err)
	}
	return fmt.Errorf("smtp: %w", err)
}

type fileSender struct {
	dir string
	log *slog.Logger
}

// NewFileSender writes each message as <dir>/<time>-<id>.eml (RFC 5322, both parts), creating
// dir; used when no SMTP server is configured. It logs one line per mail with the FILE PATH
// and the masked recipient ("a***@example.com") — never the body, links or tokens. The files
// hold live links, so dir is 0700 and files are 0600.
func NewFileSender(dir string, log *slog.Logger) Sender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &fileSender{dir: dir, log: log}
}

func (f *fileSender) Send(ctx context.Context, from string, m Message) error {
	msg, err := build(from, m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	name := filepath.Join(f.dir, fmt.Sprintf("%s-%d.eml", time.Now().UTC().Format("20060102T150405Z"), m.ID))
	// Written under a temporary name and renamed, so whoever watches dir never opens half a mail.
	tmp, err := os.CreateTemp(f.dir, ".eml-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // a no-op once renamed
	_, err = msg.WriteTo(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		return err
	}
	f.log.Info("mail written to file", "path", name, "to", maskAddr(m.To))
	return nil
}
