package store_test

import (
	"fmt"
	"testing"
	"time"

	"helpportal"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
)

// wakeBound is how soon a subscriber must hear of another instance's commit.
const wakeBound = 200 * time.Millisecond

// listening waits until db's change listener is connected and swallows the wake-up every
// connection sends (notifications may have been missed before it).
func listening(t *testing.T, db *store.DB, ch <-chan struct{}, notPID uint32) uint32 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if pid := store.ListenerPID(db); pid != 0 && pid != notPID {
			select {
			case <-ch:
			case <-time.After(5 * time.Second):
				t.Fatal("no wake-up after the listener connected")
			}
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatal("the change listener never connected")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// awaitWake returns how long ch took to signal, failing past bound.
func awaitWake(t *testing.T, ch <-chan struct{}, start time.Time, bound time.Duration, what string) time.Duration {
	t.Helper()
	select {
	case <-ch:
		return time.Since(start)
	case <-time.After(bound - time.Since(start)):
		t.Fatalf("%s: no wake-up within %s", what, bound)
		return 0
	}
}

func quiet(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Errorf("%s woke the subscriber", what)
	case <-time.After(d):
	}
}

// On PostgreSQL a commit on one instance wakes the other's subscribers at once, through
// LISTEN/NOTIFY; a portal in another schema of the same database does not.
func TestChangesWakeOtherInstance(t *testing.T) {
	t.Parallel()
	a, b := storetest.MustOpenPair(t)
	if b.Dialect() != "postgres" {
		t.Skip("LISTEN/NOTIFY is PostgreSQL's: set " + storetest.EnvURL + " to run this test")
	}
	ctx := t.Context()
	ch := b.Changes(ctx)
	listening(t, b, ch, 0)

	start := time.Now()
	mustCategory(t, a, "wake-a", 0)
	took := awaitWake(t, ch, start, wakeBound, "a category saved on A")
	t.Logf("B woken %s after A's commit began", took.Round(100*time.Microsecond))
	// B already knows the new change number when it is woken, so what the wake-up sends it
	// to (the page cache's check, the search follower) sees the change at once, and no
	// second wake-up follows from B's own poll.
	if got, want := b.ChangeSeq(), a.ChangeSeq(); got < want {
		t.Errorf("B woken with change number %d, A is at %d", got, want)
	}
	if _, err := b.PollChanges(ctx); err != nil {
		t.Fatal(err)
	}
	quiet(t, ch, 200*time.Millisecond, "B's own poll after the wake-up")

	// A batch of changes in one transaction wakes B once (PostgreSQL folds the identical
	// notifications of a transaction).
	cat := mustCategory(t, a, "wake-batch", 0)
	awaitWake(t, ch, time.Now(), wakeBound, "second category")
	var list []*helpportal.Article
	for i := range 50 {
		list = append(list, &helpportal.Article{Slug: fmt.Sprintf("batch-%d", i), Title: "Batch", Body: "x", CategoryID: cat.ID})
	}
	if err := a.SaveArticles(ctx, list); err != nil {
		t.Fatal(err)
	}
	awaitWake(t, ch, time.Now(), wakeBound, "a batch of articles")
	quiet(t, ch, 300*time.Millisecond, "the same batch again")

	// Another portal in another schema of the same database shares the channel, not the wake-ups.
	other := storetest.MustOpen(t)
	mustCategory(t, other, "elsewhere", 0)
	quiet(t, ch, 300*time.Millisecond, "a write in another schema")
}

// A listener whose connection is killed reconnects by itself, wakes its subscribers (it
// may have missed notifications) and delivers again.
func TestChangesListenerReconnects(t *testing.T) {
	t.Parallel()
	a, b := storetest.MustOpenPair(t)
	if b.Dialect() != "postgres" {
		t.Skip("LISTEN/NOTIFY is PostgreSQL's: set " + storetest.EnvURL + " to run this test")
	}
	ch := b.Changes(t.Context())
	pid := listening(t, b, ch, 0)

	start := time.Now()
	if _, err := store.StoreExec(a, `SELECT pg_terminate_backend(?)`, int64(pid)); err != nil {
		t.Fatal(err)
	}
	listening(t, b, ch, pid) // the reconnection's own wake-up
	t.Logf("listener back %s after its connection was killed", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	mustCategory(t, a, "after-reconnect", 0)
	took := awaitWake(t, ch, start, wakeBound, "a write after the reconnection")
	t.Logf("B woken %s after A's commit began", took.Round(100*time.Microsecond))
}

// This process's own commits wake every subscriber before the write returns, on either
// database; another process's are noticed by polling, which wakes subscribers too.
func TestChangesInProcess(t *testing.T) {
	t.Parallel()
	db, other := storetest.MustOpenPair(t)
	ctx := t.Context()
	ch1, ch2 := db.Changes(ctx), db.Changes(ctx)
	pg := db.Dialect() == "postgres"
	woken := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	// settle lets PostgreSQL's notifications of earlier commits arrive, then forgets them.
	settle := func() {
		if pg {
			time.Sleep(300 * time.Millisecond)
		}
		woken(ch1)
		woken(ch2)
	}
	if pg {
		listening(t, db, ch1, 0)
	}
	settle()
	mustCategory(t, db, "own-write", 0)
	if !woken(ch1) || !woken(ch2) {
		t.Fatal("an own commit did not wake both subscribers by the time it returned")
	}

	// A failed write (the slug is taken) commits nothing and wakes nobody.
	a := mustArticle(t, db, &helpportal.Article{Slug: "first", Title: "First", Body: "x", CategoryID: mustCategory(t, db, "more", 0).ID})
	mustArticle(t, db, &helpportal.Article{Slug: "second", Title: "Second", Body: "x", CategoryID: a.CategoryID})
	settle()
	a.Slug = "second"
	if err := db.SaveArticle(ctx, a); helpportal.ErrorCode(err) != helpportal.ECONFLICT {
		t.Fatalf("rename onto a taken slug: %v", err)
	}
	quiet(t, ch1, 300*time.Millisecond, "a rolled-back write")

	// Another process's write: on SQLite only polling finds it, and then wakes subscribers.
	ch3 := other.Changes(ctx)
	if pg {
		listening(t, other, ch3, 0)
	}
	start := time.Now()
	mustCategory(t, db, "from-elsewhere", 0)
	if !pg {
		if woken(ch3) {
			t.Error("another process's write woke a SQLite subscriber without a poll")
		}
		if _, err := other.PollChanges(ctx); err != nil {
			t.Fatal(err)
		}
	}
	awaitWake(t, ch3, start, wakeBound, "another process's write")
}
