package search

import (
	"strings"
	"unicode"
)

// DefaultSynonyms is the synonym list used until staff store their own: one group per line,
// the words or phrases of a group separated by commas.
const DefaultSynonyms = `sign in, log in, login, signin
password, passphrase
e-mail, email
2fa, two-factor, mfa`

// synonyms is a parsed synonym list. Single words are looked up by their index term, so
// "passwords" finds the "password" group; phrases are matched word for word.
type synonyms struct {
	groups [][]string            // the entries as written, lower case
	single map[string]int        // index term of a one-word entry → group
	multi  map[string][][]string // first word of a phrase entry → the phrases' words
	phrase map[string]int        // a phrase entry's words joined by spaces → group
	maxLen int
}

func parseSynonyms(an *analyzer, list string) *synonyms {
	s := &synonyms{single: map[string]int{}, multi: map[string][][]string{}, phrase: map[string]int{}}
	for _, line := range strings.Split(list, "\n") {
		var group []string
		for _, e := range strings.Split(line, ",") {
			if e = strings.ToLower(strings.Join(strings.Fields(e), " ")); e != "" && len(e) <= 100 {
				group = append(group, e)
			}
		}
		if len(group) < 2 {
			continue
		}
		g := len(s.groups)
		s.groups = append(s.groups, group)
		for _, e := range group {
			ws := an.words(e)
			switch {
			case len(ws) == 1:
				if t := an.term(ws[0].text); t != "" {
					s.single[t] = g
				}
			case len(ws) > 1 && len(ws) <= 6:
				words := make([]string, len(ws))
				for i, w := range ws {
					words[i] = w.text
				}
				s.multi[words[0]] = append(s.multi[words[0]], words)
				s.phrase[strings.Join(words, " ")] = g
				s.maxLen = max(s.maxLen, len(words))
			}
		}
	}
	return s
}

// match reports the synonym group that starts at words[i] and how many words it covers.
func (s *synonyms) match(an *analyzer, words []string, i int) (group, n int) {
	best, bestN := -1, 0
	for _, p := range s.multi[words[i]] {
		if len(p) > bestN && i+len(p) <= len(words) && equalWords(words[i:i+len(p)], p) {
			best, bestN = s.phrase[strings.Join(p, " ")], len(p)
		}
	}
	if best >= 0 {
		return best, bestN
	}
	if t := an.term(words[i]); t != "" {
		if g, ok := s.single[t]; ok {
			return g, 1
		}
	}
	return -1, 0
}

func equalWords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type itemKind int

const (
	itemWord itemKind = iota
	itemPhrase
	itemSynonym
)

// item is one unit of a parsed query: a word, a quoted phrase or a synonym group, each of
// which every strict result must match (or must not, when excluded).
type item struct {
	kind    itemKind
	text    string // the word or phrase as typed (lower case)
	group   int    // for itemSynonym
	exclude bool
	prefix  bool // the last word while typing: complete it
}

// parsed is a query broken into items. Anything that is not a word (quotes aside, and a
// minus sign that starts a word) is a separator, so every input parses.
type parsed struct {
	items []item
}

func isQuote(r rune) bool { return r == '"' || r == '“' || r == '”' || r == '„' }

// parseQuery reads q: "quoted phrases", -excluded words or phrases, and plain words, the
// last of which is completed as a prefix unless the query ends with a space or symbol.
func parseQuery(an *analyzer, syn *synonyms, q string) parsed {
	q = cutQuery(q)
	// Pair up the quotes in order; a lone last quote is ignored.
	var quotes [][2]int
	open := -1
	for i, r := range q {
		if isQuote(r) {
			if open < 0 {
				open = i
			} else {
				quotes = append(quotes, [2]int{open, i})
				open = -1
			}
		}
	}
	minusBefore := func(pos int) bool {
		if pos < 1 || q[pos-1] != '-' {
			return false
		}
		return pos == 1 || unicode.IsSpace(rune(q[pos-2])) || isQuote(rune(q[pos-2]))
	}
	toks := an.words(q)
	var p parsed
	var run []string // consecutive plain words, for synonym matching
	var runPrefix bool
	flush := func() {
		for i := 0; i < len(run); {
			if syn != nil {
				if g, n := syn.match(an, run, i); g >= 0 {
					p.items = append(p.items, item{kind: itemSynonym, text: strings.Join(run[i:i+n], " "), group: g})
					i += n
					continue
				}
			}
			p.items = append(p.items, item{kind: itemWord, text: run[i], prefix: runPrefix && i == len(run)-1})
			i++
		}
		run, runPrefix = run[:0], false
	}
	qi := 0
	for ti := 0; ti < len(toks); ti++ {
		t := toks[ti]
		for qi < len(quotes) && quotes[qi][1] < t.start {
			qi++
		}
		if qi < len(quotes) && t.start > quotes[qi][0] {
			// Inside a quoted phrase: take all its words at once.
			flush()
			var words []string
			for ; ti < len(toks) && toks[ti].end <= quotes[qi][1]; ti++ {
				words = append(words, toks[ti].text)
			}
			ti--
			if len(words) > 0 {
				p.items = append(p.items, item{kind: itemPhrase, text: strings.Join(words, " "), exclude: minusBefore(quotes[qi][0])})
			}
			continue
		}
		if minusBefore(t.start) {
			flush()
			p.items = append(p.items, item{kind: itemWord, text: t.text, exclude: true})
			continue
		}
		run = append(run, t.text)
		runPrefix = ti == len(toks)-1 && t.end == len(q)
	}
	flush()
	return p
}
