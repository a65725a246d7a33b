package search

import (
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"helpportal"
	"helpportal/internal/store"
)

// docInfo is what the engine keeps in memory about each article: enough to show a hit,
// check visibility and filters for pins and suggestions, and break ranking ties, without
// going back to the store or the index's stored fields.
type docInfo struct {
	id         int64
	slug       string
	title      string
	catID      int64
	catPath    []int64
	catSlug    string
	catName    string
	typ        helpportal.ArticleType
	tags       []string
	acl        string
	updated    time.Time
	views      int64
	helpful    int64
	notHelpful int64
	words      []string // the title's lower-cased words, for suggestions
}

func (d *docInfo) visibleTo(acls []string) bool {
	return acls == nil || slices.Contains(acls, d.acl)
}

func (d *docInfo) inCategory(id int64) bool { return id == 0 || slices.Contains(d.catPath, id) }

// catalog holds a docInfo per article and a small inverted index of title words: the
// suggestion structure, and the surface vocabulary that "did you mean" proposes from.
type catalog struct {
	mu     sync.RWMutex
	docs   []*docInfo // by ordinal; nil where an article was removed
	ord    map[int64]uint32
	slugs  map[string]uint32 // for pinned articles
	free   []uint32
	titles map[string][]uint32 // title word → ordinals, ascending
	sorted []string            // the keys of titles, sorted, for prefix ranges
	dirty  bool                // sorted needs rebuilding
	// rank is every live ordinal, most viewed first; while it is out of date (its length
	// differs, or rankDirty), suggestions enumerate candidates instead.
	rank      []uint32
	rankDirty bool
}

func newCatalog() *catalog {
	return &catalog{ord: map[int64]uint32{}, slugs: map[string]uint32{}, titles: map[string][]uint32{}}
}

func infoOf(an *analyzer, d *store.SearchDoc) *docInfo {
	info := &docInfo{
		id: d.ID, slug: d.Slug, title: d.Title, catID: d.CategoryID, typ: d.Type, tags: d.Tags,
		acl: aclOf(d.Status, d.Visibility), updated: d.UpdatedAt, views: d.Views, helpful: d.Helpful, notHelpful: d.NotHelpful,
	}
	for _, c := range d.CategoryPath {
		info.catPath = append(info.catPath, c.ID)
	}
	if n := len(d.CategoryPath); n > 0 {
		info.catSlug, info.catName = d.CategoryPath[n-1].Slug, d.CategoryPath[n-1].Name
	}
	if len(info.catPath) == 0 {
		info.catPath = []int64{d.CategoryID}
	}
	seen := map[string]bool{}
	for _, w := range an.words(d.Title) {
		if !seen[w.text] {
			seen[w.text] = true
			info.words = append(info.words, w.text)
		}
	}
	return info
}

// put adds or replaces documents.
func (c *catalog) put(infos []*docInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, info := range infos {
		o, ok := c.ord[info.id]
		if ok {
			c.unlink(o)
		} else if n := len(c.free); n > 0 {
			o, c.free = c.free[n-1], c.free[:n-1]
		} else {
			o = uint32(len(c.docs))
			c.docs = append(c.docs, nil)
		}
		if old := c.docs[o]; old != nil && c.slugs[old.slug] == o {
			delete(c.slugs, old.slug)
		}
		c.docs[o] = info
		c.ord[info.id] = o
		c.slugs[info.slug] = o
		c.rankDirty = true
		for _, w := range info.words {
			list, ok := c.titles[w]
			if !ok {
				c.dirty = true
			}
			i, _ := slices.BinarySearch(list, o)
			c.titles[w] = slices.Insert(list, i, o)
		}
	}
	c.resort()
}

// remove drops documents by article ID.
func (c *catalog) remove(ids []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if o, ok := c.ord[id]; ok {
			c.unlink(o)
			if c.slugs[c.docs[o].slug] == o {
				delete(c.slugs, c.docs[o].slug)
			}
			c.docs[o] = nil
			delete(c.ord, id)
			c.free = append(c.free, o)
			c.rankDirty = true
			c.rank = c.rank[:0] // it holds a removed ordinal: unusable until refreshed
		}
	}
	c.resort()
}

// unlink removes ordinal o from the title postings; the caller holds the lock.
func (c *catalog) unlink(o uint32) {
	old := c.docs[o]
	if old == nil {
		return
	}
	for _, w := range old.words {
		list := c.titles[w]
		if i, ok := slices.BinarySearch(list, o); ok {
			list = slices.Delete(list, i, i+1)
		}
		if len(list) == 0 {
			delete(c.titles, w)
			c.dirty = true
		} else {
			c.titles[w] = list
		}
	}
}

func (c *catalog) resort() {
	if !c.dirty {
		return
	}
	c.sorted = c.sorted[:0]
	for w := range c.titles {
		c.sorted = append(c.sorted, w)
	}
	sort.Strings(c.sorted)
	c.dirty = false
}

// setStats refreshes the reader feedback of one article (views and votes are not content
// changes, so they arrive this way rather than through the change log).
func (c *catalog) setStats(stats []store.ArticleStat) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range stats {
		if o, ok := c.ord[s.ID]; ok && c.docs[o] != nil {
			d := *c.docs[o] // copy: readers may hold the old pointer
			d.views, d.helpful, d.notHelpful = s.Views, s.Helpful, s.NotHelpful
			c.docs[o] = &d
			c.rankDirty = true
		}
	}
}

func (c *catalog) get(id int64) *docInfo {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if o, ok := c.ord[id]; ok {
		return c.docs[o]
	}
	return nil
}

func (c *catalog) bySlug(slugs []string) []*docInfo {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*docInfo, 0, len(slugs))
	for _, s := range slugs {
		if o, ok := c.slugs[s]; ok && c.docs[o] != nil {
			out = append(out, c.docs[o])
		}
	}
	return out
}

func (c *catalog) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.ord)
}

// prefixRange returns the title words starting with p; the caller holds the read lock.
func (c *catalog) prefixRange(p string) []string {
	i := sort.SearchStrings(c.sorted, p)
	j := i
	for j < len(c.sorted) && strings.HasPrefix(c.sorted[j], p) {
		j++
	}
	return c.sorted[i:j]
}

// fuzzyWords returns title words within the typo budget of w (first letter kept unless
// anyFirst), nearest first; the caller holds the read lock.
func (c *catalog) fuzzyWords(w string, budget int, anyFirst bool) []string {
	if budget == 0 {
		return nil
	}
	type cand struct {
		w    string
		d, n int
	}
	var out []cand
	scan := c.sorted
	if !anyFirst {
		scan = c.prefixRange(firstRune(w))
	}
	n := len([]rune(w))
	for _, t := range scan {
		if l := len([]rune(t)); l < n-budget || l > n+budget || t == w {
			continue
		}
		if d := editDistance(w, t, budget); d <= budget {
			out = append(out, cand{t, d, len(c.titles[t])})
		}
	}
	slices.SortFunc(out, func(a, b cand) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return b.n - a.n
	})
	words := make([]string, 0, len(out))
	for _, x := range out {
		words = append(words, x.w)
	}
	return words
}

// Suggestion is one as-you-type result: an article title.
type Suggestion struct {
	Slug     string `json:"slug"`
	Title    string `json:"title"`
	Category string `json:"category"`
	URL      string `json:"url"`
}

// suggest finds titles holding every word of words (the last one as a prefix), visible to
// acls; when that finds nothing, words may carry a typo. Best first: more exact words, the
// first word at the title's start, then popularity and shorter titles.
func (c *catalog) suggest(words []string, prefix bool, acls []string, limit int) []*docInfo {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(words) == 0 || limit <= 0 {
		return nil
	}
	if res := c.suggestPass(words, prefix, false, acls, limit); len(res) > 0 || !anyTypoBudget(words) {
		return res
	}
	return c.suggestPass(words, prefix, true, acls, limit)
}

func anyTypoBudget(words []string) bool {
	for _, w := range words {
		if typoBudget(w) > 0 {
			return true
		}
	}
	return false
}

// wordMatch is how one typed word may match a title word: exactly (or as a prefix, for the
// word being typed), or as one of a few typo corrections.
type wordMatch struct {
	word   string
	prefix bool
	typos  []string
}

// match returns 2 for an exact (or prefix) match, 1 for a typo match, 0 for none.
func (m *wordMatch) match(tw string) int {
	if tw == m.word || m.prefix && strings.HasPrefix(tw, m.word) {
		return 2
	}
	if slices.Contains(m.typos, tw) {
		return 1
	}
	return 0
}

// enumerateBelow: when fewer titles than this hold every word, every candidate is scored;
// above, titles are visited most popular first and the visit stops early.
const (
	enumerateBelow = 4000
	maxSuggestScan = 2000
)

func (c *catalog) suggestPass(words []string, prefix, typos bool, acls []string, limit int) []*docInfo {
	ms := make([]wordMatch, len(words))
	for i, w := range words {
		ms[i] = wordMatch{word: w, prefix: prefix && i == len(words)-1}
		n := 0
		if ms[i].prefix {
			for _, t := range c.prefixRange(w) {
				n += len(c.titles[t])
			}
		} else {
			n = len(c.titles[w])
		}
		if typos {
			ms[i].typos = c.fuzzyWords(w, typoBudget(w), false)
			for _, t := range ms[i].typos {
				n += len(c.titles[t])
			}
		}
		if n == 0 {
			return nil
		}
	}
	type scored struct {
		d     *docInfo
		exact int
		lead  bool
	}
	// score checks every word against the title's own words (titles are short).
	score := func(d *docInfo) (scored, bool) {
		s := scored{d: d}
		for i := range ms {
			hit := 0
			for _, tw := range d.words {
				if h := ms[i].match(tw); h > hit {
					hit = h
					if h == 2 {
						break
					}
				}
			}
			if hit == 0 {
				return s, false
			}
			if hit == 2 {
				s.exact++
			}
		}
		s.lead = len(d.words) > 0 && ms[0].match(d.words[0]) == 2
		return s, true
	}
	better := func(a, b scored) int {
		switch {
		case a.exact != b.exact:
			return b.exact - a.exact
		case a.lead != b.lead:
			if a.lead {
				return -1
			}
			return 1
		case a.d.views != b.d.views:
			if a.d.views > b.d.views {
				return -1
			}
			return 1
		case len(a.d.title) != len(b.d.title):
			return len(a.d.title) - len(b.d.title)
		}
		return strings.Compare(a.d.slug, b.d.slug)
	}
	// Which titles hold every word: a bitset per word (the union of its title words'
	// lists), intersected. Words are checked exactly afterwards, per candidate.
	words64 := (len(c.docs) + 63) / 64
	var all []uint64
	for i := range ms {
		mine := getBits(words64)
		defer putBits(mine)
		set := func(list []uint32) {
			for _, o := range list {
				mine[o/64] |= 1 << (o % 64)
			}
		}
		if ms[i].prefix {
			for _, t := range c.prefixRange(ms[i].word) {
				set(c.titles[t])
			}
		} else {
			set(c.titles[ms[i].word])
		}
		for _, t := range ms[i].typos {
			set(c.titles[t])
		}
		if all == nil {
			all = mine
			continue
		}
		for j := range all {
			all[j] &= mine[j]
		}
	}
	count := 0
	for _, w := range all {
		count += bits.OnesCount64(w)
	}
	var cands []scored
	consider := func(o uint32) bool {
		d := c.docs[o]
		if d == nil || !d.visibleTo(acls) {
			return false
		}
		sc, ok := score(d)
		if ok {
			cands = append(cands, sc)
		}
		return ok && sc.exact == len(ms) && sc.lead
	}
	if count < enumerateBelow || len(c.rank) != len(c.ord) {
		for j, w := range all {
			for w != 0 {
				b := bits.TrailingZeros64(w)
				consider(uint32(j*64 + b))
				w &= w - 1
			}
		}
	} else {
		// Many titles match: visit them most popular first. Within the best possible tier
		// (every word exact, the first at the start) later titles are less popular, so once
		// that tier holds limit titles nothing better can come; and after maxSuggestScan
		// candidates the most popular ones are what is shown.
		top, seen := 0, 0
		for _, o := range c.rank {
			if all[o/64]&(1<<(o%64)) == 0 {
				continue
			}
			if consider(o) {
				top++
			}
			if seen++; top >= limit || seen >= maxSuggestScan {
				break
			}
		}
	}
	slices.SortFunc(cands, better)
	out := make([]*docInfo, 0, min(limit, len(cands)))
	for _, s := range cands[:min(limit, len(cands))] {
		out = append(out, s.d)
	}
	return out
}

// bitsPool recycles the per-word bitsets of suggestions (12.5 KB each at 100,000 titles):
// typing makes many suggestion requests, and garbage is what made their slowest ones slow.
var bitsPool sync.Pool

func getBits(n int) []uint64 {
	if p, ok := bitsPool.Get().(*[]uint64); ok && cap(*p) >= n {
		b := (*p)[:n]
		clear(b)
		return b
	}
	return make([]uint64, n)
}

func putBits(b []uint64) { bitsPool.Put(&b) }

// refreshRank orders the titles most viewed first (then shortest), for suggestions over
// many matches. It runs once per batch of changes rather than per article.
func (c *catalog) refreshRank() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.rankDirty {
		return
	}
	c.rank = c.rank[:0]
	for _, o := range c.ord {
		c.rank = append(c.rank, o)
	}
	slices.SortFunc(c.rank, func(a, b uint32) int {
		da, db := c.docs[a], c.docs[b]
		switch {
		case da.views != db.views:
			if da.views > db.views {
				return -1
			}
			return 1
		case len(da.title) != len(db.title):
			return len(da.title) - len(db.title)
		}
		return int(a) - int(b)
	})
	c.rankDirty = false
}
