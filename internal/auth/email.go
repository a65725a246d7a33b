package auth

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"helpportal"
)

// NormalizeEmail returns the canonical form of an email address, the one stored and compared:
// trimmed and lower-cased, so addresses are unique case-insensitively (RFC 5321 lets a local part
// be case-sensitive, but no mail provider our customers use treats it so, and two accounts for
// Jane@ and jane@ would be a support and security trap). It refuses, with EINVALID and a message,
// anything that is not a single bare address: display names, comments, several "@", control
// or invisible characters, IP-literal or dotless domains, over-long parts.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := func(msg string) (string, error) { return "", helpportal.Errorf(helpportal.EINVALID, "%s", msg) }
	switch {
	case s == "":
		return bad("Enter your email address.")
	case len(s) > 254: // RFC 5321 path limit
		return bad("This email address is too long.")
	case !utf8.ValidString(s) || strings.IndexFunc(s, invisible) >= 0:
		return bad("This email address contains characters that are not allowed.")
	case strings.Count(s, "@") != 1:
		return bad("Enter one email address, like name@example.com.")
	}
	a, err := mail.ParseAddress(s)
	// Address must round-trip: that refuses "Jane <j@x.com>", "j@x.com (Jane)" and quoting.
	if err != nil || a.Name != "" || a.Address != s {
		return bad("Enter an email address like name@example.com.")
	}
	local, domain, _ := strings.Cut(s, "@")
	if len(local) > 64 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, "[") {
		return bad("Enter an email address like name@example.com.")
	}
	return strings.ToLower(s), nil
}

// invisible reports control and format characters (such as a zero-width space), which would let
// two addresses that look the same be two accounts.
func invisible(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }

// MaskEmail returns a form of email for logs and notices that identifies it to its owner but
// not to a reader: "a***@example.com".
func MaskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	r, size := utf8.DecodeRuneInString(local)
	if !ok || size == 0 || r == utf8.RuneError {
		return "***"
	}
	return string(r) + "***@" + domain
}
