package mdfolder

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"helpportal"
)

func TestParseArticle(t *testing.T) {
	big := strings.Repeat("word ", helpportal.MaxBodyLen/5+1)
	tests := []struct {
		name, file, src string
		want            helpportal.Article // compared: Slug, Title, Summary, Type, Body, Tags, Status, Visibility
		cat             string
		err             string // a part of the error message; "" for success
	}{
		{name: "every field", file: "dns/x.md", src: "---\ntitle: Point a domain\nslug: point-a-domain\ncategory: dns-records\n" +
			"tags: [DNS, a-record, dns]\nsummary: How to point it.\ntype: walkthrough\nstatus: draft\nvisibility: staff\n---\n\n## Steps\n\n1. Go.\n",
			want: helpportal.Article{Slug: "point-a-domain", Title: "Point a domain", Summary: "How to point it.", Type: helpportal.TypeWalkthrough,
				Body: "## Steps\n\n1. Go.", Tags: []string{"dns", "a-record"}, Status: helpportal.StatusDraft, Visibility: helpportal.VisibilityStaff},
			cat: "dns-records"},
		{name: "defaults", file: "x.md", src: "---\ntitle: T\n---\nBody",
			want: helpportal.Article{Slug: "x", Title: "T", Type: helpportal.TypeHowTo, Body: "Body", Tags: []string{},
				Status: helpportal.StatusPublished, Visibility: helpportal.VisibilityPublic}},
		{name: "title from heading", file: "a/b.md", src: "---\ntags: ssl\n---\n\n# Renew SSL #\n\nText.\n\n# Second\n",
			want: helpportal.Article{Slug: "b", Title: "Renew SSL", Type: "how-to", Body: "Text.\n\n# Second", Tags: []string{"ssl"}, Status: "published", Visibility: "public"}},
		{name: "heading in code is not a title", file: "shell-tips.md", src: "```sh\n# not a title\n```\n# Real\nx",
			want: helpportal.Article{Slug: "shell-tips", Title: "Real", Type: "how-to", Body: "```sh\n# not a title\n```\nx", Tags: []string{}, Status: "published", Visibility: "public"}},
		{name: "title and slug from file name", file: "guides/reset_your-Password.md", src: "Just text.\n",
			want: helpportal.Article{Slug: "reset-your-password", Title: "Reset your Password", Type: "how-to", Body: "Just text.", Tags: []string{}, Status: "published", Visibility: "public"}},
		{name: "tags as string", file: "x.md", src: "---\ntitle: T\ntags: Billing, invoices ,, billing\n---\n",
			want: helpportal.Article{Slug: "x", Title: "T", Type: "how-to", Tags: []string{"billing", "invoices"}, Status: "published", Visibility: "public"}},
		{name: "tags as block list", file: "x.md", src: "---\ntitle: T\ntags:\n  - one\n  - two\n---\n",
			want: helpportal.Article{Slug: "x", Title: "T", Type: "how-to", Tags: []string{"one", "two"}, Status: "published", Visibility: "public"}},
		{name: "CRLF and BOM", file: "x.md", src: "\uFEFF---\r\ntitle: T\r\nsummary: S\r\n---\r\nline one\r\nline two\r\n",
			want: helpportal.Article{Slug: "x", Title: "T", Summary: "S", Type: "how-to", Body: "line one\nline two", Tags: []string{}, Status: "published", Visibility: "public"}},
		{name: "no front matter", file: "no-fm.md", src: "# Hello\n\nworld",
			want: helpportal.Article{Slug: "no-fm", Title: "Hello", Type: "how-to", Body: "world", Tags: []string{}, Status: "published", Visibility: "public"}},
		{name: "empty front matter", file: "e.md", src: "---\n---\nbody",
			want: helpportal.Article{Slug: "e", Title: "E", Type: "how-to", Body: "body", Tags: []string{}, Status: "published", Visibility: "public"}},

		{name: "unterminated front matter", file: "x.md", src: "---\ntitle: T\nbody", err: "no closing --- line"},
		{name: "bad YAML", file: "x.md", src: "---\ntitle: T\nsummary: a: b\n---\n", err: "not valid YAML: line 3: mapping values"},
		{name: "not a mapping", file: "x.md", src: "---\n- a\n---\n", err: "key: value"},
		{name: "unknown key", file: "x.md", src: "---\ntitle: T\ncatgory: dns\n---\n", err: `unknown key "catgory" on line 3`},
		{name: "duplicate key", file: "x.md", src: "---\ntitle: T\ntitle: U\n---\n", err: `"title" twice`},
		{name: "title not text", file: "x.md", src: "---\ntitle: [a]\n---\n", err: `"title" on line 2 must be text`},
		{name: "tags not a list", file: "x.md", src: "---\ntags: {a: b}\n---\n", err: `"tags" on line 2`},
		{name: "bad type", file: "x.md", src: "---\ntype: tutorial\n---\n", err: `type "tutorial"`},
		{name: "bad status", file: "x.md", src: "---\nstatus: live\n---\n", err: `status "live"`},
		{name: "bad visibility", file: "x.md", src: "---\nvisibility: everyone\n---\n", err: `visibility "everyone"`},
		{name: "bad slug", file: "x.md", src: "---\nslug: Not A Slug\n---\n", err: `slug "Not A Slug"`},
		{name: "bad category", file: "x.md", src: "---\ncategory: DNS Records\n---\n", err: `category "DNS Records"`},
		{name: "file name gives no slug", file: "日本.md", src: "---\ntitle: T\n---\n", err: "gives no slug"},
		{name: "title too long", file: "x.md", src: "---\ntitle: " + strings.Repeat("t", 201) + "\n---\n", err: "title is longer"},
		{name: "too many tags", file: "x.md", src: "---\ntags: a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u\n---\n", err: "at most 20 tags"},
		{name: "control character in tag", file: "x.md", src: "---\ntags: [\"a\\x07\"]\n---\n", err: "control character"},
		{name: "NUL escaped in title", file: "x.md", src: "---\ntitle: \"a\\0b\"\n---\n", err: "NUL"},
		{name: "invalid UTF-8", file: "x.md", src: "---\ntitle: T\n---\nok\nbad \xff here", err: "not UTF-8 text (line 5)"},
		{name: "NUL byte", file: "x.md", src: "---\ntitle: T\n---\nbad \x00", err: "NUL byte on line 4"},
		{name: "body too large", file: "x.md", src: "---\ntitle: T\n---\n" + big, err: "body is larger than 512 KiB"},
		{name: "file too large", file: "x.md", src: big + big, err: "file is larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, cat, err := ParseArticle(tt.file, []byte(tt.src))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				if code := helpportal.ErrorCode(err); code != helpportal.EINVALID && code != helpportal.ETOOLARGE {
					t.Errorf("error code %q", code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := tt.want
			if a.Slug != w.Slug || a.Title != w.Title || a.Summary != w.Summary || a.Type != w.Type || a.Body != w.Body ||
				!slices.Equal(a.Tags, w.Tags) || a.Status != w.Status || a.Visibility != w.Visibility || cat != tt.cat {
				t.Errorf("got  %q %q %q %q %q %q %q %q cat %q\nwant %q %q %q %q %q %q %q %q cat %q",
					a.Slug, a.Title, a.Summary, a.Type, a.Body, a.Tags, a.Status, a.Visibility, cat,
					w.Slug, w.Title, w.Summary, w.Type, w.Body, w.Tags, w.Status, w.Visibility, tt.cat)
			}
			// What Export writes parses back to the same article.
			src, err := formatArticle(a)
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := ParseArticle(a.Slug+".md", src)
			if err != nil || !sameArticle(a, b) {
				t.Errorf("re-parse of\n%s\ngave %+v, %v", src, b, err)
			}
		})
	}
}

func sameArticle(a, b *helpportal.Article) bool {
	return a.Slug == b.Slug && a.Title == b.Title && a.Summary == b.Summary && a.Type == b.Type && a.Body == b.Body &&
		slices.Equal(a.Tags, b.Tags) && a.Status == b.Status && a.Visibility == b.Visibility
}

func TestHumanize(t *testing.T) {
	for in, want := range map[string]string{"domains-dns": "Domains dns", "my_folder--x": "My folder x", "éa": "Éa", "": "", "---": ""} {
		if got := humanize(in, 100); got != want {
			t.Errorf("humanize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDropCR(t *testing.T) {
	for in, want := range map[string]string{"a\r\nb": "a\nb", "a\r\r\nb\r": "a\nb\r", "a\rb": "a\rb", "\r\n\r\n": "\n\n"} {
		if got := dropCR(in); got != want || dropCR(got) != got {
			t.Errorf("dropCR(%q) = %q, want %q (and stable)", in, got, want)
		}
	}
}

// TestFormatRoundTrip feeds Export's writer values that YAML quotes, folds or escapes.
func TestFormatRoundTrip(t *testing.T) {
	texts := []string{"yes", "null", "~", "123", "1e3", "- x", "a: b", "#x", "x #y", "'q'", `"dq"`, "a\nb", "a \nb", "a\n\n\nb",
		"a\tb", "x\u0085y", "x\u2028y", "\u00a0x", "---", "a\n---\nb", "a\n...\nb", "{x}", "[x]", "&a", "*a", "!x", "%x", "@x", "`x`",
		"a\\b", "é✓😀", strings.Repeat("long words ", 18), "a\r\nb", "a\rb", "\ufeffx", "x:", "? x", "| x", "> x"}
	for _, s := range texts {
		a := &helpportal.Article{Slug: "s", Title: s, Summary: s, Body: s + "\n\n" + s}
		if !strings.ContainsFunc(s, unicode.IsControl) && len(s) <= helpportal.MaxTagLen { // import refuses other tags
			a.Tags = []string{s}
		}
		a.Normalize()
		src, err := formatArticle(a)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := ParseArticle("s.md", src)
		if err != nil {
			t.Errorf("%q: %v\n%s", s, err, src)
			continue
		}
		want := *a
		want.Body = trimBody(dropCR(a.Body))
		if !sameArticle(&want, b) {
			t.Errorf("%q: read back\n%+v\nwant\n%+v\nfrom\n%s", s, b, &want, src)
		}
	}
}
