package web

import (
	"net/http"
	"strings"

	"helpportal"
	"helpportal/internal/auth"
	"helpportal/internal/store"
)

// handleInviteForm shows the create-password form of an invitation (or of the first
// admin's setup link). Opening it never uses the token up.
func (s *Server) handleInviteForm(w http.ResponseWriter, r *http.Request) {
	p := tokenPage{formPage: s.formPage(r, "Create your password")}
	token := r.PathValue("token")
	if !auth.ValidToken(token) {
		p.Invalid = true
		s.renderForm(w, r, "invite", http.StatusNotFound, p)
		return
	}
	u, _, purpose, err := s.accounts.TokenUser(r.Context(), auth.HashToken(token), helpportal.TokenInvite, helpportal.TokenSetup)
	if err != nil {
		if helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
			s.fail(w, r, err)
			return
		}
		p.Invalid = true
		s.renderForm(w, r, "invite", http.StatusNotFound, p)
		return
	}
	p.Token, p.Purpose = token, purpose
	p.Values["email"], p.Values["name"] = u.Email, u.Name
	if purpose == helpportal.TokenSetup {
		p.Values["email"] = ""
	}
	s.renderForm(w, r, "invite", http.StatusOK, p)
}

func (s *Server) handleInvite(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	p := tokenPage{formPage: s.formPage(r, "Create your password")}
	token := r.PathValue("token")
	if !auth.ValidToken(token) {
		p.Invalid = true
		s.renderForm(w, r, "invite", http.StatusNotFound, p)
		return
	}
	hash := auth.HashToken(token)
	u, _, purpose, err := s.accounts.TokenUser(r.Context(), hash, helpportal.TokenInvite, helpportal.TokenSetup)
	if err != nil {
		if p.Invalid = helpportal.ErrorCode(err) == helpportal.ENOTFOUND; !p.Invalid {
			s.fail(w, r, err)
			return
		}
		s.renderForm(w, r, "invite", http.StatusNotFound, p)
		return
	}
	p.Token, p.Purpose = token, purpose
	email, name := u.Email, u.Name
	p.Values["email"], p.Values["name"] = email, name
	bad := func(field string, err error) {
		p.Error = helpportal.ErrorMessage(err)
		p.Fields[field] = p.Error
		s.renderForm(w, r, "invite", http.StatusBadRequest, p)
	}
	if purpose == helpportal.TokenSetup { // the first admin chooses their own address and name
		e, err := formValue(r, "email", 320)
		p.Values["email"] = strings.TrimSpace(e)
		if err == nil {
			email, err = auth.NormalizeEmail(e)
		}
		if err != nil {
			bad("email", err)
			return
		}
		n, err := formValue(r, "name", 400)
		p.Values["name"] = strings.TrimSpace(n)
		if err == nil {
			name, err = helpportal.ValidateName(n)
		}
		if err != nil {
			bad("name", err)
			return
		}
	}
	pw, err := formValue(r, "new_password", maxPasswordBytes)
	if err == nil {
		err = s.policy.Check(pw, email, name, s.site.Name)
	}
	if err != nil {
		bad("new_password", err)
		return
	}
	pwHash, err := s.hasher.Hash(r.Context(), pw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.accounts.UseToken(r.Context(), hash, []string{purpose}, func(tx *store.Tx, u *helpportal.User, _, _ string) error {
		if purpose == helpportal.TokenSetup {
			if err := tx.SetProfile(u.ID, email, name); err != nil {
				return err
			}
		}
		return tx.SetPassword(u.ID, store.PasswordChange{Hash: pwHash, EndSessions: true, Event: event(r, u.ID, helpportal.EventPasswordSet)})
	})
	switch helpportal.ErrorCode(err) {
	case "":
	case helpportal.ENOTFOUND:
		p.Invalid = true
		s.renderForm(w, r, "invite", http.StatusNotFound, p)
		return
	case helpportal.ECONFLICT:
		bad("email", err)
		return
	default:
		s.fail(w, r, err)
		return
	}
	u, err = s.accounts.UserByID(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if si := current(r); si != nil { // someone else signed in on this browser is signed out
		if err := s.accounts.EndSession(r.Context(), si.session.TokenHash, nil); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if err := s.newSession(w, r, u, false); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?welcome=1", http.StatusSeeOther)
}
