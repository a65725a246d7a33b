// Package search is the portal's full-text search: a Bleve index derived from the store
// and kept up to date by following the store's change log, plus an in-memory catalogue of
// titles for as-you-type suggestions. Queries are parsed by hand (words, "phrases", -words,
// synonyms) so that no input can fail, typos are corrected against the index's own term
// dictionaries, and every result is filtered by who is asking inside the engine.
package search

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"helpportal"
	"helpportal/internal/store"
)

// Source is what the engine needs of the store; *store.DB provides it.
type Source interface {
	ChangeSeq() int64
	LatestChange(ctx context.Context) (int64, error)
	ChangesSince(ctx context.Context, after int64, limit int) ([]store.Change, error)
	SearchDocs(ctx context.Context, ids []int64, withHTML bool) ([]*store.SearchDoc, error)
	SearchDocPage(ctx context.Context, afterID int64, limit int, withHTML bool) ([]*store.SearchDoc, error)
	ArticleTexts(ctx context.Context, ids []int64) (map[int64]store.ArticleText, error)
	ArticleIDsUnderCategory(ctx context.Context, categoryID int64) ([]int64, error)
	ArticleStats(ctx context.Context, fn func(store.ArticleStat)) error
	SearchPins(ctx context.Context) (map[string][]string, error)
	SearchSynonyms(ctx context.Context) (string, error)
	AddSearchStats(ctx context.Context, stats []store.SearchStat) error
	SearchAnalytics(ctx context.Context, since time.Time, limit int, minSearches int64) (*store.SearchReport, error)
}

// Options configure an engine.
type Options struct {
	Dir      string // the index folder, DATA/index
	Language string // the site's language (BCP 47); it picks the analyzer
	Logger   *slog.Logger
	// PollInterval is how often the change log is read for writes by other processes
	// (this process's own writes are noticed at once); 0 means 500 ms.
	PollInterval time.Duration
	// CacheSize is how many recent results are kept; 0 means 2048, a negative number
	// turns the cache off.
	CacheSize int
}

// ErrNotReady is returned while the index is built for the first time; callers fall back
// to a simpler search meanwhile.
var ErrNotReady = helpportal.Errorf(helpportal.EUNAVAILABLE, "The search index is being built; please try again shortly.")

// Engine is the search engine. It is safe for concurrent use.
type Engine struct {
	src      Source
	opt      Options
	log      *slog.Logger
	analyzer string
	an       *analyzer

	mu      sync.RWMutex // guards gen: searches hold it shared, a swap exclusively
	gen     *generation
	refused string       // a generation swapped in for another language, not opened
	applied atomic.Int64 // the change number gen holds
	ready   atomic.Bool

	applyMu sync.Mutex // one writer of the index at a time
	loaded  bool       // the catalogue has been filled (under applyMu)

	cat   *catalog
	syn   atomic.Pointer[synonyms]
	pins  atomic.Pointer[map[string][]string]
	stats *recorder
	cache *resultCache // nil when off
	now   func() time.Time
	// ranking holds a slot for each search planning and ranking (see planAndRank).
	ranking chan struct{}
}

// Open opens the index under opt.Dir (or notes that it must be built) without reading the
// whole store: Run or Sync does the catching up.
func Open(ctx context.Context, src Source, opt Options) (*Engine, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = 500 * time.Millisecond
	}
	e := &Engine{src: src, opt: opt, log: opt.Logger, analyzer: AnalyzerFor(opt.Language), cat: newCatalog(),
		ranking: make(chan struct{}, runtime.GOMAXPROCS(0)),
		stats:   newRecorder(), now: time.Now}
	e.an = newAnalyzer(newMapping(e.analyzer), e.analyzer)
	switch {
	case opt.CacheSize == 0:
		e.cache = newResultCache(2048)
	case opt.CacheSize > 0:
		e.cache = newResultCache(opt.CacheSize)
	}
	if name := currentGeneration(opt.Dir); name != "" {
		g, err := openGeneration(opt.Dir, name, e.analyzer)
		switch {
		case errors.Is(err, errStale):
			e.log.Info("search: the index was built with other settings; rebuilding", "index", name)
		case err != nil:
			e.log.Warn("search: the index could not be opened; rebuilding", "index", name, "err", err)
		default:
			e.gen = g
			e.applied.Store(g.seq())
			removeStaleGenerations(opt.Dir, name) // left by an interrupted rebuild
		}
	}
	if err := e.loadSettings(ctx); err != nil {
		if e.gen != nil {
			_ = e.gen.idx.Close() // the settings error is the one worth reporting
		}
		return nil, err
	}
	return e, nil
}

// Close flushes analytics and closes the index.
func (e *Engine) Close() error {
	e.stats.flush(context.Background(), e.src, e.log)
	e.applyMu.Lock()
	defer e.applyMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ready.Store(false)
	if e.gen == nil {
		return nil
	}
	err := e.gen.idx.Close()
	e.gen = nil
	return err
}

func (e *Engine) loadSettings(ctx context.Context) error {
	list, err := e.src.SearchSynonyms(ctx)
	if helpportal.ErrorCode(err) == helpportal.ENOTFOUND {
		list, err = DefaultSynonyms, nil
	}
	if err != nil {
		return err
	}
	e.syn.Store(parseSynonyms(e.an, list))
	pins, err := e.src.SearchPins(ctx)
	if err != nil {
		return err
	}
	e.pins.Store(&pins)
	return nil
}

// Ready reports whether the index has been built and can answer.
func (e *Engine) Ready() bool { return e.ready.Load() }

// Applied is the last change number the index holds.
func (e *Engine) Applied() int64 { return e.applied.Load() }

// Request is one search.
type Request struct {
	Query      string
	Viewer     helpportal.Viewer
	CategoryID int64 // 0 for all; includes sub-categories
	Type       helpportal.ArticleType
	Tag        string
	Offset     int
	Limit      int  // 0 means 10; at most 100
	Facets     bool // count results per category and type
	Snippets   bool // build highlighted snippets (reads the hits' text from the store)
	NoCache    bool // search the index even if a cached result exists (for measurements)
}

// Hit is one result.
type Hit struct {
	ID           int64
	Slug         string
	Title        string
	CategoryID   int64
	CategorySlug string
	CategoryName string
	Type         helpportal.ArticleType
	UpdatedAt    time.Time
	Snippet      template.HTML // safe: matched words in <mark>, everything else escaped
	Score        float64
	Pinned       bool
}

// Result is what a search found.
type Result struct {
	Query      string // the query as searched: cut to MaxQueryRunes, spaces collapsed
	Total      int
	TotalExact bool // false when Total (and the facet counts) are estimates of a large count
	Hits       []Hit
	Categories map[int64]int // results per category, counting sub-categories' results too
	Types      map[helpportal.ArticleType]int
	DidYouMean string // for a query that found nothing: a nearby query that finds something
	Relaxed    bool   // not every word matched in some results
	Took       time.Duration
}

func (e *Engine) synonyms() *synonyms { return e.syn.Load() }

// pinned returns the pinned articles for the normalised query that v may see and that pass
// the filters.
func (e *Engine) pinned(q string, acls []string, r Request) []*docInfo {
	pins := *e.pins.Load()
	slugs := pins[q]
	if len(slugs) == 0 {
		return nil
	}
	var out []*docInfo
	for _, d := range e.cat.bySlug(slugs) {
		if d.visibleTo(acls) && d.inCategory(r.CategoryID) && (r.Type == "" || d.typ == r.Type) &&
			(r.Tag == "" || containsString(d.tags, r.Tag)) {
			out = append(out, d)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Suggest returns up to limit titles matching q as typed (the last word as a prefix) that v
// may see. It reads only the in-memory title index.
func (e *Engine) Suggest(ctx context.Context, v helpportal.Viewer, q string, limit int) ([]Suggestion, error) {
	if !e.ready.Load() {
		return nil, ErrNotReady
	}
	q = cutQuery(q)
	if limit <= 0 || limit > 20 {
		limit = 8
	}
	toks := e.an.words(q)
	if len(toks) == 0 {
		return []Suggestion{}, nil
	}
	words := make([]string, len(toks))
	for i, t := range toks {
		words[i] = t.text
	}
	prefix := toks[len(toks)-1].end == len(q)
	out := []Suggestion{}
	for _, d := range e.cat.suggest(words, prefix, aclsFor(v), limit) {
		out = append(out, Suggestion{Slug: d.slug, Title: d.title, Category: d.catName, URL: "/articles/" + d.slug})
	}
	return out, nil
}

// RecordSearch counts a search of q that found total results (no personal data: only the
// normalised query and counts, aggregated per day).
func (e *Engine) RecordSearch(q string, total int, took time.Duration) {
	e.stats.search(e.now(), NormalizeQuery(q), total, took)
}

// RecordClick counts a click on the result at 1-based position pos of a search for q.
func (e *Engine) RecordClick(q string, pos int) {
	if pos < 1 || pos > 1000 {
		return
	}
	e.stats.click(e.now(), NormalizeQuery(q), pos)
}

// Report is the search analytics summary.
type Report = store.SearchReport

// Analytics summarises the searches of the last days (pending counts are flushed first).
func (e *Engine) Analytics(ctx context.Context, days, limit int) (*Report, error) {
	e.stats.flush(ctx, e.src, e.log)
	since := e.now().AddDate(0, 0, -max(days-1, 0))
	return e.src.SearchAnalytics(ctx, since, limit, 5)
}

// Stats describes the index, for reports and benchmarks.
type Stats struct {
	Documents int
	Applied   int64
	DiskBytes int64
	Index     string
}

// Stats reports the index's size.
func (e *Engine) Stats() Stats {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s := Stats{Documents: e.cat.len(), Applied: e.applied.Load()}
	if e.gen != nil {
		s.Index = e.gen.name
		s.DiskBytes = diskSize(e.opt.Dir + "/" + e.gen.name)
	}
	return s
}

func cleanDisplay(q string) string { return strings.Join(strings.Fields(cutQuery(q)), " ") }
