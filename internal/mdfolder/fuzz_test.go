package mdfolder

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseArticle checks that ParseArticle never panics, that what it accepts is a valid
// article once it has a category, and that Export's format reads back the same article.
// Committed seeds are in testdata/fuzz/FuzzParseArticle.
func FuzzParseArticle(f *testing.F) {
	for name, src := range good {
		f.Add(name, []byte(src))
	}
	for name, src := range bad {
		f.Add(name, []byte(src))
	}
	f.Add("a.md", []byte("---\ntitle: &t T\nsummary: *t\ntags: [a, *t]\n---\n"))
	f.Add("a.md", []byte("---\r\ntitle: \"x\\u2028y\"\r\n---\r\n~~~\r\n# no\r\n~~~\r\n# Yes #\r\n"))
	f.Add("x.md", []byte("---\nsummary: \"a\\n---\\n...\\nb\"\n---\n---\n"))
	f.Fuzz(func(t *testing.T, name string, src []byte) {
		a, _, err := ParseArticle(name, src)
		if err != nil {
			return
		}
		if a.Title == "" || !utf8.ValidString(a.Title) {
			t.Fatalf("title %q", a.Title)
		}
		a.CategoryID = 1
		a.Normalize()
		if err := a.Validate(); err != nil {
			t.Fatalf("accepted an invalid article: %v", err)
		}
		out, err := formatArticle(a)
		if err != nil {
			t.Fatalf("format: %v", err)
		}
		b, _, err := ParseArticle(a.Slug+".md", out)
		if err != nil {
			t.Fatalf("exported file does not parse: %v\n%s", err, out)
		}
		if !sameArticle(a, b) {
			t.Fatalf("exported file parses differently:\n%q\n%+v\n%+v", out, a, b)
		}
		if strings.Contains(string(out), "\r\n") {
			t.Fatalf("export wrote a CRLF: %q", out)
		}
	})
}
