package search_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"helpportal"
	"helpportal/internal/search"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
)

// A crash between the store's commit and the index's apply loses nothing: the change log
// still holds the write, and the reopened index applies everything past its stored number.
func TestCatchesUpAfterCrash(t *testing.T) {
	f := newFixture(t)
	before := f.eng.Applied()
	if err := f.eng.Close(); err != nil { // the process "dies" here, index intact on disk
		t.Fatal(err)
	}
	// Writes the dead process never applied.
	f.save(&helpportal.Article{Slug: "kangaroo-hosting", Title: "Kangaroo hosting plans", Body: "Jumpy plans."}, "hosting")
	pw := &helpportal.Article{Slug: "reset-password", Title: "Reset your passphrase", Summary: "Forgot it? Set a new one.",
		Type: helpportal.TypeHowTo, Body: "Choose **Forgot passphrase**."}
	f.save(pw, "account")
	f.category("hosting", "Kangaroo web hosting", "") // renames: its articles must be reindexed

	eng, err := search.Open(context.Background(), f.db, search.Options{Dir: f.dir, Language: "en", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if eng.Applied() != before {
		t.Fatalf("reopened index holds change %d, want %d", eng.Applied(), before)
	}
	if err := eng.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.eng = eng
	if eng.Applied() != f.db.ChangeSeq() {
		t.Errorf("applied %d, store at %d", eng.Applied(), f.db.ChangeSeq())
	}
	if got := slugs(f.search(anon, "kangaroo")); len(got) != 6 || got[0] != "kangaroo-hosting" || !has(got, "dns-propagation") {
		t.Errorf("kangaroo: %v (new article and renamed category)", got)
	}
	res := f.search(anon, "passphrase")
	if len(res.Hits) == 0 || res.Hits[0].Slug != "reset-password" || res.Hits[0].Title != "Reset your passphrase" {
		t.Errorf("updated article: %+v", res.Hits)
	}
}

// A saved article is found within two seconds while Run follows the store.
func TestFollowsWithinTwoSeconds(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.eng.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	start := time.Now()
	f.save(&helpportal.Article{Slug: "platypus", Title: "Platypus mail filters", Body: "Odd but useful."}, "hosting")
	for {
		if got := slugs(f.search(anon, "platypus")); len(got) == 1 {
			break
		}
		// A correctness bound, loose for loaded CI machines; the 2 s goal is measured and
		// recorded in docs/performance.md, not held by this test.
		if time.Since(start) > 10*time.Second {
			t.Fatal("the saved article was not searchable within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("searchable after %s", time.Since(start).Round(time.Millisecond))
	// Hiding it removes it as quickly.
	f.save(&helpportal.Article{Slug: "platypus", Title: "Platypus mail filters", Body: "Odd but useful.",
		Visibility: helpportal.VisibilityStaff}, "hosting")
	for len(f.search(anon, "platypus").Hits) != 0 {
		if time.Since(start) > 20*time.Second {
			t.Fatal("the hidden article stayed visible")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// helpportal reindex builds a new generation beside the live one and swaps it in; a
// running engine switches to it and removes the old one.
func TestRebuildSwapsWhileServing(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.eng.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	old := f.eng.Stats().Index

	if err := search.Rebuild(context.Background(), f.db, f.dir, "en", quiet); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for f.eng.Stats().Index == old {
		if time.Now().After(deadline) {
			t.Fatal("the engine did not switch to the rebuilt index")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := slugs(f.search(anon, "reset password")); len(got) == 0 || got[0] != "reset-password" {
		t.Errorf("after the swap: %v", got)
	}
	// It is closed and removed just after the switch.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(f.dir, old)); os.IsNotExist(err) {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the old generation %s is still there: %v", old, err)
		}
	}
	// A restart opens the rebuilt generation, already caught up.
	cancel()
	<-done
	f.eng.Close()
	f.open()
	if got := f.eng.Stats().Index; got == old {
		t.Errorf("reopened the old generation")
	}
}

// An index built for another language is rebuilt with the new analyzer.
func TestLanguageChangeRebuilds(t *testing.T) {
	f := newFixture(t)
	f.eng.Close()
	f.save(&helpportal.Article{Slug: "connexion", Title: "Problèmes de connexion", Body: "Les connexions échouent."}, "account")
	eng, err := search.Open(context.Background(), f.db, search.Options{Dir: f.dir, Language: "fr-FR", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := eng.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := eng.Search(context.Background(), search.Request{Query: "connexions", Viewer: anon})
	if err != nil || len(res.Hits) == 0 || res.Hits[0].Slug != "connexion" {
		t.Errorf("French stemming: %v %v", res, err)
	}
}

// signalled is the store with the follower's other ways of noticing a write taken away:
// its own change number stays at 0 and its wake-ups come from the test.
type signalled struct {
	*store.DB
	wake chan struct{}
}

func (s signalled) ChangeSeq() int64                        { return 0 }
func (s signalled) Changes(context.Context) <-chan struct{} { return s.wake }

// runFollower opens an engine over src in a folder of its own, polling hourly so that only
// a wake-up can make it apply a change soon, runs it and waits until it is ready.
func runFollower(t *testing.T, src search.Source) *search.Engine {
	t.Helper()
	eng, err := search.Open(context.Background(), src, search.Options{Dir: t.TempDir(), Language: "en", Logger: quiet, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; eng.Close() })
	for deadline := time.Now().Add(20 * time.Second); !eng.Ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the engine never became ready")
		}
	}
	return eng
}

func found(t *testing.T, eng *search.Engine, q string) bool {
	t.Helper()
	res, err := eng.Search(context.Background(), search.Request{Query: q, Viewer: anon, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Hits) > 0
}

// waitFound polls until q finds something and returns how long that took from start.
func waitFound(t *testing.T, eng *search.Engine, q string, start time.Time) time.Duration {
	t.Helper()
	for !found(t, eng, q) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%q not found 5 s after the wake-up", q)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// The follower applies what the store signals at once, without waiting for its poll.
func TestFollowerWakesOnSignal(t *testing.T) {
	f := newFixture(t)
	src := signalled{DB: f.db, wake: make(chan struct{}, 1)}
	eng := runFollower(t, src)

	f.save(&helpportal.Article{Slug: "wombat", Title: "Wombat backups", Body: "Cubes."}, "hosting")
	time.Sleep(300 * time.Millisecond)
	if found(t, eng, "wombat") {
		t.Fatal("the change was applied without a wake-up or a poll: this test proves nothing")
	}
	start := time.Now()
	src.wake <- struct{}{}
	t.Logf("applied %s after the wake-up", waitFound(t, eng, "wombat", start).Round(100*time.Microsecond))
}

// On PostgreSQL a write by another instance reaches this one's index through LISTEN/NOTIFY,
// well before the (here hourly) poll.
func TestFollowerWakesOnOtherInstance(t *testing.T) {
	a, b := storetest.MustOpenPair(t)
	if a.Dialect() != "postgres" {
		t.Skip("LISTEN/NOTIFY is PostgreSQL's: set " + storetest.EnvURL + " to run this test")
	}
	ctx := context.Background()
	cat := &helpportal.Category{Slug: "hosting", Name: "Hosting"}
	if err := b.SaveCategory(ctx, cat); err != nil {
		t.Fatal(err)
	}
	eng := runFollower(t, a)
	time.Sleep(200 * time.Millisecond) // the listener's first connection and its wake-up

	start := time.Now()
	if err := b.SaveArticle(ctx, &helpportal.Article{Slug: "numbat", Title: "Numbat firewalls", Body: "Ants.", CategoryID: cat.ID}); err != nil {
		t.Fatal(err)
	}
	took := waitFound(t, eng, "numbat", start)
	t.Logf("searchable on the other instance %s after the save began", took.Round(100*time.Microsecond))
	if took > time.Second {
		t.Errorf("searchable after %s, want well under the 2 s goal", took)
	}
}
