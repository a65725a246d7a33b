package search

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"helpportal"
)

const (
	// relaxBelow: when fewer results hold every word, results holding only some are added
	// after them (Meilisearch's "words" rule, in one step).
	relaxBelow = 10
	// rerankWindow is how many top results the tie-breakers may reorder.
	rerankWindow = 50
	maxLimit     = 100
	maxOffset    = 10000
)

// Search runs r. Any query text is accepted: what does not parse as syntax is searched as
// words. Results are only those r.Viewer may read, and so are the counts.
func (e *Engine) Search(ctx context.Context, r Request) (*Result, error) {
	start := time.Now()
	if !e.ready.Load() {
		return nil, ErrNotReady
	}
	if r.Limit <= 0 {
		r.Limit = 10
	}
	r.Limit = min(r.Limit, maxLimit)
	r.Offset = min(max(r.Offset, 0), maxOffset)
	res := &Result{Query: cleanDisplay(r.Query), Categories: map[int64]int{}, Types: map[helpportal.ArticleType]int{}}

	e.mu.RLock()
	defer e.mu.RUnlock()
	gen := e.gen
	if gen == nil {
		return nil, ErrNotReady
	}
	acls := aclsFor(r.Viewer)
	// Pins live outside the index, so a pin change (logged like content) also moves the
	// change number that keys the cache.
	epoch, key := gen.name+"@"+strconv.FormatInt(e.applied.Load(), 10), cacheKey(r, acls)
	if cached := e.cache.get(epoch, key); cached != nil && !r.NoCache {
		cached.Took = time.Since(start)
		return cached, nil
	}
	var filters []query.Query
	if acls != nil {
		filters = append(filters, filterQuery(fACL, acls...))
	}
	if r.CategoryID != 0 {
		filters = append(filters, filterQuery(fCat, strconv.FormatInt(r.CategoryID, 10)))
	}
	if r.Type != "" {
		filters = append(filters, filterQuery(fType, string(r.Type)))
	}
	if r.Tag != "" {
		filters = append(filters, filterQuery(fTag, r.Tag))
	}
	pins := e.pinned(NormalizeQuery(r.Query), acls, r)
	pl, ranked, err := e.planAndRank(ctx, gen, r, filters, res, len(pins))
	if err != nil {
		return nil, err
	}
	// Pinned articles come first, in the order staff chose.
	if len(pins) > 0 {
		inResults := map[int64]bool{}
		for _, h := range ranked {
			inResults[h.id] = true
		}
		pinned := make([]rankedHit, 0, len(pins)+len(ranked))
		isPin := map[int64]bool{}
		for _, d := range pins {
			pinned = append(pinned, rankedHit{id: d.id, pinned: true})
			isPin[d.id] = true
			if !inResults[d.id] {
				res.Total++
			}
		}
		for _, h := range ranked {
			if !isPin[h.id] {
				pinned = append(pinned, h)
			}
		}
		ranked = pinned
	}
	page := ranked[min(r.Offset, len(ranked)):min(r.Offset+r.Limit, len(ranked))]
	for _, h := range page {
		d := e.cat.get(h.id)
		if d == nil {
			continue // removed since the index answered
		}
		res.Hits = append(res.Hits, Hit{ID: d.id, Slug: d.slug, Title: d.title, CategoryID: d.catID, CategorySlug: d.catSlug,
			CategoryName: d.catName, Type: d.typ, UpdatedAt: d.updated, Score: h.score, Pinned: h.pinned})
	}
	if r.Snippets && len(res.Hits) > 0 {
		if err := e.snippets(ctx, res.Hits, pl.terms); err != nil {
			return nil, err
		}
	}
	if res.Total == 0 && len(pl.slots) > 0 {
		res.DidYouMean = e.didYouMean(ctx, gen, r, filters)
	}
	e.cache.put(epoch, key, res)
	res.Took = time.Since(start)
	return res, nil
}

// planAndRank plans r's query and ranks its results, at most GOMAXPROCS searches at a time;
// the others wait their turn (or until their request ends). Planning and ranking only use
// the CPU, so more at once only share the same cores, and cost more each: with 8 typo'd
// searches at a time on 2 cores, the median CPU per search was 2.6 ms without the slots and
// 2.25 ms with them (docs/performance.md). Snippets, which read the store, run outside.
func (e *Engine) planAndRank(ctx context.Context, gen *generation, r Request, filters []query.Query, res *Result, pins int) (*plan, []rankedHit, error) {
	select {
	case e.ranking <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	defer func() { <-e.ranking }()
	pl, err := e.plan(ctx, gen, r.Query)
	if err != nil || len(pl.slots) == 0 {
		return pl, nil, err
	}
	ranked, err := e.rank(ctx, gen, pl, filters, r, res, pins)
	return pl, ranked, err
}

func (e *Engine) plan(ctx context.Context, gen *generation, q string) (*plan, error) {
	adv, err := gen.idx.Advanced()
	if err != nil {
		return nil, err
	}
	reader, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	defer func() { _ = reader.Close() }() // read only
	p := &planner{ctx: ctx, an: e.an, syn: e.synonyms(), r: reader, dfs: map[string]int{}}
	return p.build(parseQuery(e.an, e.synonyms(), q)), nil
}

// variant is a way of matching the words: as typed (synonyms and completions included),
// with typo corrections, or only some of them.
type variant int

const (
	vExact   variant = iota
	vTypo            // with corrections
	vKnown           // every word that occurs in the index, leaving out those that do not
	vFirst           // the first n of the words the index knows (tier.first)
	vRelaxed         // any of the words
)

// tier is one pass of the ranking: a variant, and for vFirst how many words it keeps.
type tier struct {
	v     variant
	first int
}

// dropLastUpTo is the longest query (in words the index knows) relaxed by dropping words
// from the end before accepting any word. Help-centre queries are short, and their first
// words usually name the subject; a long natural-language question is better served by
// ranking every article holding any of its words by BM25.
const dropLastUpTo = 4

// matchQuery is what decides membership in tier t: the slots of its variant in field
// (strict: every slot; vKnown: those the index knows; vFirst: the first t.first of those;
// relaxed: at least one).
func (e *Engine) matchQuery(pl *plan, t tier, field string) []query.Query {
	var slots []query.Query
	for _, s := range pl.tierSlots(t) {
		slots = append(slots, slotQuery(e.an, s, t.v == vExact, field))
	}
	if t.v == vRelaxed {
		d := query.NewDisjunctionQuery(slots)
		d.SetMin(1)
		return []query.Query{d}
	}
	return slots
}

// rank returns the results in order, at least as many as the page needs where there are
// that many, and sets res.Total (exact, or estimated for large result sets) and the facets.
//
// Ranking follows Meilisearch's rules as tiers: results matching every word as typed come
// before those needing a typo correction, which come before those matching only some of
// the words (only searched when fewer than relaxBelow match them all); within each, results
// with the words in the title come first, then those with them in the title or the meta
// field (summary, headings, tags, category), then the rest by BM25 with the title, meta and
// proximity bonuses. Tiers run in order and stop once the page is full, so a common query
// costs a search over short title posting lists rather than over every body that holds
// the words; the total is counted separately (see count).
func (e *Engine) rank(ctx context.Context, gen *generation, pl *plan, filters []query.Query, r Request, res *Result, pins int) ([]rankedHit, error) {
	total, exact, facets, err := e.count(ctx, gen, pl, filters, tier{v: vTypo}, r.Facets)
	if err != nil {
		return nil, err
	}
	// Too few results holding every word: first leave out the words the index does not
	// know at all (a typo beyond correction, say), then accept any of the words. This is
	// Meilisearch's "words" rule, and dropping unknown words keeps the query a cheap
	// conjunction rather than a disjunction over common words.
	known, relax := false, false
	// How many documents each variant matches, for sampling its body tier.
	matches := map[variant]int{vExact: total, vTypo: total, vKnown: total, vRelaxed: total}
	if total < relaxBelow && len(pl.slots) > 1 {
		if n := pl.knownSlots(); n > 0 && n < len(pl.slots) {
			known = true
			if total, exact, facets, err = e.count(ctx, gen, pl, filters, tier{v: vKnown}, r.Facets); err != nil {
				return nil, err
			}
			matches[vKnown], matches[vRelaxed] = total, total
		}
		if relax = total < relaxBelow && pl.knownSlots() > 1; relax {
			if total, exact, facets, err = e.count(ctx, gen, pl, filters, tier{v: vRelaxed}, r.Facets); err != nil {
				return nil, err
			}
			matches[vRelaxed] = total
		}
	}
	res.Total, res.TotalExact = total, exact
	e.facets(res, facets)

	withExact, withTypos := pl.variants()
	var order []tier
	if withExact {
		order = append(order, tier{v: vExact})
	}
	if withTypos || !withExact {
		order = append(order, tier{v: vTypo})
	}
	if known {
		order = append(order, tier{v: vKnown})
	}
	if relax {
		// Meilisearch's "words" rule: drop words from the end, one at a time, before
		// accepting any word. Each step is a conjunction, far cheaper to rank than the
		// any-word disjunction over common words, which it usually makes unnecessary.
		if n := pl.knownSlots(); n <= dropLastUpTo {
			for first := n - 1; first >= 1; first-- {
				order = append(order, tier{v: vFirst, first: first})
			}
		}
		order = append(order, tier{v: vRelaxed})
	}
	need := r.Offset + r.Limit + pins
	window := max(need, rerankWindow)
	// Bleve scores every document a query matches. When the words are in tens of thousands
	// of bodies, the body tier first ranks a sample of about sampleTarget of them (a few of
	// the sampleShards slices), and only if the page is still not full, all of them. Each
	// variant is sampled by its own number of matches: a strict tier of five matches is not
	// sampled because the any-word tier after it matches thousands, and dropping the last
	// words of a query can leave one common word in a third of the articles.
	var ranked []rankedHit
	seen := map[string]bool{}
	for _, t := range order {
		fields := []string{fTitle, fStrong, fText}
		if t.v == vRelaxed || t.v == vFirst {
			// A title holding one of several words says little: only all words earn the
			// title tiers, and partial matches are ranked by BM25 alone.
			fields = fields[2:]
		}
		for _, field := range fields {
			parts := [][]query.Query{nil}
			if sample := pl.sample(t, matches); field == fText && sample > 0 {
				parts = [][]query.Query{{shardFilter(sample)}, nil}
			}
			for _, extra := range parts {
				if len(ranked) >= need || len(seen) >= total && exact {
					return ranked, nil
				}
				must := append(e.matchQuery(pl, t, field), extra...)
				sr, err := e.run(ctx, gen, e.wrap(pl, must, filters, field == fText), window)
				if err != nil {
					return nil, err
				}
				var fresh bsearch.DocumentMatchCollection
				for _, h := range sr.Hits {
					if !seen[h.ID] {
						seen[h.ID] = true
						fresh = append(fresh, h)
					}
				}
				ranked = append(ranked, e.rerank(fresh)...)
				if t.v >= vKnown && len(fresh) > 0 {
					res.Relaxed = true
				}
			}
		}
	}
	return ranked, nil
}

// sample is how many of the sampleShards slices the body tier of t ranks first (0: all at
// once), from how many documents each variant matches.
func (pl *plan) sample(t tier, matches map[variant]int) int {
	n := matches[t.v]
	if t.v == vFirst {
		// The bound of one word is close to its count; that of a conjunction is not.
		n = 0
		if t.first == 1 {
			n = pl.bound(t)
		}
	}
	if n > 2*sampleTarget {
		return max(1, sampleShards*sampleTarget/n)
	}
	return 0
}

// sampleTarget is about how many body matches a sampled body tier scores.
const sampleTarget = 1500

// shardFilter keeps the documents of the first n of the sampleShards slices.
func shardFilter(n int) query.Query {
	vals := make([]string, min(n, sampleShards))
	for i := range vals {
		vals[i] = strconv.Itoa(i)
	}
	return filterQuery(fShard, vals...)
}

// wrap adds the proximity bonus, the exclusions and the filters around the required
// clauses, and with weights the title and meta weights. The title tiers leave the weights
// out: their required clauses already score the words in the title (and meta), so the
// weights would mostly repeat that score, and they cost a walk of every weight term's
// posting list (a third of a title-tier search; relevance unchanged, run 13 of
// search-quality.md). Filters go in Bleve's unscored filter clause: a scored term searcher
// walks its whole posting list to keep its frequencies in step, which for "public" (nearly
// every article) cost more than the words themselves; an unscored one skips through the
// bitmap.
func (e *Engine) wrap(pl *plan, must, filters []query.Query, weights bool) query.Query {
	var should, not []query.Query
	if w := weightQuery(e.an, pl); w != nil && weights {
		should = append(should, w)
	}
	if pl.ordered != "" {
		pq := query.NewMatchPhraseQuery(pl.ordered)
		pq.SetField(fTitle)
		pq.Analyzer = e.an.name
		pq.SetBoost(boostProximity)
		should = append(should, pq)
	}
	for _, s := range pl.exclude {
		not = append(not, slotQuery(e.an, s, false, fText))
	}
	if len(should) == 0 && len(not) == 0 && len(filters) == 0 {
		if len(must) == 1 {
			return must[0]
		}
		return query.NewConjunctionQuery(must)
	}
	bq := query.NewBooleanQuery(must, should, not)
	switch len(filters) {
	case 0:
	case 1:
		bq.AddFilter(filters[0])
	default:
		bq.AddFilter(query.NewConjunctionQuery(filters))
	}
	return bq
}

func (e *Engine) run(ctx context.Context, gen *generation, q query.Query, size int) (*bleve.SearchResult, error) {
	return gen.idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(q, size, 0, false))
}

// Counting every match of a common query costs as much as ranking them all (Bleve visits
// each one), so large counts are estimated from one of sampleShards slices of the index,
// as Meilisearch and Algolia do; below exactBelow estimated matches, they are counted.
const (
	sampleShards = 16
	exactBelow   = 2000
)

// count returns how many documents tier t matches through the filters (less the
// exclusions) in the all-text field, the facet counts, and whether that is exact. When the
// words' document frequencies bound the matches below exactBelow, the sample could only say
// "count them all", so it is skipped.
func (e *Engine) count(ctx context.Context, gen *generation, pl *plan, filters []query.Query, t tier, facets bool) (int, bool, bsearch.FacetResults, error) {
	must := append(slices.Clone(filters), e.matchQuery(pl, t, fText)...)
	var not []query.Query
	for _, s := range pl.exclude {
		not = append(not, slotQuery(e.an, s, false, fText))
	}
	req := func(extra ...query.Query) *bleve.SearchRequest {
		q := query.NewBooleanQuery(append(slices.Clone(must), extra...), nil, not)
		r := bleve.NewSearchRequestOptions(q, 0, 0, false)
		r.Score = "none"
		if facets {
			r.AddFacet(fCat, bleve.NewFacetRequest(fCat, 500))
			r.AddFacet(fType, bleve.NewFacetRequest(fType, 10))
		}
		return r
	}
	if pl.bound(t) >= exactBelow {
		sample, err := gen.idx.SearchInContext(ctx, req(shardFilter(1)))
		if err != nil {
			return 0, false, nil, err
		}
		if est := int(sample.Total) * sampleShards; est >= exactBelow {
			for _, f := range sample.Facets {
				for _, t := range f.Terms.Terms() {
					t.Count *= sampleShards
				}
			}
			return roundEstimate(est), false, sample.Facets, nil
		}
	}
	full, err := gen.idx.SearchInContext(ctx, req())
	if err != nil {
		return 0, false, nil, err
	}
	return int(full.Total), true, full.Facets, nil
}

// roundEstimate keeps two significant digits: the rest would be noise.
func roundEstimate(n int) int {
	p := 1
	for n/p >= 100 {
		p *= 10
	}
	return (n + p/2) / p * p
}

func (e *Engine) facets(res *Result, facets bsearch.FacetResults) {
	clear(res.Categories)
	clear(res.Types)
	if f := facets[fCat]; f != nil {
		for _, t := range f.Terms.Terms() {
			if id, err := strconv.ParseInt(t.Term, 10, 64); err == nil {
				res.Categories[id] = t.Count
			}
		}
	}
	if f := facets[fType]; f != nil {
		for _, t := range f.Terms.Terms() {
			res.Types[helpportal.ArticleType(t.Term)] = t.Count
		}
	}
}

type rankedHit struct {
	id     int64
	score  float64
	pinned bool
}

// rerank applies the gentle tie-breakers (freshness, helpfulness, popularity: together at
// most about ±10 %) to the top hits of one tier, so they only reorder near-ties.
func (e *Engine) rerank(hits bsearch.DocumentMatchCollection) []rankedHit {
	now := e.now()
	out := make([]rankedHit, 0, len(hits))
	for i, h := range hits {
		id, err := strconv.ParseInt(h.ID, 10, 64)
		if err != nil {
			continue
		}
		score := h.Score
		if i < rerankWindow {
			if d := e.cat.get(id); d != nil {
				score *= tieBreak(d, now)
			}
		}
		out = append(out, rankedHit{id: id, score: score})
	}
	n := min(len(out), rerankWindow)
	slices.SortStableFunc(out[:n], func(a, b rankedHit) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	return out
}

func tieBreak(d *docInfo, now time.Time) float64 {
	ageDays := max(now.Sub(d.updated).Hours()/24, 0)
	fresh := 1 / (1 + ageDays/180)                                              // 1 when new, ½ after six months
	helpful := (float64(d.helpful)+1)/(float64(d.helpful+d.notHelpful)+2)*2 - 1 // -1 … 1, 0 without votes
	popular := math.Min(1, math.Log10(float64(d.views)+1)/6)                    // 0 … 1 at a million views
	return 1 + 0.04*fresh + 0.04*helpful + 0.02*popular
}

// snippets fills each hit's snippet from its summary or body, whichever shows more of the
// query's words.
func (e *Engine) snippets(ctx context.Context, hits []Hit, terms []string) error {
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	texts, err := e.src.ArticleTexts(ctx, ids)
	if err != nil {
		return err
	}
	m := newMarker(e.an, terms)
	for i := range hits {
		d, ok := texts[hits[i].ID]
		if !ok {
			continue
		}
		body := htmlText(d.HTML)
		if s, ok := m.snippet(body); ok {
			hits[i].Snippet = s
		} else if s, ok := m.snippet(d.Summary); ok {
			hits[i].Snippet = s
		} else if d.Summary != "" {
			hits[i].Snippet = plainSnippet(d.Summary, 220)
		} else {
			hits[i].Snippet = plainSnippet(body, 220)
		}
	}
	return nil
}

// didYouMean proposes the query with its unknown words replaced by the nearest known
// words (up to two edits, any letter), preferring title words because those read as real
// words rather than stems. It is only offered when it finds something the viewer may see.
func (e *Engine) didYouMean(ctx context.Context, gen *generation, r Request, filters []query.Query) string {
	q := cleanDisplay(r.Query)
	pq := parseQuery(e.an, nil, q)
	adv, err := gen.idx.Advanced()
	if err != nil {
		return ""
	}
	reader, err := adv.Reader()
	if err != nil {
		return ""
	}
	defer func() { _ = reader.Close() }() // read only
	p := &planner{ctx: ctx, an: e.an, syn: e.synonyms(), r: reader, dfs: map[string]int{}}
	replace := map[string]string{}
	for _, it := range pq.items {
		if it.kind != itemWord || it.exclude {
			continue
		}
		t := e.an.term(it.text)
		if t == "" || p.df(t) > 0 {
			continue
		}
		budget := min(2, max(1, len([]rune(it.text))/3))
		e.cat.mu.RLock()
		words := e.cat.fuzzyWords(it.text, budget, true)
		e.cat.mu.RUnlock()
		if len(words) > 0 {
			replace[it.text] = words[0]
			continue
		}
		if c := p.corrections(it.text, t, budget); len(c) > 0 && e.an.term(c[0].term) == c[0].term {
			replace[it.text] = c[0].term
		}
	}
	if len(replace) == 0 {
		return ""
	}
	fields := strings.Fields(strings.ToLower(q))
	for i, f := range fields {
		trimmed := strings.Trim(f, `"-`)
		if w, ok := replace[trimmed]; ok {
			fields[i] = strings.Replace(f, trimmed, w, 1)
		}
	}
	suggestion := strings.Join(fields, " ")
	if suggestion == strings.ToLower(q) {
		return ""
	}
	pl := p.build(parseQuery(e.an, e.synonyms(), suggestion))
	if len(pl.slots) == 0 {
		return ""
	}
	n, _, _, err := e.count(ctx, gen, pl, filters, tier{v: vRelaxed}, false)
	if err != nil || n == 0 {
		return ""
	}
	return suggestion
}
