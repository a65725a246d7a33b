package web

import (
	"net/http"
	"strings"

	"helpportal"
	"helpportal/internal/auth"
)

// loginFailed is the one answer for an unknown email, a wrong password and a disabled or
// invited account, so the form reveals nothing about which accounts exist.
const loginFailed = "That email and password don't match an account. Check them and try again, or reset your password."

func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	p := s.formPage(r, "Sign in")
	p.Next = safeNext(r.URL.Query().Get("next"))
	if current(r) != nil {
		http.Redirect(w, r, p.Next, http.StatusSeeOther)
		return
	}
	if r.URL.Query().Get("reset") == "1" {
		p.Notice = "Your password has been changed. Sign in with your new password."
	}
	s.renderForm(w, r, "login", http.StatusOK, p)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.formPage(r, "Sign in")
	p.Next = safeNext(r.PostForm.Get("next"))
	email, err1 := formValue(r, "email", 320)
	password, err2 := formValue(r, "password", maxPasswordBytes)
	remember := r.PostForm.Get("remember") != ""
	p.Values["email"] = strings.TrimSpace(email)
	if err1 != nil || err2 != nil {
		p.Error = "The email or password is too long."
		s.renderForm(w, r, "login", http.StatusBadRequest, p)
		return
	}
	if strings.TrimSpace(email) == "" || password == "" {
		p.Error = "Enter your email address and your password."
		s.renderForm(w, r, "login", http.StatusBadRequest, p)
		return
	}
	norm, err := auth.NormalizeEmail(email)
	if err != nil {
		p.Error = helpportal.ErrorMessage(err)
		s.renderForm(w, r, "login", http.StatusBadRequest, p)
		return
	}
	ctx := r.Context()
	now := s.now()
	acctKey, ipKey := "login:acct:"+norm, "login:ip:"+clientIP(r)
	// Every attempt is counted before the password is checked; a success takes it back.
	for _, k := range []struct {
		key   string
		limit int
	}{{acctKey, accountFailures}, {ipKey, ipFailures}} {
		wait, err := s.admit(ctx, k.key, k.limit, now)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if wait > 0 {
			if k.key == ipKey { // the account's attempt was counted; this one never ran
				if err := s.accounts.ForgetAttempt(ctx, acctKey, now); err != nil {
					s.log.Warn("forget attempt", "err", err)
				}
			}
			err := tooMany(w, wait)
			p.Error = helpportal.ErrorMessage(err)
			s.renderForm(w, r, "login", http.StatusTooManyRequests, p)
			return
		}
	}
	u, err := s.accounts.UserByEmail(ctx, norm)
	var ok, rehash bool
	switch {
	case err == nil && u.PasswordHash != "":
		ok, rehash, err = s.hasher.Verify(ctx, password, u.PasswordHash)
		ok = ok && u.Status == helpportal.UserActive
	case err == nil || helpportal.ErrorCode(err) == helpportal.ENOTFOUND:
		s.hasher.VerifyDummy(ctx, password) // the same time as a real check
		u, err = nil, nil
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		if u != nil {
			if err := s.accounts.AddEvent(ctx, event(r, u.ID, helpportal.EventSignInFailed)); err != nil {
				s.log.Warn("log failed sign-in", "err", err)
			}
		}
		if s.metrics != nil {
			s.metrics.loginFailure.Inc()
		}
		p.Error = loginFailed
		s.renderForm(w, r, "login", http.StatusUnauthorized, p)
		return
	}
	if err := s.accounts.ForgetAttempt(ctx, ipKey, now); err != nil {
		s.log.Warn("forget attempt", "err", err)
	}
	newHash := ""
	if rehash {
		if newHash, err = s.hasher.Hash(ctx, password); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	// The session token is new at every sign-in (no fixation); an old one is ended.
	if si := current(r); si != nil {
		if err := s.accounts.EndSession(ctx, si.session.TokenHash, nil); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if err := s.newSession(w, r, u, remember); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.accounts.RecordSignIn(ctx, u.ID, newHash, acctKey); err != nil {
		s.log.Warn("record sign-in", "err", err)
	}
	http.Redirect(w, r, p.Next, http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if si := current(r); si != nil {
		ev := event(r, si.user.ID, helpportal.EventSignOut)
		if err := s.accounts.EndSession(r.Context(), si.session.TokenHash, &ev); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
