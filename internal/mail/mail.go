// Package mail composes the portal's mail and delivers it from the outbox. A request never
// sends mail: its transaction writes an outbox row, and a Worker delivers it over SMTP (or
// into .eml files when no SMTP server is configured), retrying for 24 hours.
package mail

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one queued mail. Text and HTML are the two parts of the body.
type Message struct {
	ID        int64
	To        string
	Subject   string
	Text      string
	HTML      string
	MessageID string // unique, "<random@host-of-base-url>", set when composed
	Attempts  int    // deliveries tried so far
	CreatedAt time.Time
}

// Outbox is the store's side. Any error it returns means the store could not do the
// operation; the worker logs it and the lease makes the message come back later.
type Outbox interface {
	// ClaimMail leases up to n messages that are due at now (not sent, not given up, next
	// attempt ≤ now, lease expired) for the lease duration, so that several instances never
	// send the same message at once; a crashed instance's lease expires and another picks the
	// message up.
	ClaimMail(ctx context.Context, now time.Time, n int, lease time.Duration) ([]Message, error)
	// MailSent marks a message delivered, counts the attempt and drops the lease.
	MailSent(ctx context.Context, id int64, at time.Time) error
	// MailFailed records a failed attempt (Attempts+1, reason kept, lease dropped): next is
	// when to try again; giveUp marks it dead.
	MailFailed(ctx context.Context, id int64, next time.Time, reason string, giveUp bool) error
	// ReleaseMail drops this instance's leases (graceful shutdown) without counting an
	// attempt, so another instance may deliver the messages at once.
	ReleaseMail(ctx context.Context, ids []int64) error
}

// Sender delivers one message. An error means it was not delivered (as far as the sender
// knows) and the worker will try again later; it names the problem but never contains the
// body.
type Sender interface {
	Send(ctx context.Context, from string, m Message) error
}

// build renders m with go-mail: both senders take their bytes from here, so a .eml file is
// exactly what SMTP would have carried. An empty from becomes noreply@ the Message-ID's host,
// which is the base URL's host, so the default setup needs no --mail-from.
func build(from string, m Message) (*gomail.Msg, error) {
	id := strings.Trim(m.MessageID, "<>")
	if from == "" {
		_, host, ok := strings.Cut(id, "@")
		if !ok {
			return nil, fmt.Errorf("mail: no sender address and no Message-ID host to derive one from")
		}
		from = "noreply@" + host
	}
	g := gomail.NewMsg(gomail.WithNoDefaultUserAgent()) // UTF-8, quoted-printable
	if err := g.From(from); err != nil {
		return nil, fmt.Errorf("mail: sender address: %w", err)
	}
	if err := g.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: recipient address: %w", err)
	}
	g.Subject(m.Subject)
	if id != "" {
		g.SetMessageIDWithValue(id)
	}
	// Date is when the mail was queued: a reset mail retried an hour later still says when
	// it was asked for.
	date := m.CreatedAt
	if date.IsZero() {
		date = time.Now()
	}
	g.SetDateWithValue(date)
	g.SetGenHeader("Auto-Submitted", "auto-generated") // RFC 3834: no vacation replies
	g.SetBodyString(gomail.TypeTextPlain, m.Text)
	g.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	return g, nil
}

// maskAddr shows enough of an address to tell mails apart in a log ("a***@example.com")
// without putting who-mailed-whom into log files.
func maskAddr(addr string) string {
	at := strings.LastIndex(addr, "@")
	if at < 1 {
		return "***"
	}
	r := []rune(addr[:at])
	return string(r[0]) + "***" + addr[at:]
}

var addrRE = regexp.MustCompile(`[^\s<>"'(),;:=\[\]@]+@[A-Za-z0-9.-]+`)

// redact masks every address in s: SMTP errors often quote the recipient ("550 <bob@x>:
// no such user"), and those texts go to logs and the outbox row.
func redact(s string) string { return addrRE.ReplaceAllStringFunc(s, maskAddr) }
