package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"

	"helpportal/internal/store"
)

const (
	changeBatch   = 1000 // changes read per step
	statsInterval = 5 * time.Minute
	flushInterval = 5 * time.Second
)

// changeFeed is what a Source offers when it can say at once that the change log grew: the
// store does, for its own writes and, on PostgreSQL, for every instance's (LISTEN/NOTIFY).
type changeFeed interface {
	Changes(ctx context.Context) <-chan struct{}
}

// Run keeps the index following the store until ctx ends: it builds the index if there is
// none, applies new changes as soon as the store signals them (see changeFeed) and in any
// case within PollInterval of their commit, picks up a rebuilt index swapped in by
// `helpportal reindex`, refreshes the reader-feedback tie-breakers and flushes search
// analytics. Errors are logged and retried.
func (e *Engine) Run(ctx context.Context) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var changed <-chan struct{} // nil: polling alone
	if f, ok := e.src.(changeFeed); ok {
		changed = f.Changes(ctx)
	}
	var lastPoll, lastStats, lastFlush, lastGenCheck time.Time
	woken := false
	for {
		now := time.Now()
		if woken || !e.ready.Load() || now.Sub(lastPoll) >= e.opt.PollInterval || e.src.ChangeSeq() > e.applied.Load() {
			woken, lastPoll = false, now
			if err := e.Sync(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("search: catching up with the store", "err", err)
			}
		}
		if now.Sub(lastGenCheck) >= time.Second {
			lastGenCheck = now
			if err := e.followSwap(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("search: switching to the rebuilt index", "err", err)
			}
		}
		if now.Sub(lastStats) >= statsInterval && e.ready.Load() {
			lastStats = now
			if err := e.refreshStats(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("search: refreshing article statistics", "err", err)
			}
		}
		if now.Sub(lastFlush) >= flushInterval {
			lastFlush = now
			e.stats.flush(ctx, e.src, e.log)
		}
		select {
		case <-ctx.Done():
			e.stats.flush(context.WithoutCancel(ctx), e.src, e.log)
			return
		case <-changed:
			woken = true
		case <-tick.C:
		}
	}
}

// Sync brings the index up to the store's newest change: building it first if there is
// none, then applying every change past the last applied one. It returns when caught up.
func (e *Engine) Sync(ctx context.Context) error {
	e.applyMu.Lock()
	defer e.applyMu.Unlock()
	if e.gen == nil {
		if err := e.build(ctx); err != nil {
			return err
		}
	}
	if !e.loaded {
		if err := e.loadCatalog(ctx); err != nil {
			return err
		}
	}
	if _, err := e.catchUp(ctx, e.gen, e.applied.Load(), true); err != nil {
		return err
	}
	e.cat.refreshRank()
	e.ready.Store(true)
	return nil
}

// catchUp applies the changes after seq to g and returns the new last change number. With
// live set, the catalogue and settings follow too (g is the serving generation).
func (e *Engine) catchUp(ctx context.Context, g *generation, seq int64, live bool) (int64, error) {
	for {
		changes, err := e.src.ChangesSince(ctx, seq, changeBatch)
		if err != nil || len(changes) == 0 {
			return seq, err
		}
		if err := e.applyChanges(ctx, g, changes, live); err != nil {
			return seq, err
		}
		seq = changes[len(changes)-1].Seq
		if live {
			e.applied.Store(seq)
		}
	}
}

func (e *Engine) applyChanges(ctx context.Context, g *generation, changes []store.Change, live bool) error {
	ids := map[int64]bool{}
	settings := false
	for _, c := range changes {
		switch c.Entity {
		case "article":
			ids[c.EntityID] = true
		case "category":
			// A renamed or moved category changes the category names its articles carry.
			under, err := e.src.ArticleIDsUnderCategory(ctx, c.EntityID)
			if err != nil {
				return err
			}
			for _, id := range under {
				ids[id] = true
			}
		case "search_pins", "search_settings":
			settings = true
		}
	}
	list := make([]int64, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	docs, err := e.src.SearchDocs(ctx, list, true)
	if err != nil {
		return err
	}
	found := map[int64]bool{}
	for _, d := range docs {
		found[d.ID] = true
	}
	var gone []int64
	for _, id := range list {
		if !found[id] {
			gone = append(gone, id)
		}
	}
	if err := g.apply(docs, gone, changes[len(changes)-1].Seq); err != nil {
		return err
	}
	if live {
		e.catalogPut(docs)
		e.cat.remove(gone)
		if settings {
			if err := e.loadSettings(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *Engine) catalogPut(docs []*store.SearchDoc) {
	infos := make([]*docInfo, len(docs))
	for i, d := range docs {
		infos[i] = infoOf(e.an, d)
	}
	e.cat.put(infos)
}

// loadCatalog fills the in-memory catalogue from the store (titles and facts, no bodies).
func (e *Engine) loadCatalog(ctx context.Context) error {
	var after int64
	for {
		docs, err := e.src.SearchDocPage(ctx, after, 2000, false)
		if err != nil {
			return err
		}
		if len(docs) == 0 {
			e.loaded = true
			return nil
		}
		e.catalogPut(docs)
		after = docs[len(docs)-1].ID
	}
}

// build makes a new generation from the whole store and makes it the live one. It is
// what the first start and `helpportal reindex` do; the server keeps answering from the
// old generation (if any) meanwhile.
func (e *Engine) build(ctx context.Context) error {
	start := time.Now()
	g, seq, err := buildGeneration(ctx, e.src, e.opt.Dir, e.analyzer, e.log, func(docs []*store.SearchDoc) {
		e.catalogPut(docs)
	})
	if err != nil {
		return err
	}
	e.loaded = true
	if err := setCurrentGeneration(e.opt.Dir, g.name, e.analyzer); err != nil {
		_ = g.idx.Close()
		return err
	}
	e.swap(g, seq)
	e.log.Info("search: index built", "articles", e.cat.len(), "took", time.Since(start).Round(time.Millisecond).String())
	removeStaleGenerations(e.opt.Dir, g.name)
	return nil
}

// buildGeneration builds a complete index from src in a new generation folder under dir
// and returns it open, merged into one segment, with the change number it holds. each, if
// set, sees every batch.
// Nothing points at the new generation yet: the caller swaps it in.
func buildGeneration(ctx context.Context, src Source, dir, analyzer string, log *slog.Logger, each func([]*store.SearchDoc)) (*generation, int64, error) {
	g, err := createGeneration(dir, analyzer)
	if err != nil {
		return nil, 0, err
	}
	fail := func(err error) (*generation, int64, error) {
		_ = g.idx.Close() // the build's own error is the one to report
		_ = os.RemoveAll(filepath.Join(dir, g.name))
		return nil, 0, err
	}
	// Read the change number first: every change after it is applied again afterwards, and
	// applying a change twice is harmless, so nothing written during the build is lost.
	seq, err := src.LatestChange(ctx)
	if err != nil {
		return fail(err)
	}
	if err := loadAll(ctx, src, g, each); err != nil {
		return fail(err)
	}
	if err := g.apply(nil, nil, seq); err != nil {
		return fail(err)
	}
	if seq, err = catchUpGeneration(ctx, src, g, seq); err != nil {
		return fail(err)
	}
	// One segment instead of the build's hundreds (loadAll held merges back): every query
	// term then reads one dictionary. Should it fail, the background merger, running again,
	// merges them in its own time.
	if err := forceMerge(ctx, g); err != nil {
		log.Warn("search: merging the new index", "index", g.name, "err", err)
	}
	return g, seq, nil
}

// catchUpGeneration applies the changes after seq to a generation that is not serving.
func catchUpGeneration(ctx context.Context, src Source, g *generation, seq int64) (int64, error) {
	e := &Engine{src: src}
	return e.catchUp(ctx, g, seq, false)
}

// swap makes g the serving generation and closes the previous one.
func (e *Engine) swap(g *generation, seq int64) {
	e.mu.Lock()
	old := e.gen
	e.gen = g
	e.applied.Store(seq)
	e.mu.Unlock()
	if old != nil {
		if err := old.idx.Close(); err != nil {
			e.log.Warn("search: closing the previous index", "err", err)
		}
		if old.name != g.name {
			if err := os.RemoveAll(filepath.Join(e.opt.Dir, old.name)); err != nil {
				e.log.Warn("search: removing the previous index", "err", err)
			}
		}
	}
}

// followSwap switches to the generation "current" names when another process (helpportal
// reindex) has built and swapped in a new one.
func (e *Engine) followSwap(ctx context.Context) error {
	name := currentGeneration(e.opt.Dir)
	e.mu.RLock()
	same := e.gen == nil || name == "" || e.gen.name == name || name == e.refused
	e.mu.RUnlock()
	if same {
		return nil
	}
	e.applyMu.Lock()
	defer e.applyMu.Unlock()
	g, err := openGeneration(e.opt.Dir, name, e.analyzer)
	if errors.Is(err, errStale) {
		e.refused = name // said once, not every second
		return fmt.Errorf("the index %s was built for another language than this server's (%s); keeping the current one", name, e.analyzer)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	seq, err := e.catchUp(ctx, g, g.seq(), false)
	if err != nil {
		_ = g.idx.Close() // retried on the next check
		return err
	}
	e.swap(g, seq) // the catalogue follows the store, not the index, so it stays as it is
	e.log.Info("search: switched to the rebuilt index", "index", name)
	return nil
}

// refreshStats reloads views and votes for the tie-breakers.
func (e *Engine) refreshStats(ctx context.Context) error {
	var batch []store.ArticleStat
	err := e.src.ArticleStats(ctx, func(s store.ArticleStat) { batch = append(batch, s) })
	if err != nil {
		return err
	}
	e.cat.setStats(batch)
	e.cat.refreshRank()
	return nil
}

// Rebuild builds a fresh index of src under dir beside the live one, then makes it the live
// one. It is `helpportal reindex`: a server running over the same folder notices the switch
// within a second, catches the new index up and drops the old one; without a server, the
// old generation is removed here. An empty language keeps the live index's analyzer.
func Rebuild(ctx context.Context, src Source, dir, language string, log *slog.Logger) error {
	start := time.Now()
	analyzer := AnalyzerFor(language)
	if live := LiveAnalyzer(dir); language == "" && live != "" {
		analyzer = live
	}
	g, seq, err := buildGeneration(ctx, src, dir, analyzer, log, nil)
	if err != nil {
		return err
	}
	name := g.name
	// Close before pointing at it: the index's lock would keep a server from opening it.
	if err := g.idx.Close(); err != nil {
		return err
	}
	if err := setCurrentGeneration(dir, name, analyzer); err != nil {
		return err
	}
	log.Info("search: index rebuilt", "index", name, "analyzer", analyzer, "change", seq, "took", time.Since(start).Round(time.Millisecond).String())
	removeStaleGenerations(dir, name)
	return nil
}

// buildMemoryLimit is the Go soft memory limit while a build loads the store (unless the
// limit is set higher, or GOMEMLIMIT is set). Two batches in flight hold about 200 MiB of
// analysed text; under a 256 MiB limit (serve's until 2026-11-27) the collector ran nearly
// all the time and the build went at 1,400 articles/s instead of 2,200 (docs/performance.md).
const buildMemoryLimit = 768 << 20

// raiseMemoryLimit raises the process's soft memory limit to at least n and returns what
// puts it back. An explicit GOMEMLIMIT is the operator's choice and is left alone.
func raiseMemoryLimit(n int64) func() {
	prev := debug.SetMemoryLimit(-1)
	if os.Getenv("GOMEMLIMIT") != "" || prev >= n {
		return func() {}
	}
	debug.SetMemoryLimit(n)
	return func() { debug.SetMemoryLimit(prev) }
}

// buildBatch is how many articles go in one index batch when building from scratch (a
// variable for the tests).
var buildBatch = 500

// buildWorkers is how many index batches are in flight during a build. Bleve analyses a
// batch on every core but builds its segment on one: with two batches, one is analysed
// while the other's segment is built.
const buildWorkers = 2

// loadAll indexes every article of src into g, which is not serving yet. One goroutine reads
// the store and prepares batches; buildWorkers apply them. Background merges wait until the
// end: buildGeneration force-merges the segments in one pass, so merging them on the way
// would be work done twice.
func loadAll(ctx context.Context, src Source, g *generation, each func([]*store.SearchDoc)) error {
	resume := pauseMerges(g)
	defer resume()
	defer raiseMemoryLimit(buildMemoryLimit)()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan *bleve.Batch)
	var wg sync.WaitGroup
	for range buildWorkers {
		wg.Go(func() {
			for b := range batches {
				if err := g.idx.Batch(b); err != nil {
					cancel(err)
				}
			}
		})
	}
	var after int64
	read := func() error {
		defer close(batches)
		for {
			docs, err := src.SearchDocPage(ctx, after, buildBatch, true)
			if err != nil {
				return err
			}
			if len(docs) == 0 {
				return nil
			}
			b, err := g.batch(docs, nil, 0)
			if err != nil {
				return err
			}
			select {
			case batches <- b:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			if each != nil {
				each(docs)
			}
			after = docs[len(docs)-1].ID
		}
	}
	err := read()
	wg.Wait()
	if err != nil {
		return err
	}
	return context.Cause(ctx)
}
