package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"

	"helpportal"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
)

// A build reads the store page by page while two batches are indexed at a time; every
// article must arrive, and each page must be handed to the caller (the title catalogue).
func TestBuildInBatches(t *testing.T) {
	defer func(n int) { buildBatch = n }(buildBatch)
	buildBatch = 3
	db := storetest.MustOpen(t)
	ctx := context.Background()
	cat := &helpportal.Category{Slug: "c", Name: "C"}
	if err := db.SaveCategory(ctx, cat); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		a := &helpportal.Article{Slug: fmt.Sprintf("a-%d", i), Title: fmt.Sprintf("Article %d about quokkas", i),
			Type: helpportal.TypeHowTo, CategoryID: cat.ID, Body: "Quokkas are small.\n"}
		if err := db.SaveArticle(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	pages := 0
	g, _, err := buildGeneration(ctx, db, t.TempDir(), "en", slog.New(slog.DiscardHandler), func(docs []*store.SearchDoc) { pages++ })
	if err != nil {
		t.Fatal(err)
	}
	defer g.idx.Close()
	if got, err := g.idx.DocCount(); err != nil || got != n {
		t.Errorf("indexed %d articles (%v), want %d", got, err, n)
	}
	if pages != (n+buildBatch-1)/buildBatch {
		t.Errorf("the caller saw %d pages, want %d", pages, (n+buildBatch-1)/buildBatch)
	}
	if _, paused := mergesPaused.Load(scorchOf(t, g)); paused {
		t.Error("background merges are still held back after the build")
	}
	// Seven batches, merged into one segment before the build returns.
	if n := segments(scorchOf(t, g)); n != 1 {
		t.Errorf("the build left %d segments, want 1", n)
	}
}

// quokkaStore is a store of n articles; builds during the test read batch articles a page.
func quokkaStore(t *testing.T, n, batch int) *store.DB {
	t.Helper()
	old := buildBatch
	buildBatch = batch
	t.Cleanup(func() { buildBatch = old })
	db := storetest.MustOpen(t)
	ctx := context.Background()
	cat := &helpportal.Category{Slug: "c", Name: "C"}
	if err := db.SaveCategory(ctx, cat); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		a := &helpportal.Article{Slug: fmt.Sprintf("a-%d", i), Title: fmt.Sprintf("Article %d about quokkas", i),
			Type: helpportal.TypeHowTo, CategoryID: cat.ID, Body: "Quokkas are small.\n"}
		if err := db.SaveArticle(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// failingSource is the store, failing from its second page of articles on.
type failingSource struct {
	*store.DB
	pages int
}

func (s *failingSource) SearchDocPage(ctx context.Context, after int64, limit int, withHTML bool) ([]*store.SearchDoc, error) {
	if s.pages++; s.pages > 1 {
		return nil, errors.New("disk on fire")
	}
	return s.DB.SearchDocPage(ctx, after, limit, withHTML)
}

// A store error in the middle of a build is returned, and the half-built folder is removed.
func TestBuildStoreErrorMidway(t *testing.T) {
	db := quokkaStore(t, 3, 1)
	ctx := context.Background()
	dir := t.TempDir()
	if _, _, err := buildGeneration(ctx, &failingSource{DB: db}, dir, "en", slog.New(slog.DiscardHandler), nil); err == nil || err.Error() != "disk on fire" {
		t.Fatalf("build error = %v, want the store's", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "g-*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// While merges are held back the merger is told no (after a pause, so that it does not
// spin); afterwards it may merge again.
func TestPauseMerges(t *testing.T) {
	g, err := createGeneration(t.TempDir(), "en")
	if err != nil {
		t.Fatal(err)
	}
	defer g.idx.Close()
	check := scorch.RegistryEventCallbacks[eventCallbacks]
	ev := scorch.Event{Kind: scorch.EventKindPreMergeCheck, Scorch: scorchOf(t, g)}
	resume := pauseMerges(g)
	if check(ev) {
		t.Error("a merge was allowed while paused")
	}
	if !check(scorch.Event{Kind: scorch.EventKindMergerProgress, Scorch: ev.Scorch}) {
		t.Error("another event was refused")
	}
	resume()
	if !check(ev) {
		t.Error("merges are still refused after resuming")
	}
}

func TestRaiseMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOMEMLIMIT", "")
	debug.SetMemoryLimit(100 << 20)
	restore := raiseMemoryLimit(300 << 20)
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Errorf("raised to %d, want %d", got, 300<<20)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != 100<<20 {
		t.Errorf("restored to %d, want %d", got, 100<<20)
	}
	// A higher limit is kept, and so is one the operator set.
	debug.SetMemoryLimit(500 << 20)
	raiseMemoryLimit(300 << 20)()
	if got := debug.SetMemoryLimit(-1); got != 500<<20 {
		t.Errorf("a higher limit became %d", got)
	}
	t.Setenv("GOMEMLIMIT", "100MiB")
	debug.SetMemoryLimit(100 << 20)
	restore = raiseMemoryLimit(300 << 20)
	if got := debug.SetMemoryLimit(-1); got != 100<<20 {
		t.Errorf("GOMEMLIMIT was overridden: %d", got)
	}
	restore()
}

func scorchOf(t *testing.T, g *generation) *scorch.Scorch {
	t.Helper()
	adv, err := g.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	return adv.(*scorch.Scorch)
}

// The bound on a tier's matches comes from the words' document frequencies: the rarest
// slot for a conjunction, the sum for any-word matching, the rarest word for a phrase. It
// decides whether counting starts with a sample, so it must never be below the truth.
func TestPlanBound(t *testing.T) {
	g, err := createGeneration(t.TempDir(), "en")
	if err != nil {
		t.Fatal(err)
	}
	defer g.idx.Close()
	var docs []*store.SearchDoc
	for i := range 8 {
		title := "beta"
		if i < 3 {
			title = "alpha beta"
		}
		docs = append(docs, &store.SearchDoc{ID: int64(i + 1), Title: title, Type: helpportal.TypeFAQ,
			Status: helpportal.StatusPublished, Visibility: helpportal.VisibilityPublic})
	}
	if err := g.apply(docs, nil, 1); err != nil {
		t.Fatal(err)
	}
	adv, err := g.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	an := newAnalyzer(newMapping("en"), "en")
	for _, tc := range []struct {
		q             string
		strict, loose int
	}{
		{"alpha beta", 3, 11},
		{`"alpha beta"`, 3, 3},
		{"beta", 8, 8},
		{"alpha zzzqqq", 0, 3},
	} {
		p := &planner{ctx: context.Background(), an: an, syn: &synonyms{}, r: r, dfs: map[string]int{}}
		pl := p.build(parseQuery(an, nil, tc.q))
		if got := pl.bound(tier{v: vTypo}); got != tc.strict {
			t.Errorf("%q: all-words bound %d, want %d", tc.q, got, tc.strict)
		}
		if got := pl.bound(tier{v: vRelaxed}); got != tc.loose {
			t.Errorf("%q: any-word bound %d, want %d", tc.q, got, tc.loose)
		}
	}
}

// Each variant's body tier is sampled by its own number of matches: a strict tier with a
// handful is ranked whole even when the any-word tier after it matches thousands, and
// "the first word only" is sampled when that word is common.
func TestSamplePerVariant(t *testing.T) {
	pl := &plan{slots: []slot{{known: true, df: 30000}, {known: true, df: 100}}}
	matches := map[variant]int{vExact: 5, vTypo: 5, vKnown: 5, vRelaxed: 40000}
	for _, tc := range []struct {
		t    tier
		want int
	}{
		{tier{v: vTypo}, 0},
		{tier{v: vRelaxed}, 1},
		{tier{v: vFirst, first: 1}, 1},
		{tier{v: vFirst, first: 2}, 0}, // a conjunction's bound says too little
	} {
		if got := pl.sample(tc.t, matches); got != tc.want {
			t.Errorf("tier %+v: %d slices first, want %d", tc.t, got, tc.want)
		}
	}
	matches[vTypo] = 6000
	if got := pl.sample(tier{v: vTypo}, matches); got != 4 {
		t.Errorf("6,000 strict matches: %d slices first, want 4", got)
	}
}

// A build's segments are merged in one task: Scorch's own single-segment plan merges ten
// per task, and a build of 100,000 articles (200 segments) came out as two.
func TestMergeAllPlansOneTask(t *testing.T) {
	var segs []mergeplan.Segment
	for i := range 200 {
		segs = append(segs, fakeSegment{id: uint64(i), docs: 500})
	}
	plan, err := mergeplan.Plan(segs, &mergeAll)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Tasks) != 1 || len(plan.Tasks[0].Segments) != 200 {
		t.Errorf("plan = %d tasks, want one of all 200 segments", len(plan.Tasks))
	}
}

type fakeSegment struct {
	id   uint64
	docs int64
}

func (s fakeSegment) Id() uint64          { return s.id }
func (s fakeSegment) FullSize() int64     { return s.docs }
func (s fakeSegment) LiveSize() int64     { return s.docs }
func (s fakeSegment) HasVector() bool     { return false }
func (s fakeSegment) FileSize() int64     { return s.docs * 3000 }
func (s fakeSegment) LiveFileSize() int64 { return s.docs * 3000 }

// forceMerge leaves one segment holding everything the batches indexed.
func TestForceMergeToOne(t *testing.T) {
	g, err := createGeneration(t.TempDir(), "en")
	if err != nil {
		t.Fatal(err)
	}
	defer g.idx.Close()
	sc := scorchOf(t, g)
	resume := pauseMerges(g)
	for i := range 25 {
		b := g.idx.NewBatch()
		if err := b.Index(strconv.Itoa(i), map[string]any{fText: "quokka " + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
		if err := g.idx.Batch(b); err != nil {
			t.Fatal(err)
		}
		// Wait for the persister, so that each batch is a segment on disk of its own.
		for deadline := time.Now().Add(5 * time.Second); sc.StatsMap()["num_root_memorysegments"].(uint64) > 0; {
			if time.Now().After(deadline) {
				t.Fatal("the batch was not persisted in 5 s")
			}
			time.Sleep(time.Millisecond)
		}
	}
	if n := segments(sc); n < 20 {
		t.Fatalf("%d segments before the merge, want one a batch", n)
	}
	resume()
	if err := forceMerge(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	if n := segments(sc); n != 1 {
		t.Errorf("%d segments after the merge, want 1", n)
	}
	if n, _ := g.idx.DocCount(); n != 25 {
		t.Errorf("%d documents after the merge, want 25", n)
	}
}

// Planning and ranking run at most GOMAXPROCS searches at a time: a search waiting for a
// slot gives up when its request ends, and runs as soon as one is free.
func TestRankingSlots(t *testing.T) {
	db := quokkaStore(t, 3, 10)
	ctx := context.Background()
	e, err := Open(ctx, db, Options{Dir: t.TempDir(), Language: "en", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if cap(e.ranking) != runtime.GOMAXPROCS(0) {
		t.Errorf("%d slots, want GOMAXPROCS (%d)", cap(e.ranking), runtime.GOMAXPROCS(0))
	}
	for range cap(e.ranking) {
		e.ranking <- struct{}{}
	}
	req := Request{Query: "quokkas", Viewer: helpportal.Anonymous, NoCache: true}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := e.Search(short, req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("every slot taken: %v, want the request's deadline", err)
	}
	<-e.ranking
	if res, err := e.Search(ctx, req); err != nil || res.Total != 3 {
		t.Errorf("a slot free: %v, %v; want 3 results", res, err)
	}
}
