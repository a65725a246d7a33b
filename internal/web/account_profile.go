package web

import (
	"net/http"
	"strings"

	"helpportal"
	"helpportal/internal/auth"
	"helpportal/internal/mail"
	"helpportal/internal/store"
)

func (s *Server) profilePage(r *http.Request, si *signedIn) formPage {
	p := s.formPage(r, "Your account")
	p.Values["name"] = si.user.Name
	return p
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request) {
	si := s.requireUser(w, r)
	if si == nil {
		return
	}
	p := s.profilePage(r, si)
	switch r.URL.Query().Get("done") {
	case "name":
		p.Notice = "Your name has been saved."
	case "email-sent":
		p.Notice = "We've sent a confirmation link to your new address. Your email address changes when you open it."
	case "email":
		p.Notice = "Your email address has been changed."
	}
	if r.URL.Query().Get("welcome") == "1" {
		p.Notice = "Welcome! Your password is set and you are signed in."
	}
	s.renderForm(w, r, "account", http.StatusOK, p)
}

func (s *Server) handleAccountName(w http.ResponseWriter, r *http.Request) {
	si := s.requireUser(w, r)
	if si == nil {
		return
	}
	if err := parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.profilePage(r, si)
	raw, err := formValue(r, "name", 400)
	name := ""
	if err == nil {
		name, err = helpportal.ValidateName(raw)
	}
	if err != nil {
		p.Values["name"] = strings.TrimSpace(raw)
		p.Error = helpportal.ErrorMessage(err)
		p.Fields["name"] = p.Error
		s.renderForm(w, r, "account", http.StatusBadRequest, p)
		return
	}
	if err := s.accounts.UpdateName(r.Context(), si.user.ID, name, event(r, si.user.ID, helpportal.EventNameChanged)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?done=name", http.StatusSeeOther)
}

// handleAccountEmail starts an address change: the current password proves it is the owner,
// and the change happens only when the link mailed to the new address is followed.
func (s *Server) handleAccountEmail(w http.ResponseWriter, r *http.Request) {
	si := s.requireUser(w, r)
	if si == nil {
		return
	}
	if err := parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	p := s.profilePage(r, si)
	bad := func(status int, field, msg string) {
		p.Error = "Your email address was not changed: " + msg
		p.Fields[field] = msg
		s.renderForm(w, r, "account", status, p)
	}
	raw, err := formValue(r, "email", 320)
	p.Values["email"] = strings.TrimSpace(raw)
	email := ""
	if err == nil {
		email, err = auth.NormalizeEmail(raw)
	}
	if err != nil {
		bad(http.StatusBadRequest, "email", helpportal.ErrorMessage(err))
		return
	}
	if email == si.user.Email {
		bad(http.StatusBadRequest, "email", "that is already your address.")
		return
	}
	pw, _ := formValue(r, "current_password", maxPasswordBytes)
	if err := s.verifyCurrent(w, r, si, pw); err != nil {
		switch code := helpportal.ErrorCode(err); code {
		case helpportal.EINVALID, helpportal.ETOOMANY:
			bad(statusOf(err), "current_password", helpportal.ErrorMessage(err))
		default:
			s.fail(w, r, err)
		}
		return
	}
	token, hash := auth.NewToken()
	m, err := s.compose(email, mail.KindEmailConfirm, map[string]string{"name": si.user.Name, "link": s.site.BaseURL + "/account/email/" + token})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ev := event(r, si.user.ID, helpportal.EventEmailRequested)
	if err := s.accounts.CreateToken(ctx, si.user.ID, helpportal.TokenEmail, hash, email, emailTTL, m, &ev); err != nil {
		s.fail(w, r, err)
		return
	}
	s.wakeMail()
	http.Redirect(w, r, "/account?done=email-sent", http.StatusSeeOther)
}

func (s *Server) handleEmailConfirmForm(w http.ResponseWriter, r *http.Request) {
	p := tokenPage{formPage: s.formPage(r, "Confirm your new email address")}
	token := r.PathValue("token")
	if !auth.ValidToken(token) {
		p.Invalid = true
		s.renderForm(w, r, "email_confirm", http.StatusNotFound, p)
		return
	}
	_, data, _, err := s.accounts.TokenUser(r.Context(), auth.HashToken(token), helpportal.TokenEmail)
	if err != nil {
		if p.Invalid = helpportal.ErrorCode(err) == helpportal.ENOTFOUND; !p.Invalid {
			s.fail(w, r, err)
			return
		}
		s.renderForm(w, r, "email_confirm", http.StatusNotFound, p)
		return
	}
	p.Token = token
	p.Values["email"] = data
	s.renderForm(w, r, "email_confirm", http.StatusOK, p)
}

func (s *Server) handleEmailConfirm(w http.ResponseWriter, r *http.Request) {
	p := tokenPage{formPage: s.formPage(r, "Confirm your new email address")}
	token := r.PathValue("token")
	if !auth.ValidToken(token) {
		p.Invalid = true
		s.renderForm(w, r, "email_confirm", http.StatusNotFound, p)
		return
	}
	err := s.accounts.UseToken(r.Context(), auth.HashToken(token), []string{helpportal.TokenEmail}, func(tx *store.Tx, u *helpportal.User, newEmail, _ string) error {
		notice, err := s.compose(u.Email, mail.KindEmailChanged, map[string]string{"name": u.Name, "new_email_masked": auth.MaskEmail(newEmail)})
		if err != nil {
			return err
		}
		return tx.SetEmail(u.ID, newEmail, notice, event(r, u.ID, helpportal.EventEmailChanged))
	})
	switch helpportal.ErrorCode(err) {
	case "":
	case helpportal.ENOTFOUND:
		p.Invalid = true
		s.renderForm(w, r, "email_confirm", http.StatusNotFound, p)
		return
	default:
		s.fail(w, r, err)
		return
	}
	s.wakeMail()
	http.Redirect(w, r, "/account?done=email", http.StatusSeeOther)
}
