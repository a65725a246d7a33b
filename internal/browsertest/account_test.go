package browsertest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"helpportal"
	"helpportal/internal/auth"
	"helpportal/internal/browsertest"
)

const password = "correct horse battery staple ocean"

// TestAccountPages runs axe and the HTML checker on the client area's pages, and walks
// through signing in and changing the password with the keyboard alone.
func TestAccountPages(t *testing.T) {
	h := browsertest.New(t)
	base, db := browsertest.ServeDemoStore(t)
	ctx := context.Background()
	hash, err := auth.NewHasher(auth.DefaultParams(), 1, 1).Hash(ctx, password)
	if err != nil {
		t.Fatal(err)
	}
	u := &helpportal.User{Email: "casey@example.com", Name: "Casey Client", Role: helpportal.RoleClient, Status: helpportal.UserActive, PasswordHash: hash}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	reset, resetHash := auth.NewToken()
	if err := db.CreateToken(ctx, u.ID, helpportal.TokenReset, resetHash, "", time.Hour, nil, nil); err != nil {
		t.Fatal(err)
	}
	confirm, confirmHash := auth.NewToken()
	if err := db.CreateToken(ctx, u.ID, helpportal.TokenEmail, confirmHash, "casey@example.org", time.Hour, nil, nil); err != nil {
		t.Fatal(err)
	}
	invitee := &helpportal.User{Email: "ivy@example.com", Name: "Ivy Invitee", Role: helpportal.RoleClient, Status: helpportal.UserInvited}
	invite, inviteHash := auth.NewToken()
	if err := db.InviteUser(ctx, invitee, helpportal.TokenInvite, inviteHash, time.Hour, nil); err != nil {
		t.Fatal(err)
	}

	docs := map[string][]byte{}
	for _, p := range []struct{ name, path string }{
		{"login", "/login"},
		{"forgot", "/forgot-password"},
		{"reset", "/reset-password/" + reset},
		{"reset-invalid", "/reset-password/" + strings.Repeat("A", 43)},
		{"invite", "/invite/" + invite},
		{"email-confirm", "/account/email/" + confirm},
	} {
		status := http.StatusOK
		if p.name == "reset-invalid" {
			status = http.StatusNotFound
		}
		docs[p.name] = get(t, base+p.path, status)
		h.Run(p.name, func(h *browsertest.Harness) {
			h.Open(base + p.path)
			for _, e := range h.ConsoleErrors() {
				if !strings.Contains(e, "404") {
					h.T().Errorf("%s: %s", p.path, e)
				}
			}
			h.Axe(p.path)
		})
	}

	h.Run("keyboard", func(h *browsertest.Harness) {
		// Sign in with the keyboard only: the skip link, then the form's fields in order.
		h.Open(base + "/login")
		h.Eval(`document.getElementById("email").focus()`, nil)
		h.Press("casey@example.com")
		h.Press(kb.Tab)
		h.Press(password)
		h.Press(kb.Enter)
		h.WaitURL(base + "/account")
		h.Open(base + "/account/security")
		h.Axe("/account/security")
		h.Eval(`document.getElementById("current_password").focus()`, nil)
		h.Press(password)
		h.Press(kb.Tab) // the show/hide toggle
		var focused string
		h.Eval(`document.activeElement.className`, &focused)
		if focused != "reveal" {
			h.T().Errorf("after the current password, focus is on %q, want the show/hide toggle", focused)
		}
		h.Press(kb.Tab)
		h.Press("quiet maple lantern harbour seventeen")
		h.Press(kb.Enter)
		h.WaitURL(base + "/account/security?done=password")
		var notice string
		h.Eval(`document.querySelector(".alert-ok").textContent`, &notice)
		if !strings.Contains(notice, "password has been changed") {
			h.T().Errorf("notice = %q", notice)
		}
		h.Axe("/account/security after change")
		h.Open(base + "/account")
		h.Axe("/account")
	})
	t.Run("html", func(t *testing.T) { browsertest.ValidateHTML(t, docs) })
}
