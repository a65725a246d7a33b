package web

import (
	"encoding/json"
	"net/http"

	"helpportal"
	"helpportal/internal/auth"
)

// handlePasswordStrength feeds the strength meter on password forms. It only advises: the
// form's POST runs the real policy. zxcvbn costs milliseconds of CPU, so the route passes the
// same gate as password hashing. Context words (email, name) come with the request because
// invitees are not signed in yet.
func (s *Server) handlePasswordStrength(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Password string `json:"password"`
		Email    string `json:"email"`
		Name     string `json:"name"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&in); err != nil {
		s.fail(w, r, helpportal.Errorf(helpportal.EINVALID, "Send JSON with a password field."))
		return
	}
	ctx := []string{in.Email, in.Name, s.site.Name}
	if si := current(r); si != nil {
		ctx = append(ctx, si.user.Email, si.user.Name)
	}
	score, hint := auth.Strength(in.Password, ctx...)
	out := map[string]any{"score": score, "hint": hint, "ok": true}
	if err := s.policy.Check(in.Password, ctx...); err != nil {
		out["ok"], out["hint"] = false, helpportal.ErrorMessage(err)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}
