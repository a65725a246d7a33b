package web

import (
	"net/http"
	"strconv"
	"time"

	"helpportal"
	"helpportal/internal/auth"
	"helpportal/internal/mail"
	"helpportal/internal/store"
)

type sessionRow struct {
	ID        int64
	Device    string
	IP        string
	CreatedAt time.Time
	LastSeen  time.Time
	Current   bool
}

type eventRow struct {
	Label  string
	IP     string
	Device string
	At     time.Time
}

type securityPage struct {
	formPage
	Sessions []sessionRow
	Events   []eventRow
}

func (s *Server) securityPage(r *http.Request, si *signedIn) (securityPage, error) {
	p := securityPage{formPage: s.formPage(r, "Security settings")}
	sessions, err := s.accounts.Sessions(r.Context(), si.user.ID, s.now())
	if err != nil {
		return p, err
	}
	for _, x := range sessions {
		p.Sessions = append(p.Sessions, sessionRow{ID: x.ID, Device: auth.DescribeUserAgent(x.UserAgent), IP: x.IP,
			CreatedAt: x.CreatedAt, LastSeen: x.LastSeenAt, Current: x.ID == si.session.ID})
	}
	events, err := s.accounts.Events(r.Context(), si.user.ID, 20)
	if err != nil {
		return p, err
	}
	for _, e := range events {
		p.Events = append(p.Events, eventRow{Label: helpportal.EventLabel(e.Kind), IP: e.IP, Device: auth.DescribeUserAgent(e.UserAgent), At: e.At})
	}
	p.Values["signout_others"] = "on"
	return p, nil
}

func (s *Server) handleSecurity(w http.ResponseWriter, r *http.Request) {
	si := s.requireUser(w, r)
	if si == nil {
		return
	}
	p, err := s.securityPage(r, si)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch r.URL.Query().Get("done") {
	case "password":
		p.Notice = "Your password has been changed."
	case "revoked":
		p.Notice = "That session has been signed out."
	case "others":
		p.Notice = "All your other sessions have been signed out."
	}
	s.renderForm(w, r, "security", http.StatusOK, p)
}

// handlePasswordChange needs the current password; wrong ones count toward throttling like
// failed sign-ins. Success rotates this session's token and, by default, ends the others.
func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request) {
	si := s.requireUser(w, r)
	if si == nil {
		return
	}
	if err := parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	p, err := s.securityPage(r, si)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	others := r.PostForm.Get("signout_others") != ""
	if !others {
		delete(p.Values, "signout_others")
	}
	fail := func(status int, field, msg string) {
		p.Error = "Your password was not changed: " + msg
		p.Fields[field] = msg
		s.renderForm(w, r, "security", status, p)
	}
	currentPW, err1 := formValue(r, "current_password", maxPasswordBytes)
	newPW, err2 := formValue(r, "new_password", maxPasswordBytes)
	if err1 != nil || err2 != nil {
		fail(http.StatusBadRequest, "new_password", "the password is too long.")
		return
	}
	if err := s.verifyCurrent(w, r, si, currentPW); err != nil {
		switch code := helpportal.ErrorCode(err); code {
		case helpportal.EINVALID, helpportal.ETOOMANY:
			fail(statusOf(err), "current_password", helpportal.ErrorMessage(err))
		default:
			s.fail(w, r, err)
		}
		return
	}
	if err := s.policy.Check(newPW, si.user.Email, si.user.Name, s.site.Name); err != nil {
		fail(http.StatusBadRequest, "new_password", helpportal.ErrorMessage(err))
		return
	}
	if newPW == currentPW {
		fail(http.StatusBadRequest, "new_password", "the new password is the same as the current one.")
		return
	}
	hash, err := s.hasher.Hash(ctx, newPW)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notice, err := s.compose(si.user.Email, mail.KindPasswordChanged, map[string]string{
		"name": si.user.Name, "when": s.now().UTC().Format("2 January 2006, 15:04 MST"), "ip": clientIP(r)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A new token for this session, in the same transaction as the new password.
	token, newHash := auth.NewToken()
	if err := s.accounts.ChangePassword(ctx, si.user.ID, store.PasswordChange{Hash: hash, EndSessions: others, Keep: newHash,
		OldSession: si.session.TokenHash, Notice: notice, Event: event(r, si.user.ID, helpportal.EventPasswordChanged)}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.setSessionCookie(w, token, si.session.Remember)
	s.wakeMail()
	http.Redirect(w, r, "/account/security?done=password", http.StatusSeeOther)
}

func (s *Server) handleSessionRevoke(w http.ResponseWriter, r *http.Request) {
	si := s.requireUser(w, r)
	if si == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, helpportal.Errorf(helpportal.EINVALID, "That is not a session."))
		return
	}
	if id == si.session.ID {
		s.handleLogout(w, r)
		return
	}
	if err := s.accounts.RevokeSession(r.Context(), si.user.ID, id, event(r, si.user.ID, helpportal.EventSessionRevoked)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/security?done=revoked#sessions", http.StatusSeeOther)
}

func (s *Server) handleSessionsRevokeOthers(w http.ResponseWriter, r *http.Request) {
	si := s.requireUser(w, r)
	if si == nil {
		return
	}
	if err := s.accounts.RevokeOtherSessions(r.Context(), si.user.ID, si.session.TokenHash, event(r, si.user.ID, helpportal.EventOthersRevoked)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/security?done=others#sessions", http.StatusSeeOther)
}
