package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"

	// Each language package registers its analyzer with Bleve; only these are offered.
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ar"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ckb"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/da"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/de"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/en"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/es"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fa"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fi"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fr"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/hi"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/hr"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/hu"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/it"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/nl"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/no"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/pl"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/pt"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ro"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ru"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/sv"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/tr"
)

// languageAnalyzers maps the primary subtag of the site's language (BCP 47) to the Bleve
// analyzer that stems and drops stop words for it.
var languageAnalyzers = map[string]string{
	"ar": "ar", "zh": "cjk", "ja": "cjk", "ko": "cjk", "ckb": "ckb", "da": "da", "de": "de", "en": "en",
	"es": "es", "fa": "fa", "fi": "fi", "fr": "fr", "hi": "hi", "hr": "hr", "hu": "hu", "it": "it",
	"nl": "nl", "no": "no", "nb": "no", "nn": "no", "pl": "pl", "pt": "pt", "ro": "ro", "ru": "ru",
	"sv": "sv", "tr": "tr",
}

// AnalyzerFor returns the analyzer for a site language: English by default, the language's
// own where Bleve has one, and the plain standard analyzer (lower case, no stemming) for
// any other language, so a portal in an unsupported language still finds whole words.
func AnalyzerFor(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if lang == "" {
		return "en"
	}
	primary, _, _ := strings.Cut(strings.ReplaceAll(lang, "_", "-"), "-")
	if a, ok := languageAnalyzers[primary]; ok {
		return a
	}
	return standard.Name
}

// analyzer wraps the index's analyzer for query-time use: raw words are cut with the same
// tokenizer, then each is analyzed on its own so that quotes, minus signs and synonyms can
// be recognised around the words first.
type analyzer struct {
	name string
	an   analysis.Analyzer
	tok  analysis.Tokenizer
}

func newAnalyzer(m mapping.IndexMapping, name string) *analyzer {
	return &analyzer{name: name, an: m.AnalyzerNamed(name), tok: unicodetok.NewUnicodeTokenizer()}
}

// rawToken is one word of the user's input, lower-cased, with its byte span.
type rawToken struct {
	text       string
	start, end int
}

// words splits s into lower-cased words. Punctuation, symbols and emoji separate words and
// are otherwise dropped, which is why no input can make the query fail to parse.
func (a *analyzer) words(s string) []rawToken {
	var out []rawToken
	for _, t := range a.tok.Tokenize([]byte(s)) {
		out = append(out, rawToken{text: strings.ToLower(string(t.Term)), start: t.Start, end: t.End})
	}
	return out
}

// terms analyzes one word (or a short phrase) into index terms: stemmed, stop words removed.
func (a *analyzer) terms(s string) []string {
	toks := a.an.Analyze([]byte(s))
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		out = append(out, string(t.Term))
	}
	return out
}

// term is the single index term of one word, or "" for a stop word.
func (a *analyzer) term(word string) string {
	ts := a.terms(word)
	if len(ts) == 0 {
		return ""
	}
	return ts[0]
}

// typoBudget is Meilisearch's rule: no typo in words under 5 characters, one from 5, two
// from 9. Characters are counted, not bytes.
func typoBudget(word string) int {
	switch n := utf8.RuneCountInString(word); {
	case n >= 9:
		return 2
	case n >= 5:
		return 1
	}
	return 0
}

// editDistance is the optimal-string-alignment distance (a transposition counts as one
// edit, as in Bleve's Levenshtein automata), computed over runes, giving up above max.
func editDistance(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			best = min(best, cur[j])
		}
		if best > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// firstRune returns the first character of s as a string.
func firstRune(s string) string {
	_, n := utf8.DecodeRuneInString(s)
	return s[:n]
}

// NormalizeQuery is the form queries are counted and pinned under: lower case, single
// spaces, at most 100 characters, with anything that looks like personal data (an email
// address, a long number) masked, since analytics must hold none.
func NormalizeQuery(q string) string {
	fields := strings.Fields(strings.ToLower(q))
	for i, f := range fields {
		digits := 0
		for _, r := range f {
			if unicode.IsDigit(r) {
				digits++
			}
		}
		switch {
		case strings.Contains(f, "@") && len(f) > 3:
			fields[i] = "[email]"
		case digits >= 6:
			fields[i] = "[number]"
		}
	}
	s := strings.Join(fields, " ")
	if utf8.RuneCountInString(s) > 100 {
		s = strings.TrimSpace(string([]rune(s)[:100]))
	}
	return s
}

// cutQuery keeps the first MaxQueryRunes characters: longer queries are cut, not refused.
func cutQuery(q string) string {
	if !utf8.ValidString(q) {
		q = strings.ToValidUTF8(q, " ")
	}
	if utf8.RuneCountInString(q) > MaxQueryRunes {
		q = string([]rune(q)[:MaxQueryRunes])
	}
	return q
}

// MaxQueryRunes is the longest query searched; the rest is ignored.
const MaxQueryRunes = 256
