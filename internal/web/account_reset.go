package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"helpportal"
	"helpportal/internal/auth"
	"helpportal/internal/mail"
	"helpportal/internal/store"
)

// forgotSent is the one answer to a reset request, whether or not the address has an account.
const forgotSent = "If an account exists for that address, we've sent a link to reset the password. It is valid for 60 minutes. Check your spam folder if it has not arrived in a few minutes."

func (s *Server) handleForgotForm(w http.ResponseWriter, r *http.Request) {
	s.renderForm(w, r, "forgot", http.StatusOK, s.formPage(r, "Reset your password"))
}

// handleForgot answers at once and in the same way for every address; the lookup, the
// per-address limit and the mail happen after the answer, so timing reveals nothing either.
func (s *Server) handleForgot(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.formPage(r, "Reset your password")
	email, err := formValue(r, "email", 320)
	if err == nil {
		email, err = auth.NormalizeEmail(email)
	}
	if err != nil {
		p.Values["email"] = strings.TrimSpace(r.PostForm.Get("email"))
		if len(p.Values["email"]) > 320 {
			p.Values["email"] = ""
		}
		p.Error = helpportal.ErrorMessage(err)
		p.Fields["email"] = p.Error
		s.renderForm(w, r, "forgot", http.StatusBadRequest, p)
		return
	}
	ipKey := "reset:ip:" + clientIP(r)
	wait, err := s.windowLimit(r.Context(), ipKey, resetsPerIP)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if wait > 0 {
		p.Error = helpportal.ErrorMessage(tooMany(w, wait))
		s.renderForm(w, r, "forgot", http.StatusTooManyRequests, p)
		return
	}
	ua, ip := r.UserAgent(), clientIP(r)
	s.background(func(ctx context.Context) { s.sendReset(ctx, email, ip, ua) })
	p.Notice = forgotSent
	s.renderForm(w, r, "forgot", http.StatusOK, p)
}

// windowLimit counts an attempt under key unless n were counted in the past hour, in which
// case it returns how long to wait. Check and count are one transaction.
func (s *Server) windowLimit(ctx context.Context, key string, n int) (time.Duration, error) {
	ok, err := s.accounts.Admit(ctx, key, s.now(), time.Hour, func(count int, _ time.Time) bool { return count < n })
	if err != nil || ok {
		return 0, err
	}
	return 10 * time.Minute, nil
}

func (s *Server) sendReset(ctx context.Context, email, ip, ua string) {
	u, err := s.accounts.UserByEmail(ctx, email)
	if err != nil || u.Status == helpportal.UserDisabled {
		return // nothing to send; the requester was told the same either way
	}
	addrKey := "reset:addr:" + email
	if wait, err := s.windowLimit(ctx, addrKey, resetsPerAddr); err != nil || wait > 0 {
		return
	}
	token, hash := auth.NewToken()
	m, err := s.compose(u.Email, mail.KindPasswordReset, map[string]string{
		"name": u.Name, "link": s.site.BaseURL + "/reset-password/" + token, "expires": "60 minutes"})
	if err != nil {
		s.log.Error("compose reset mail", "err", err)
		return
	}
	ev := helpportal.Event{UserID: u.ID, Kind: helpportal.EventResetRequested, IP: ip, UserAgent: ua}
	if err := s.accounts.CreateToken(ctx, u.ID, helpportal.TokenReset, hash, "", resetTTL, m, &ev); err != nil {
		s.log.Error("create reset token", "err", err)
		return
	}
	s.wakeMail()
}

// background runs work after the response, bounded by the server's lifetime.
func (s *Server) background(fn func(ctx context.Context)) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		fn(ctx)
	}()
}

type tokenPage struct {
	formPage
	Invalid bool
}

// handleResetForm shows the form; opening the link never uses the token up (mail scanners
// open links), only submitting the form does.
func (s *Server) handleResetForm(w http.ResponseWriter, r *http.Request) {
	p := tokenPage{formPage: s.formPage(r, "Choose a new password")}
	token := r.PathValue("token")
	if !auth.ValidToken(token) {
		p.Invalid = true
		s.renderForm(w, r, "reset", http.StatusNotFound, p)
		return
	}
	u, _, _, err := s.accounts.TokenUser(r.Context(), auth.HashToken(token), helpportal.TokenReset)
	if err != nil {
		if helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
			s.fail(w, r, err)
			return
		}
		p.Invalid = true
		s.renderForm(w, r, "reset", http.StatusNotFound, p)
		return
	}
	p.Token = token
	p.Values["email"] = u.Email // for password managers, which file the new password under it
	s.renderForm(w, r, "reset", http.StatusOK, p)
}

func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	p := tokenPage{formPage: s.formPage(r, "Choose a new password")}
	token := r.PathValue("token")
	if !auth.ValidToken(token) {
		p.Invalid = true
		s.renderForm(w, r, "reset", http.StatusNotFound, p)
		return
	}
	p.Token = token
	hash := auth.HashToken(token)
	u, _, _, err := s.accounts.TokenUser(r.Context(), hash, helpportal.TokenReset)
	if u != nil {
		p.Values["email"] = u.Email
	}
	if err != nil {
		p.Invalid = helpportal.ErrorCode(err) == helpportal.ENOTFOUND
		if !p.Invalid {
			s.fail(w, r, err)
			return
		}
		s.renderForm(w, r, "reset", http.StatusNotFound, p)
		return
	}
	pw, err := formValue(r, "new_password", maxPasswordBytes)
	if err == nil {
		err = s.policy.Check(pw, u.Email, u.Name, s.site.Name)
	}
	if err != nil {
		p.Error = helpportal.ErrorMessage(err)
		p.Fields["new_password"] = p.Error
		s.renderForm(w, r, "reset", http.StatusBadRequest, p)
		return
	}
	pwHash, err := s.hasher.Hash(r.Context(), pw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notice, err := s.compose(u.Email, mail.KindPasswordChanged, map[string]string{
		"name": u.Name, "when": s.now().UTC().Format("2 January 2006, 15:04 MST"), "ip": clientIP(r)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.accounts.UseToken(r.Context(), hash, []string{helpportal.TokenReset}, func(tx *store.Tx, u *helpportal.User, _, _ string) error {
		return tx.SetPassword(u.ID, store.PasswordChange{Hash: pwHash, EndSessions: true, Notice: notice,
			Event: event(r, u.ID, helpportal.EventPasswordReset)})
	})
	if helpportal.ErrorCode(err) == helpportal.ENOTFOUND {
		p.Invalid = true
		s.renderForm(w, r, "reset", http.StatusNotFound, p)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.clearSessionCookie(w)
	s.wakeMail()
	http.Redirect(w, r, "/login?reset=1", http.StatusSeeOther)
}
