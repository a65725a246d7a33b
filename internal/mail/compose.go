package mail

import (
	"crypto/rand"
	"fmt"
	htmltemplate "html/template"
	netmail "net/mail"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"helpportal"
)

// Site is what mail needs to know about the portal.
type Site struct{ Name, BaseURL string } // BaseURL like https://help.example.com; links in mail are always built from it, never from a request

// Kind names a mail template.
type Kind string

const (
	KindInvite          Kind = "invite"           // data: name, link (set-password link), expires ("7 days")
	KindPasswordReset   Kind = "password_reset"   // data: name, link, expires ("60 minutes"); says to ignore it if you didn't ask
	KindPasswordChanged Kind = "password_changed" // data: name, when, ip; no secrets; what to do if it was not you (reset link to BaseURL/forgot-password, contact support)
	KindEmailConfirm    Kind = "email_confirm"    // data: name, link — sent to the NEW address
	KindEmailChanged    Kind = "email_changed"    // data: name, new_email_masked — sent to the OLD address
)

// para is one paragraph, written once for both parts. If link names a value, that URL
// follows the paragraph: on a line of its own in text (so every client makes it clickable),
// as an <a> showing the full URL in HTML (so the reader sees where it goes).
type para struct{ text, link string }

type spec struct {
	subject string
	need    []string // data keys the caller must give; "name" is always optional
	paras   []para
}

var specs = map[Kind]spec{
	KindInvite: {"Set your password for {{.site}}", []string{"link", "expires"}, []para{
		{"An account has been created for you at {{.site}}. To start, choose your password here:", "link"},
		{"This link works for {{.expires}} and only once. If you did not expect this invitation, ignore this message.", ""},
	}},
	KindPasswordReset: {"Reset your {{.site}} password", []string{"link", "expires"}, []para{
		{"Someone asked to reset the password of your {{.site}} account. To choose a new password, open this link:", "link"},
		{"The link works for {{.expires}} and only once.", ""},
		{"If you did not ask for this, ignore this message: your password stays as it is.", ""},
	}},
	KindPasswordChanged: {"Your {{.site}} password was changed", []string{"when", "ip"}, []para{
		{"The password of your {{.site}} account was changed on {{.when}} from the IP address {{.ip}}. If that was you, there is nothing more to do.", ""},
		{"If it was not you, someone else may know your password. Choose a new one at once, then contact {{.site}} support:", "forgot_url"},
	}},
	KindEmailConfirm: {"Confirm your new email address for {{.site}}", []string{"link"}, []para{
		{"You asked to use this address for your {{.site}} account. To confirm it, open this link:", "link"},
		{"Until you confirm, the account keeps its old address. If you did not ask for this, ignore this message.", ""},
	}},
	// No link: a password reset would now go to the new address, which may be the attacker's.
	KindEmailChanged: {"The email address of your {{.site}} account was changed", []string{"new_email_masked"}, []para{
		{"The email address of your {{.site}} account was changed to {{.new_email_masked}}. Mail about the account now goes there.", ""},
		{"If you did not make this change, contact {{.site}} support at once.", ""},
	}},
}

type tmpl struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template // html/template: every value is escaped for its context
}

// templates are parsed once at start-up; a mistake in them panics in every test run.
var templates = func() map[Kind]tmpl {
	out := map[Kind]tmpl{}
	for kind, sp := range specs {
		var text, html strings.Builder
		text.WriteString("Hello{{with .name}} {{.}}{{end}},\n\n")
		html.WriteString(`<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.subject}}</title></head>` +
			"\n<body style=\"font-family:sans-serif;line-height:1.5;color:#222;max-width:36em\">\n<p>Hello{{with .name}} {{.}}{{end}},</p>\n")
		for _, p := range sp.paras {
			text.WriteString(p.text + "\n")
			html.WriteString("<p>" + p.text + "</p>\n")
			if p.link != "" {
				text.WriteString("{{." + p.link + "}}\n")
				html.WriteString(`<p><a href="{{.` + p.link + `}}">{{.` + p.link + "}}</a></p>\n")
			}
			text.WriteString("\n")
		}
		text.WriteString("— {{.site}}\n")
		html.WriteString("<p>— {{.site}}</p>\n</body></html>\n")
		out[kind] = tmpl{
			subject: texttemplate.Must(texttemplate.New("s").Option("missingkey=zero").Parse(sp.subject)),
			text:    texttemplate.Must(texttemplate.New("t").Option("missingkey=zero").Parse(text.String())),
			html:    htmltemplate.Must(htmltemplate.New("h").Option("missingkey=zero").Parse(html.String())),
		}
	}
	return out
}()

// Compose builds a message from one of the templates with a plain-text and an HTML part
// (html/template, escaped), the site's name in the subject and body, and a fresh MessageID
// for host. A link may be given as a path ("/invite/TOKEN") or as an absolute URL under
// BaseURL; anything else is refused, so a link can never point at a host from a request.
// Errors: EINVALID if to is not a plain address; a plain (internal) error for an unknown
// kind, missing data, a foreign link or a bad BaseURL, which are the caller's bugs.
func Compose(site Site, to string, kind Kind, data map[string]string) (Message, error) {
	if a, err := netmail.ParseAddress(to); err != nil || a.Name != "" || a.Address != to {
		return Message{}, helpportal.Errorf(helpportal.EINVALID, "That email address is not valid.")
	}
	sp, ok := specs[kind]
	if !ok {
		return Message{}, fmt.Errorf("mail: unknown kind %q", kind)
	}
	base := strings.TrimRight(site.BaseURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return Message{}, fmt.Errorf("mail: base URL %q is not an absolute http(s) URL", site.BaseURL)
	}
	vals := map[string]string{}
	for k, v := range data {
		vals[k] = v
	}
	for _, k := range sp.need {
		if strings.TrimSpace(vals[k]) == "" {
			return Message{}, fmt.Errorf("mail: %s needs %q", kind, k)
		}
	}
	if link, ok := vals["link"]; ok {
		if strings.HasPrefix(link, "/") && !strings.HasPrefix(link, "//") {
			link = base + link
		}
		if _, err := url.Parse(link); err != nil || !strings.HasPrefix(link, base+"/") {
			return Message{}, fmt.Errorf("mail: %s link is not under the base URL", kind)
		}
		vals["link"] = link
	}
	vals["site"] = site.Name
	vals["forgot_url"] = base + "/forgot-password"

	t := templates[kind]
	var subject, text, html strings.Builder
	if err := t.subject.Execute(&subject, vals); err != nil {
		return Message{}, err
	}
	// Fields joins away CR, LF and tabs: a subject is one line whatever the site name holds.
	vals["subject"] = strings.Join(strings.Fields(subject.String()), " ")
	if err := t.text.Execute(&text, vals); err != nil {
		return Message{}, err
	}
	if err := t.html.Execute(&html, vals); err != nil {
		return Message{}, err
	}
	return Message{
		To:        to,
		Subject:   vals["subject"],
		Text:      text.String(),
		HTML:      html.String(),
		MessageID: "<" + strings.ToLower(rand.Text()) + "@" + u.Hostname() + ">", // 130 random bits
		CreatedAt: time.Now(),
	}, nil
}
