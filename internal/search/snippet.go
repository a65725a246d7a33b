package search

import (
	"html"
	"html/template"
	"strings"
	"unicode"
	"unicode/utf8"
)

// isBlockTag reports whether a tag (lower case) ends a word wherever it opens or closes, so
// that "<td>a</td><td>b</td>" reads as "a b", not "ab".
func isBlockTag(tag string) bool {
	switch tag {
	case "p", "div", "br", "li", "ul", "ol", "td", "th", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
		"pre", "blockquote", "hr", "dt", "dd", "section", "aside", "figcaption":
		return true
	}
	return false
}

// htmlSpace marks the bytes htmlText turns into a single space.
var htmlSpace = [256]bool{' ': true, '\n': true, '\t': true, '\r': true}

// htmlText turns the stored, sanitised article HTML into the plain text a reader sees, with
// single spaces. The HTML was sanitised on save, so there are no scripts or comments to skip;
// this is a fast scan rather than a parse. Text is copied a run of words at a time (words
// with single spaces between them), not a word at a time: it runs for every hit a search
// page shows.
func htmlText(s string) string {
	var b strings.Builder
	b.Grow(len(s)) // the text is most of the HTML: one allocation, no regrowth
	space := true
	for i := 0; i < len(s); {
		c := s[i]
		if c == '<' {
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				break
			}
			tag := s[i+1 : i+end]
			if strings.HasPrefix(tag, `a class="anchor"`) {
				// A heading's "#" permalink is not text a reader reads.
				if close := strings.Index(s[i:], "</a>"); close >= 0 {
					i += close + len("</a>")
					continue
				}
			}
			tag = strings.TrimPrefix(tag, "/")
			if j := strings.IndexAny(tag, " \t\n/"); j >= 0 {
				tag = tag[:j]
			}
			if !space && isBlockTag(strings.ToLower(tag)) {
				b.WriteByte(' ')
				space = true
			}
			i += end + 1
			continue
		}
		if htmlSpace[c] {
			if !space {
				b.WriteByte(' ')
				space = true
			}
			i++
			continue
		}
		// A run of words up to a tag or to whitespace that is not one plain space between
		// two words.
		j := i + 1
		for j < len(s) && s[j] != '<' {
			if htmlSpace[s[j]] && (s[j] != ' ' || j+1 == len(s) || htmlSpace[s[j+1]] || s[j+1] == '<') {
				break
			}
			j++
		}
		b.WriteString(s[i:j])
		space = false
		i = j
	}
	return strings.TrimSpace(html.UnescapeString(b.String()))
}

// snippetWords is how many words a snippet shows around the best passage.
const snippetWords = 32

// marker decides which words of a text to highlight: those whose index term is one the
// query matched. Stemming every word of an article would cost most of a search, so a word
// is only analyzed when it starts like one of the terms.
type marker struct {
	an       *analyzer
	terms    map[string]bool
	prefixes []string
	seen     map[string]bool // word (lower case) → matched; words repeat a lot
	// first marks the bytes a prefix starts with, in either case (a byte ≥ 0x80 always
	// passes): most words are rejected by one lookup.
	first [256]bool
	// toks is reused from one text to the next: the word spans of a body were a third of
	// the bytes a search allocated.
	toks []span
}

func newMarker(an *analyzer, terms []string) *marker {
	m := &marker{an: an, terms: map[string]bool{}, seen: map[string]bool{}}
	seen := map[string]bool{}
	for _, t := range terms {
		if t == "" {
			continue
		}
		m.terms[t] = true
		// Stemmers cut and sometimes change the end of a word (happy → happi), so compare a
		// little less than the whole stem.
		r := []rune(t)
		p := string(r[:max(1, min(len(r), len(r)-1, 4))])
		if !seen[p] {
			seen[p] = true
			m.prefixes = append(m.prefixes, p)
			if c := p[0]; c < utf8.RuneSelf {
				m.first[c] = true
				m.first[unicode.ToUpper(rune(c))&0x7f] = true
			}
		}
	}
	return m
}

func (m *marker) match(word string) bool {
	if len(m.terms) == 0 {
		return false
	}
	// Most words of a text start like no query term: reject those before lower-casing
	// (which allocates) or a map lookup.
	if c := word[0]; c < utf8.RuneSelf && !m.first[c] {
		return false
	}
	candidate := false
	for _, p := range m.prefixes {
		if len(word) >= len(p) && strings.EqualFold(word[:len(p)], p) {
			candidate = true
			break
		}
	}
	if !candidate {
		return false
	}
	lw := strings.ToLower(word)
	if ok, known := m.seen[lw]; known {
		return ok
	}
	t := m.an.term(lw)
	ok := t != "" && m.terms[t]
	m.seen[lw] = ok
	return ok
}

// snippet returns the best passage of text: the window of snippetWords words holding the
// most distinct matched terms (then the most matches), with matched words in <mark> and
// everything else escaped. found reports whether any word matched.
func (m *marker) snippet(text string) (out template.HTML, found bool) {
	m.toks = splitWords(m.toks[:0], text)
	toks := m.toks
	if len(toks) == 0 {
		return "", false
	}
	hits := make([]int, 0, 16) // token indexes of matches
	ids := make([]int, 0, 16)  // which distinct word each match is
	words := map[string]int{}
	for i, t := range toks {
		w := text[t.start:t.end]
		if m.match(w) {
			lw := strings.ToLower(w)
			id, ok := words[lw]
			if !ok {
				id = len(words)
				words[lw] = id
			}
			hits = append(hits, i)
			ids = append(ids, id)
		}
	}
	start := 0
	if len(hits) > 0 {
		// Slide a window of snippetWords tokens over the matches, keeping per-word counts:
		// the best window has the most distinct words, then the most matches.
		counts := make([]int, len(words))
		best, bestDistinct, bestCount := hits[0], 0, 0
		distinct, b := 0, 0
		for a := range hits {
			for b < len(hits) && hits[b]-hits[a] < snippetWords {
				if counts[ids[b]] == 0 {
					distinct++
				}
				counts[ids[b]]++
				b++
			}
			if distinct > bestDistinct || distinct == bestDistinct && b-a > bestCount {
				best, bestDistinct, bestCount = hits[a], distinct, b-a
			}
			counts[ids[a]]--
			if counts[ids[a]] == 0 {
				distinct--
			}
		}
		start = max(0, best-snippetWords/4) // a little lead-in before the first match
	}
	end := min(len(toks), start+snippetWords)
	from, to := toks[start].start, toks[end-1].end
	if start > 0 {
		// Start at the beginning of a sentence when one is close.
		if k := strings.LastIndexAny(text[toks[max(0, start-6)].start:from], ".!?"); k >= 0 {
			from = toks[max(0, start-6)].start + k + 1
		}
	}
	var b strings.Builder
	if from > 0 {
		b.WriteString("… ")
	}
	pos := from
	hi := 0
	for i := start; i < end; i++ {
		t := toks[i]
		if t.start < pos {
			continue
		}
		for hi < len(hits) && hits[hi] < i {
			hi++
		}
		if hi < len(hits) && hits[hi] == i {
			b.WriteString(template.HTMLEscapeString(text[pos:t.start]))
			b.WriteString("<mark>")
			b.WriteString(template.HTMLEscapeString(text[t.start:t.end]))
			b.WriteString("</mark>")
			pos = t.end
			found = true
		}
	}
	b.WriteString(template.HTMLEscapeString(text[pos:to]))
	if to < len(text) {
		b.WriteString(" …")
	}
	return template.HTML(strings.TrimSpace(b.String())), found
}

// splitWords appends the spans of text's words (runs of letters, digits and marks) to out. It
// is several times faster than the full Unicode word segmenter and only has to find the
// words to highlight; the index's own tokenizer decides what matched.
func splitWords(out []span, text string) []span {
	start := -1
	for i := 0; i < len(text); {
		c := text[i]
		var word bool
		n := 1
		if c < utf8.RuneSelf {
			word = asciiWord[c]
		} else {
			var r rune
			r, n = utf8.DecodeRuneInString(text[i:])
			word = unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
		}
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			out = append(out, span{start: start, end: i})
			start = -1
		}
		i += n
	}
	if start >= 0 {
		out = append(out, span{start: start, end: len(text)})
	}
	return out
}

// span is the byte range of one word.
type span struct{ start, end int }

// asciiWord marks the ASCII bytes that are part of a word.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	return t
}()

// plainSnippet is the escaped start of text, for hits whose body holds no query word.
func plainSnippet(text string, runes int) template.HTML {
	if utf8.RuneCountInString(text) > runes {
		r := []rune(text)[:runes]
		s := string(r)
		if k := strings.LastIndexByte(s, ' '); k > runes/2 {
			s = s[:k]
		}
		return template.HTML(template.HTMLEscapeString(s) + " …")
	}
	return template.HTML(template.HTMLEscapeString(text))
}
