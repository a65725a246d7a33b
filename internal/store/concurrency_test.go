package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"helpportal"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
)

// TestMigrateConcurrently: instances that start together on an empty PostgreSQL schema
// apply each migration once and all end up current.
func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	dbURL := storetest.EmptyPostgres(t)
	var dbs []*store.DB
	for range 4 {
		db, err := store.OpenURL(ctx, dbURL, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	if ok, err := dbs[0].SchemaCurrent(ctx); err != nil || ok {
		t.Fatalf("SchemaCurrent on an empty schema = %v, %v; want false", ok, err)
	}
	var wg sync.WaitGroup
	for _, db := range dbs {
		wg.Go(func() {
			if err := db.Migrate(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, db := range dbs {
		if ok, err := db.SchemaCurrent(ctx); err != nil || !ok {
			t.Errorf("instance %d: SchemaCurrent = %v, %v", i, ok, err)
		}
	}
}

// TestClaimMailAcrossInstances: two instances claiming at once never lease one message twice.
func TestClaimMailAcrossInstances(t *testing.T) {
	ctx := context.Background()
	a, b := storetest.MustOpenPair(t)
	u := mustUser(t, a, "m@example.com")
	for i := range 40 {
		m := &helpportal.OutgoingMail{To: u.Email, Subject: "s", Text: "t", HTML: "h", MessageID: fmt.Sprintf("<%d@x>", i)}
		if err := a.CreateToken(ctx, u.ID, fmt.Sprint("p", i), fmt.Sprint("h", i), "", time.Hour, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for _, db := range []*store.DB{a, b, a, b} {
		wg.Go(func() {
			for range 10 {
				list, err := db.ClaimMail(ctx, now, 3, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, m := range list {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 40 {
		t.Errorf("claimed %d distinct messages, want 40", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %d claimed %d times", id, n)
		}
	}
}

// TestConcurrentVotesCountOnce: one visitor voting from several requests at once counts once.
func TestConcurrentVotesCountOnce(t *testing.T) {
	ctx := context.Background()
	a, b := storetest.MustOpenPair(t)
	c := mustCategory(t, a, "c", 0)
	art := mustArticle(t, a, &helpportal.Article{Slug: "v", Title: "V", CategoryID: c.ID})
	var wg sync.WaitGroup
	for i := range 8 {
		db := []*store.DB{a, b}[i%2]
		wg.Go(func() {
			if err := db.Vote(ctx, art.ID, "same-voter", true); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := a.ArticleBySlug(ctx, helpportal.Anonymous, "v")
	if err != nil || got.Helpful != 1 {
		t.Errorf("helpful = %d, %v; want 1", got.Helpful, err)
	}
}

// TestChangesBecomeVisibleInOrder: a follower reading "changes after the last one I applied"
// while several instances write misses none. On PostgreSQL this needs change numbers to
// commit in order (store.changeLogLock).
func TestChangesBecomeVisibleInOrder(t *testing.T) {
	ctx := context.Background()
	a, b := storetest.MustOpenPair(t)
	var wg sync.WaitGroup
	for w := range 4 {
		db := []*store.DB{a, b}[w%2]
		wg.Go(func() {
			for i := range 15 {
				c := &helpportal.Category{Slug: fmt.Sprintf("w%d-%d", w, i), Name: "N"}
				if err := db.SaveCategory(ctx, c); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	followed := map[int64]bool{}
	var last int64
	follow := func() {
		list, err := a.ChangesSince(ctx, last, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range list {
			followed[ch.Seq] = true
			last = ch.Seq
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		follow()
	}
	follow()
	all, err := a.ChangesSince(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var missed []string
	for _, ch := range all {
		if !followed[ch.Seq] {
			missed = append(missed, fmt.Sprint(ch.Seq))
		}
	}
	if len(all) != 60 || len(missed) > 0 {
		t.Errorf("%d changes; the follower missed %s", len(all), strings.Join(missed, ", "))
	}
}

func TestOpenURLErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ url, want string }{
		{"mysql://x@localhost/db", "must start with postgres://"},
		{"postgres://x@127.0.0.1:1/db?connect_timeout=5", "connection refused"},
		{"postgres://x@127.0.0.1/db?pool_max_conns=zero", "pool_max_conns"},
		{"postgres://x@127.0.0.1/db?pool_min_conns=2", "pool_min_conns is not supported"},
	} {
		db, err := store.OpenURL(ctx, tc.url, "")
		if err == nil {
			db.Close()
			t.Errorf("%s: no error", tc.url)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %q, want one line with %q", tc.url, err, tc.want)
		}
	}
}

// TestConnectionLossIsUnavailable: when PostgreSQL drops the store's connections (a restart,
// an administrator), calls fail as EUNAVAILABLE, never as internal errors, and the store
// recovers by itself. Only this test's own sessions are ended.
func TestConnectionLossIsUnavailable(t *testing.T) {
	ctx := context.Background()
	u, err := url.Parse(storetest.EmptyPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	app := "helpportal-test-" + strings.ToLower(rand.Text()[:8])
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	db, err := store.OpenURL(ctx, u.String(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, os.Getenv(storetest.EnvURL))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for round := range 3 {
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app); err != nil {
			t.Fatal(err)
		}
		err := db.SetMeta(ctx, "k", "v")
		t.Logf("round %d: the first call after the connections ended: %v", round, err)
		if code := helpportal.ErrorCode(err); code != "" && code != helpportal.EUNAVAILABLE {
			t.Fatalf("round %d: after the connection was ended: %v (code %s), want unavailable or success", round, err, code)
		}
		recovered := false
		for range 20 {
			if _, err := db.Meta(ctx, "k"); err == nil || helpportal.ErrorCode(err) == helpportal.ENOTFOUND {
				recovered = true
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !recovered {
			t.Fatalf("round %d: the store did not recover", round)
		}
	}
}
