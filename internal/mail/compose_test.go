package mail

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"helpportal"
)

var testSite = Site{Name: "Acme & Söhne Help", BaseURL: "https://help.example.com/"}

var urlRE = regexp.MustCompile(`https?://[^\s"<>]+`)

func TestCompose(t *testing.T) {
	const name = `<b>Zoë</b>`
	const link = "https://help.example.com/reset-password/tok?a=1&b=2"
	const htmlLink = `href="https://help.example.com/reset-password/tok?a=1&amp;b=2"`
	forgot := "https://help.example.com/forgot-password"
	tests := []struct {
		kind     Kind
		data     map[string]string
		links    []string // every URL the text part may hold
		htmlLink string   // an escaped href the HTML part must hold
		says     string   // a phrase the kind must carry in both parts
	}{
		{KindInvite, map[string]string{"name": name, "link": link, "expires": "7 days"}, []string{link}, htmlLink, "7 days"},
		{KindPasswordReset, map[string]string{"name": name, "link": link, "expires": "60 minutes"}, []string{link}, htmlLink, "did not ask for this"},
		{KindPasswordChanged, map[string]string{"name": name, "when": "2 May 2026, 10:00 UTC", "ip": "203.0.113.9"},
			[]string{forgot}, `href="` + forgot + `"`, "203.0.113.9"},
		{KindEmailConfirm, map[string]string{"name": name, "link": "/account/email/tok"},
			[]string{"https://help.example.com/account/email/tok"}, `href="https://help.example.com/account/email/tok"`, "confirm"},
		{KindEmailChanged, map[string]string{"name": name, "new_email_masked": "n***@example.org"}, nil, "", "n***@example.org"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			m, err := Compose(testSite, "alice@example.com", tt.kind, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if m.To != "alice@example.com" || !strings.Contains(m.Subject, testSite.Name) {
				t.Errorf("to %q, subject %q", m.To, m.Subject)
			}
			if !regexp.MustCompile(`^<[a-z2-7]{26}@help\.example\.com>$`).MatchString(m.MessageID) {
				t.Errorf("Message-ID %q", m.MessageID)
			}
			if !strings.Contains(m.Text, testSite.Name) || !strings.Contains(m.Text, name) || !strings.Contains(m.Text, tt.says) {
				t.Errorf("text part lacks the site name, the name or %q:\n%s", tt.says, m.Text)
			}
			if !strings.Contains(m.HTML, "Acme &amp; Söhne Help") || !strings.Contains(m.HTML, "&lt;b&gt;Zoë&lt;/b&gt;") ||
				strings.Contains(m.HTML, name) || !strings.Contains(m.HTML, tt.says) {
				t.Errorf("HTML part lacks the escaped site name or name, or %q:\n%s", tt.says, m.HTML)
			}
			if got := urlRE.FindAllString(m.Text, -1); !sameSet(got, tt.links) {
				t.Errorf("text links %q, want %q", got, tt.links)
			}
			if tt.htmlLink != "" && !strings.Contains(m.HTML, tt.htmlLink) {
				t.Errorf("HTML lacks %s:\n%s", tt.htmlLink, m.HTML)
			}
			if tt.htmlLink == "" && urlRE.MatchString(m.HTML) {
				t.Errorf("HTML has a link: %v", urlRE.FindAllString(m.HTML, -1))
			}
		})
	}
	a, _ := Compose(testSite, "a@example.com", KindEmailConfirm, map[string]string{"link": "/x"})
	b, _ := Compose(testSite, "a@example.com", KindEmailConfirm, map[string]string{"link": "/x"})
	if a.MessageID == b.MessageID {
		t.Error("two mails share a Message-ID")
	}
}

// sameSet reports whether got and want hold the same URLs, repeats aside.
func sameSet(got, want []string) bool {
	for _, g := range got {
		if !slices.Contains(want, g) {
			return false
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

func TestComposeRefuses(t *testing.T) {
	ok := map[string]string{"link": "/invite/tok", "expires": "7 days"}
	tests := []struct {
		name    string
		site    Site
		to      string
		kind    Kind
		data    map[string]string
		invalid bool // EINVALID (the user's input) rather than a bug
	}{
		{"display name in address", testSite, "Alice <alice@example.com>", KindInvite, ok, true},
		{"not an address", testSite, "alice", KindInvite, ok, true},
		{"header injection", testSite, "alice@example.com\r\nBcc: x@y.z", KindInvite, ok, true},
		{"unknown kind", testSite, "alice@example.com", "newsletter", ok, false},
		{"missing link", testSite, "alice@example.com", KindInvite, map[string]string{"expires": "7 days"}, false},
		{"foreign host", testSite, "alice@example.com", KindInvite, map[string]string{"link": "https://evil.example/invite/tok", "expires": "7 days"}, false},
		{"look-alike host", testSite, "alice@example.com", KindInvite, map[string]string{"link": "https://help.example.com.evil.example/x", "expires": "7 days"}, false},
		{"scheme-relative", testSite, "alice@example.com", KindInvite, map[string]string{"link": "//evil.example/x", "expires": "7 days"}, false},
		{"no base URL", Site{Name: "X"}, "alice@example.com", KindInvite, ok, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compose(tt.site, tt.to, tt.kind, tt.data)
			if err == nil {
				t.Fatal("accepted")
			}
			if got := helpportal.ErrorCode(err) == helpportal.EINVALID; got != tt.invalid {
				t.Errorf("code %s for %v", helpportal.ErrorCode(err), err)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	got := redact(`550 5.1.1 <bob.smith@example.com>: Recipient address rejected; from=alice@x.org`)
	if strings.Contains(got, "bob.smith@") || strings.Contains(got, "alice@") || !strings.Contains(got, "b***@example.com") {
		t.Error(got)
	}
}
