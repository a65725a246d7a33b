package search

import "testing"

func TestHTMLText(t *testing.T) {
	for in, want := range map[string]string{
		`<h2 id="a">Before you start <a class="anchor" href="#a" aria-label="Link to section: Before you start">#</a></h2><p>Have a card.</p>`: "Before you start Have a card.",
		`<table><tr><td>MX</td><td>mail</td></tr></table>`:          "MX mail",
		`<p>5 &lt; 6 &amp; <b>bold</b></p>`:                         "5 < 6 & bold",
		`<p>one<br>two</p>`:                                         "one two",
		"<p>  two  spaces,\ta tab\r\nand lines\n</p>\n\n<p> x </p>": "two spaces, a tab and lines x",
		"<p>a <em>b</em> c<span>d</span> e</p>":                     "a b cd e",
		"<UL><LI>Upper</LI><LI>case</LI></UL>":                      "Upper case",
		"<p>end with space </p>":                                    "end with space",
		"plain text  without tags":                                  "plain text without tags",
		"<p>unclosed <b":                                            "unclosed",
	} {
		if got := htmlText(in); got != want {
			t.Errorf("htmlText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"password", "pasword", 1}, {"password", "passwrod", 1}, {"dns", "dsn", 1}, {"kitten", "sitting", 3}, {"é", "e", 1}} {
		if got := editDistance(c.a, c.b, 3); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	if got := editDistance("abcdefgh", "zzzzzzzz", 2); got != 3 {
		t.Errorf("capped distance = %d, want 3", got)
	}
}

func TestTypoBudget(t *testing.T) {
	for w, want := range map[string]int{"dns": 0, "mail": 0, "email": 1, "password": 1, "passwords": 2, "été": 0, "ééééé": 1} {
		if got := typoBudget(w); got != want {
			t.Errorf("typoBudget(%q) = %d, want %d", w, got, want)
		}
	}
}

// Matched words are marked whatever their case or script, and the words around them are
// escaped: the marker's quick rejections (first byte, ASCII word split) must not lose any.
func TestSnippetMarksAnyCase(t *testing.T) {
	an := newAnalyzer(newMapping("en"), "en")
	m := newMarker(an, []string{an.term("password"), an.term("été")})
	got, found := m.snippet(`Password <reset>: change your PASSWORD, then passwords. Été, ÉTÉ.`)
	want := `<mark>Password</mark> &lt;reset&gt;: change your <mark>PASSWORD</mark>, then <mark>passwords</mark>. <mark>Été</mark>, <mark>ÉTÉ</mark> …`
	if !found || string(got) != want {
		t.Errorf("snippet = %q (found %v)\nwant      %q", got, found, want)
	}
}
