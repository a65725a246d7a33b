package search

import (
	"context"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// Relative weights of the ways a query word can match. An exact word always outranks the
// same word reached through a synonym, a completion or a typo correction.
const (
	boostExact      = 1.0
	boostSynonym    = 0.8
	boostSynPhrase1 = 0.5 // a synonym phrase that analyzes to one word ("log in" → log)
	boostPrefix     = 0.7
	boostTypo1      = 0.5
	boostTypo2      = 0.33
	boostProximity  = 2.0 // the plain words, in order, in the title
)

// maxTypoCandidates bounds the corrections tried per word: each one is another posting
// list to merge, and the notes measured that fuzzy expansion is what makes search slow.
const maxTypoCandidates = 3

// maxPrefixTerms bounds the completions of the last word, most frequent first.
const maxPrefixTerms = 8

// alt is one index term (or analyzed phrase) a query item may match.
type alt struct {
	term   string // an index term, or
	phrase string // text analyzed as a phrase
	boost  float64
	typo   bool // a correction: left out of the exact tier
}

// slot is what one query item became: alternatives, any of which satisfies it.
type slot struct {
	item item
	alts []alt
	// known is false when no alternative occurs in the index: a strict query cannot match.
	known bool
	// exactKnown: an alternative other than a typo correction occurs in the index.
	exactKnown bool
	// df bounds how many documents the slot matches: the sum of its alternatives' document
	// frequencies (a phrase's is that of its rarest word).
	df int
}

// plan is a query ready to run: slots every strict result matches, exclusions, the plain
// words in order (for the proximity bonus) and the terms to highlight.
type plan struct {
	slots    []slot
	exclude  []slot
	ordered  string
	terms    []string // every matched term, for highlighting
	unknown  []string // typed words found nowhere, for "did you mean"
	stopOnly bool     // the query had words, but only stop words
}

// planner reads the index's term dictionaries to decide what each word may match.
type planner struct {
	ctx context.Context
	an  *analyzer
	syn *synonyms
	r   index.IndexReader
	dfs map[string]int
}

// df is the number of documents holding term anywhere.
func (p *planner) df(term string) int {
	if n, ok := p.dfs[term]; ok {
		return n
	}
	n := 0
	if tfr, err := p.r.TermFieldReader(p.ctx, []byte(term), fText, false, false, false); err == nil {
		n = int(tfr.Count())
		_ = tfr.Close() // read only
	}
	p.dfs[term] = n
	return n
}

func (p *planner) build(pq parsed) *plan {
	pl := &plan{}
	var ordered []string
	hadWords := false
	for _, it := range pq.items {
		s := slot{item: it}
		switch it.kind {
		case itemPhrase:
			hadWords = true
			terms := p.an.terms(it.text)
			if len(terms) == 0 {
				continue
			}
			s.alts = []alt{{phrase: it.text, boost: boostExact}}
			s.known = true
			s.df = p.phraseDF(terms)
			for _, t := range terms {
				s.known = s.known && p.df(t) > 0
			}
			s.exactKnown = s.known
			pl.terms = append(pl.terms, terms...)
		case itemSynonym:
			hadWords = true
			s.alts = p.synonymAlts(it)
			if len(s.alts) == 0 {
				continue
			}
			for _, a := range s.alts {
				if a.term != "" {
					s.known = s.known || p.df(a.term) > 0
					s.df += p.df(a.term)
					pl.terms = append(pl.terms, a.term)
				} else {
					ts := p.an.terms(a.phrase)
					pl.terms = append(pl.terms, ts...)
					s.known = s.known || (len(ts) > 0 && p.df(ts[0]) > 0)
					s.df += p.phraseDF(ts)
				}
			}
			s.exactKnown = s.known
			ordered = append(ordered, it.text)
		default:
			hadWords = true
			t := p.an.term(it.text)
			if t == "" {
				continue // a stop word: not in the index at all
			}
			if it.exclude {
				s.alts = []alt{{term: t, boost: boostExact}}
				break
			}
			s.alts = p.wordAlts(it, t)
			for _, a := range s.alts {
				pl.terms = append(pl.terms, a.term)
				s.df += p.df(a.term)
				known := p.df(a.term) > 0
				s.known = s.known || known
				s.exactKnown = s.exactKnown || known && !a.typo
			}
			if !s.known {
				pl.unknown = append(pl.unknown, it.text)
			}
			ordered = append(ordered, it.text)
		}
		if it.exclude {
			pl.exclude = append(pl.exclude, s)
		} else {
			pl.slots = append(pl.slots, s)
		}
	}
	if len(ordered) > 1 {
		pl.ordered = strings.Join(ordered, " ")
	}
	pl.stopOnly = hadWords && len(pl.slots) == 0 && len(pl.exclude) == 0
	return pl
}

// phraseDF bounds the documents holding a phrase of terms: those holding its rarest term.
func (p *planner) phraseDF(terms []string) int {
	n := 0
	for i, t := range terms {
		if df := p.df(t); i == 0 || df < n {
			n = df
		}
	}
	return n
}

func (p *planner) synonymAlts(it item) []alt {
	var out []alt
	seen := map[string]bool{}
	add := func(a alt) {
		key := a.term + "\x00" + a.phrase
		if !seen[key] {
			seen[key] = true
			out = append(out, a)
		}
	}
	// What was typed comes first, at full weight.
	if ts := p.an.terms(it.text); len(ts) == 1 {
		add(alt{term: ts[0], boost: boostExact})
	} else if len(ts) > 1 {
		add(alt{phrase: it.text, boost: boostExact})
	}
	for _, e := range p.syn.groups[it.group] {
		ws := p.an.words(e)
		ts := p.an.terms(e)
		switch {
		case len(ts) == 0:
		case len(ws) == 1:
			add(alt{term: ts[0], boost: boostSynonym})
		case len(ts) == 1:
			add(alt{term: ts[0], boost: boostSynPhrase1})
		default:
			add(alt{phrase: e, boost: boostSynonym})
		}
	}
	return out
}

// wordAlts is what a plain word may match: itself; completions when it is the last word
// being typed; corrections when it is unknown or very rare and long enough for a typo.
func (p *planner) wordAlts(it item, t string) []alt {
	alts := []alt{{term: t, boost: boostExact}}
	df := p.df(t)
	if it.prefix {
		alts = append(alts, p.completions(it.text, t)...)
	}
	if budget := typoBudget(it.text); budget > 0 && df < rareDF && len(alts) == 1 {
		for _, c := range p.corrections(it.text, t, budget) {
			b := boostTypo1
			if c.dist > 1 {
				b = boostTypo2
			}
			alts = append(alts, alt{term: c.term, boost: b, typo: true})
		}
	}
	return alts
}

// rareDF: a word in fewer documents than this is probably a typo of a commoner one, so its
// corrections are searched too (still below the exact word).
const rareDF = 2

type candidate struct {
	term string
	dist int
	df   int
}

// corrections finds index terms within the typo budget of word, first letter kept. The
// dictionaries hold stems, so the word's own stem is probed too, and, when neither finds
// anything, shorter prefixes of the word (a typo in a suffix the stemmer would cut).
func (p *planner) corrections(word, term string, budget int) []candidate {
	fz, ok := p.r.(index.IndexReaderFuzzy)
	if !ok {
		return nil
	}
	first := firstRune(word)
	found := map[string]int{}
	probe := func(s string) {
		if s == "" || !strings.HasPrefix(s, first) {
			return
		}
		d, err := fz.FieldDictFuzzy(fText, s, budget, first)
		if err != nil {
			return
		}
		defer func() { _ = d.Close() }()
		for e, err := d.Next(); err == nil && e != nil; e, err = d.Next() {
			if e.Term == term {
				continue
			}
			dist := editDistance(s, e.Term, budget)
			if old, ok := found[e.Term]; dist <= budget && (!ok || dist < old) {
				found[e.Term] = dist
			}
		}
	}
	probe(word)
	if term != word {
		probe(term)
	}
	if len(found) == 0 {
		// The typo may be where the stemmer works (hsoting → hsote, far from host): try the
		// word's one-edit variants, stemmed, against the dictionary.
		for t := range p.surfaceEdits(word, first) {
			if t != term {
				found[t] = 1
			}
		}
	}
	if len(found) == 0 {
		r := []rune(word)
		for n := len(r) - 1; n >= max(5, len(r)-3); n-- {
			probe(string(r[:n]))
		}
	}
	cands := make([]candidate, 0, len(found))
	for t, d := range found {
		if df := p.df(t); df > 0 {
			cands = append(cands, candidate{t, d, df})
		}
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if a.dist != b.dist {
			return a.dist - b.dist
		}
		if a.df != b.df {
			return b.df - a.df
		}
		return strings.Compare(a.term, b.term)
	})
	return cands[:min(len(cands), maxTypoCandidates)]
}

// surfaceEdits returns the index terms of the one-edit variants of word (a letter dropped,
// swapped with the next, replaced or added; the first letter kept) that occur in the index.
// It costs a few hundred stemmings and dictionary look-ups, so it only runs for words the
// direct probes could not correct.
func (p *planner) surfaceEdits(word, first string) map[string]bool {
	out := map[string]bool{}
	ctr, ok := p.r.(index.IndexReaderContains)
	if !ok {
		return out
	}
	dict, err := ctr.FieldDictContains(fText)
	if err != nil {
		return out
	}
	r := []rune(word)
	if len(r) > 20 {
		return out
	}
	letters := []rune("abcdefghijklmnopqrstuvwxyz")
	for _, c := range r {
		if c > 127 && !slices.Contains(letters, c) {
			letters = append(letters, c)
		}
	}
	seen := map[string]bool{}
	try := func(v []rune) {
		s := string(v)
		if seen[s] || !strings.HasPrefix(s, first) {
			return
		}
		seen[s] = true
		t := p.an.term(s)
		if t == "" || out[t] {
			return
		}
		if ok, err := dict.Contains([]byte(t)); err == nil && ok {
			out[t] = true
		}
	}
	for i := 1; i < len(r); i++ {
		try(slices.Concat(r[:i], r[i+1:])) // dropped
		if i+1 < len(r) {
			v := slices.Clone(r)
			v[i], v[i+1] = v[i+1], v[i]
			try(v) // swapped
		}
	}
	for i := 1; i <= len(r); i++ {
		for _, c := range letters {
			if i < len(r) && c != r[i] {
				v := slices.Clone(r)
				v[i] = c
				try(v) // replaced
			}
			try(slices.Concat(r[:i], []rune{c}, r[i:])) // added
		}
	}
	return out
}

// completions are the most frequent index terms starting with the word being typed. As the
// dictionaries hold stems, a stem the word already runs past ("configura" → configur) counts.
func (p *planner) completions(word, term string) []alt {
	if len([]rune(word)) < 2 {
		return nil
	}
	counts := map[string]int{}
	if d, err := p.r.FieldDictPrefix(fText, []byte(word)); err == nil {
		n := 0
		for e, err := d.Next(); err == nil && e != nil && n < 5000; e, err = d.Next() {
			n++
			if e.Term != term {
				counts[e.Term] = int(e.Count)
			}
		}
		_ = d.Close()
	}
	r := []rune(word)
	for n := len(r) - 1; n >= max(4, len(r)-3) && p.df(term) == 0; n-- {
		if s := string(r[:n]); s != term {
			if df := p.df(s); df > 0 {
				counts[s] = max(counts[s], df)
			}
		}
	}
	cands := make([]candidate, 0, len(counts))
	for t, n := range counts {
		cands = append(cands, candidate{term: t, df: n})
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if a.df != b.df {
			return b.df - a.df
		}
		return strings.Compare(a.term, b.term)
	})
	var out []alt
	for _, c := range cands[:min(len(cands), maxPrefixTerms)] {
		out = append(out, alt{term: c.term, boost: boostPrefix})
	}
	return out
}

// knownSlots counts the slots some alternative of which occurs in the index.
func (pl *plan) knownSlots() int {
	n := 0
	for _, s := range pl.slots {
		if s.known {
			n++
		}
	}
	return n
}

// tierSlots lists the slots that tier t requires (vRelaxed: any one of them): every slot,
// those the index knows (vKnown), or the first t.first of those (vFirst).
func (pl *plan) tierSlots(t tier) []slot {
	var out []slot
	for _, s := range pl.slots {
		if (t.v == vKnown || t.v == vFirst) && !s.known || t.v == vFirst && len(out) == t.first {
			continue
		}
		out = append(out, s)
	}
	return out
}

// bound is an upper bound on how many documents tier t matches (before filters): a
// conjunction matches at most what its rarest slot does, a disjunction at most the sum.
func (pl *plan) bound(t tier) int {
	n, sum := -1, 0
	for _, s := range pl.tierSlots(t) {
		sum += s.df
		if n < 0 || s.df < n {
			n = s.df
		}
	}
	if t.v == vRelaxed {
		return sum
	}
	return max(n, 0)
}

// variants reports which ways of matching are worth running: without corrections (every
// word has a known form as typed), and with them (some word has corrections).
func (pl *plan) variants() (exact, typos bool) {
	exact = true
	for _, s := range pl.slots {
		exact = exact && s.exactKnown
		for _, a := range s.alts {
			typos = typos || a.typo
		}
	}
	return exact, typos
}

// fStrong is not a field of the index: it stands for "the title or the meta field".
const fStrong = "title|meta"

// slotQuery matches any alternative of s in field; exact leaves out corrections.
func slotQuery(an *analyzer, s slot, exact bool, field string) query.Query {
	var dis []query.Query
	for _, a := range s.alts {
		if exact && a.typo {
			continue
		}
		if field == fStrong {
			dis = append(dis, altQuery(an, a, fTitle, a.boost))
			if a.term != "" { // meta keeps no positions
				dis = append(dis, altQuery(an, a, fMeta, a.boost))
			}
			continue
		}
		dis = append(dis, altQuery(an, a, field, a.boost))
	}
	if len(dis) == 1 {
		return dis[0]
	}
	d := query.NewDisjunctionQuery(dis)
	// Bleve multiplies a disjunction's score by the share of its clauses that matched;
	// scaling by the clause count keeps a word with synonyms or completions from weighing
	// less than a plain word in the sum over words.
	d.SetBoost(float64(len(dis)))
	return d
}

func altQuery(an *analyzer, a alt, field string, boost float64) query.Query {
	if a.term != "" {
		tq := query.NewTermQuery(a.term)
		tq.SetField(field)
		tq.SetBoost(boost)
		return tq
	}
	pq := query.NewMatchPhraseQuery(a.phrase)
	pq.SetField(field)
	pq.Analyzer = an.name
	pq.SetBoost(boost)
	return pq
}

// weightQuery adds score for the query's words found in the title and in the meta field.
// It never decides whether an article matches; the slots do.
func weightQuery(an *analyzer, pl *plan) query.Query {
	var dis []query.Query
	for _, s := range pl.slots {
		for _, a := range s.alts {
			dis = append(dis, altQuery(an, a, fTitle, a.boost*titleBoost))
			if a.term != "" { // meta has no positions, so phrases count in the title only
				dis = append(dis, altQuery(an, a, fMeta, a.boost*metaBoost))
			}
		}
	}
	if len(dis) == 0 {
		return nil
	}
	d := query.NewDisjunctionQuery(dis)
	// With this boost, the coordination factor leaves a bonus of (matched scores) × (share
	// of the words matched): every word in the title counts fully, one of three a third.
	d.SetBoost(float64(len(dis)) / float64(len(pl.slots)))
	return d
}

// filterQuery matches documents whose keyword field holds any of values. Its boost is 0:
// filters must not move the ranking.
func filterQuery(field string, values ...string) query.Query {
	var qs []query.Query
	for _, v := range values {
		tq := query.NewTermQuery(v)
		tq.SetField(field)
		tq.SetBoost(0)
		qs = append(qs, tq)
	}
	if len(qs) == 1 {
		return qs[0]
	}
	d := query.NewDisjunctionQuery(qs)
	d.SetBoost(0)
	return d
}
