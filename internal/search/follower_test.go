package search_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"helpportal"
	"helpportal/internal/search"
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
