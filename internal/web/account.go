package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"helpportal"
	"helpportal/internal/auth"
	"helpportal/internal/mail"
	"helpportal/internal/store"
)

// Accounts is what the client area needs of the store.
type Accounts interface {
	UserByEmail(ctx context.Context, email string) (*helpportal.User, error)
	UserByID(ctx context.Context, id int64) (*helpportal.User, error)
	RecordSignIn(ctx context.Context, userID int64, rehash, failKey string) error
	UpdateName(ctx context.Context, userID int64, name string, ev helpportal.Event) error
	ChangePassword(ctx context.Context, userID int64, c store.PasswordChange) error
	CreateToken(ctx context.Context, userID int64, purpose, hash, data string, ttl time.Duration, m *helpportal.OutgoingMail, ev *helpportal.Event) error
	TokenUser(ctx context.Context, hash string, purposes ...string) (*helpportal.User, string, string, error)
	UseToken(ctx context.Context, hash string, purposes []string, fn func(tx *store.Tx, u *helpportal.User, data, purpose string) error) error
	CreateSession(ctx context.Context, s *helpportal.Session, ev helpportal.Event) error
	SessionByToken(ctx context.Context, hash string, now time.Time) (*helpportal.Session, *helpportal.User, error)
	TouchSession(ctx context.Context, id int64, seen, idleUntil time.Time) error
	Sessions(ctx context.Context, userID int64, now time.Time) ([]*helpportal.Session, error)
	EndSession(ctx context.Context, hash string, ev *helpportal.Event) error
	RevokeSession(ctx context.Context, userID, sessionID int64, ev helpportal.Event) error
	RevokeOtherSessions(ctx context.Context, userID int64, keepHash string, ev helpportal.Event) error
	RotateSession(ctx context.Context, oldHash, newHash string) error
	Admit(ctx context.Context, key string, now time.Time, window time.Duration, allow func(n int, last time.Time) bool) (bool, error)
	ForgetAttempt(ctx context.Context, key string, at time.Time) error
	AddEvent(ctx context.Context, ev helpportal.Event) error
	Events(ctx context.Context, userID int64, limit int) ([]helpportal.Event, error)
}

// Token lifetimes.
const (
	resetTTL  = time.Hour
	inviteTTL = 7 * 24 * time.Hour
	emailTTL  = 24 * time.Hour
)

// Throttling: failures counted per account and per IP in a sliding window, held in the
// store so every instance sees them.
const (
	throttleWindow  = 15 * time.Minute
	accountFailures = 5
	ipFailures      = 20
	resetsPerAddr   = 3 // mails to one address per hour
	resetsPerIP     = 10
)

// waitFor is how long to wait after n failures within the window, the newest at last: 0
// under the limit; past it each further failure doubles the wait (30 s, 1 min, 2 min …, at
// most the window). Failures age out of the window, so an attacker can slow an account's
// sign-ins but never lock its owner out for good (and a password reset clears them).
func waitFor(n, limit int, last, now time.Time) time.Duration {
	if n < limit {
		return 0
	}
	wait := min(30*time.Second<<min(n-limit, 10), throttleWindow)
	if until := last.Add(wait); until.After(now) {
		return until.Sub(now)
	}
	return 0
}

// admit counts an attempt under key unless the key is throttled, in which case it returns
// how long to wait. Check and count happen in one transaction, so a burst of concurrent
// attempts cannot all pass the limit.
func (s *Server) admit(ctx context.Context, key string, limit int, now time.Time) (time.Duration, error) {
	var wait time.Duration
	_, err := s.accounts.Admit(ctx, key, now, throttleWindow, func(n int, last time.Time) bool {
		wait = waitFor(n, limit, last, now)
		return wait == 0
	})
	return wait, err
}

// verifyCurrent checks the signed-in user's current password for a sensitive change,
// counted like a sign-in attempt. A refusal comes back as an *Error for the form (ETOOMANY
// with Retry-After set, or EINVALID); any other error is for s.fail.
func (s *Server) verifyCurrent(w http.ResponseWriter, r *http.Request, si *signedIn, password string) error {
	if password == "" {
		return helpportal.Errorf(helpportal.EINVALID, "enter your current password.")
	}
	ctx, now := r.Context(), s.now()
	acctKey := "login:acct:" + si.user.Email
	wait, err := s.admit(ctx, acctKey, accountFailures, now)
	if err != nil {
		return err
	}
	if wait > 0 {
		return tooMany(w, wait)
	}
	ok, _, err := s.hasher.Verify(ctx, password, si.user.PasswordHash)
	if err != nil {
		return err
	}
	if !ok { // stays counted, like a failed sign-in
		return helpportal.Errorf(helpportal.EINVALID, "the current password is not correct.")
	}
	return s.accounts.ForgetAttempt(ctx, acctKey, now)
}

func tooMany(w http.ResponseWriter, wait time.Duration) error {
	secs := int(wait.Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return helpportal.Errorf(helpportal.ETOOMANY, "Too many attempts. Please wait %s and try again, or reset your password.", humanWait(secs))
}

func humanWait(secs int) string {
	if secs < 90 {
		return fmt.Sprintf("%d seconds", secs)
	}
	return fmt.Sprintf("%d minutes", (secs+59)/60)
}

// noStore marks account pages as never to be cached by browsers or proxies.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

// requireUser sends anonymous visitors to sign in and back. A form posted without a
// session comes back to the page the form lives on, since its address answers only POST.
func (s *Server) requireUser(w http.ResponseWriter, r *http.Request) *signedIn {
	si := current(r)
	if si == nil {
		next := r.URL.RequestURI()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			next = "/account"
			if strings.HasPrefix(r.URL.Path, "/account/password") || strings.HasPrefix(r.URL.Path, "/account/sessions") {
				next = "/account/security"
			}
		}
		http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
	}
	return si
}

// safeNext accepts only local paths, so a sign-in link cannot send people elsewhere.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\\\r\n\t") || !utf8.ValidString(next) || len(next) > 512 {
		return "/account"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/account"
	}
	return next
}

// formValue returns a trimmed form field, refusing over-long values with a message.
func formValue(r *http.Request, name string, limit int) (string, error) {
	v := r.PostForm.Get(name)
	if len(v) > limit {
		return "", helpportal.Errorf(helpportal.EINVALID, "The %s field is too long.", strings.ReplaceAll(name, "_", " "))
	}
	return v, nil
}

// maxPasswordBytes bounds what a password field may carry before hashing is even considered.
const maxPasswordBytes = 4096

// compose builds a mail from a template for the outbox.
func (s *Server) compose(to string, kind mail.Kind, data map[string]string) (*helpportal.OutgoingMail, error) {
	m, err := mail.Compose(mail.Site{Name: s.site.Name, BaseURL: s.site.BaseURL}, to, kind, data)
	if err != nil {
		return nil, err
	}
	return &helpportal.OutgoingMail{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, MessageID: m.MessageID}, nil
}

func (s *Server) wakeMail() {
	if s.mailer != nil {
		s.mailer.Wake()
	}
}

// newSession signs u in: a fresh token, its hash stored, the cookie set.
func (s *Server) newSession(w http.ResponseWriter, r *http.Request, u *helpportal.User, remember bool) error {
	token, hash := auth.NewToken()
	now := s.now()
	sess := &helpportal.Session{UserID: u.ID, TokenHash: hash, CreatedAt: now, LastSeenAt: now, IdleUntil: now.Add(sessionIdle),
		ExpiresAt: now.Add(sessionAbsolute), Remember: remember, IP: clientIP(r), UserAgent: event(r, 0, "").UserAgent}
	if remember {
		sess.IdleUntil, sess.ExpiresAt = now.Add(sessionRemember), now.Add(sessionRemember)
	}
	if err := s.accounts.CreateSession(r.Context(), sess, event(r, u.ID, helpportal.EventSignIn)); err != nil {
		return err
	}
	s.setSessionCookie(w, token, remember)
	return nil
}

// formPage is the data of every account form page.
type formPage struct {
	layout
	Error   string
	Notice  string
	Values  map[string]string
	Fields  map[string]string // per-field errors
	User    *helpportal.User
	Purpose string
	Token   string
	Next    string
}

func (s *Server) formPage(r *http.Request, title string) formPage {
	p := formPage{layout: s.layout(r, title, ""), Values: map[string]string{}, Fields: map[string]string{}}
	p.NoIndex = true
	if si := current(r); si != nil {
		p.User = si.user
	}
	return p
}

// renderForm renders an account page with the status the outcome deserves.
func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, name string, status int, p any) {
	noStore(w)
	res, err := s.html(name, status, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", res.ctype)
	w.WriteHeader(status)
	w.Write(res.body)
}

// hashGate admits a bounded number of requests that will hash a password. The rest wait
// up to two seconds for a place and are then turned away with 429 and a few bytes, before
// any SQL or template work. The wait is the point: a flood's clients each hold a connection
// and wait instead of retrying at full speed, so a sign-in flood cannot starve page views.
func (s *Server) hashGate(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.gate <- struct{}{}:
		default:
			t := time.NewTimer(2 * time.Second)
			defer t.Stop()
			select {
			case s.gate <- struct{}{}:
			case <-t.C:
				w.Header().Set("Retry-After", "5")
				w.Header().Set("Cache-Control", "no-store")
				http.Error(w, "Too many sign-in attempts right now. Please try again in a few seconds.", http.StatusTooManyRequests)
				return
			case <-r.Context().Done():
				return
			}
		}
		defer func() { <-s.gate }()
		next(w, r)
	}
}
