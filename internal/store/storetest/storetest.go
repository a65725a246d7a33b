// Package storetest opens real stores for tests: a fresh SQLite file in a temporary folder,
// or, when HELPPORTAL_TEST_DATABASE_URL names a PostgreSQL database, a fresh schema in it.
// Either is removed when the test ends, and tests may run in parallel.
package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"helpportal/internal/store"
)

// EnvURL names the variable that points the tests at PostgreSQL, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const EnvURL = "HELPPORTAL_TEST_DATABASE_URL"

// schemaPrefix marks the schemas tests create; the time in the name lets a later run drop
// what a killed run left behind.
const schemaPrefix = "helpportal_test_"

var skipNote sync.Once

// MustOpen opens a fresh, migrated store for tb and closes it at the end of the test.
func MustOpen(tb testing.TB) *store.DB {
	tb.Helper()
	db, _, _ := open(tb)
	return db
}

// MustOpenPair opens two stores on one fresh database, like two instances (or a server and
// a command) sharing it.
func MustOpenPair(tb testing.TB) (*store.DB, *store.DB) {
	tb.Helper()
	db, dbURL, path := open(tb)
	return db, mustOpen(tb, dbURL, path)
}

func open(tb testing.TB) (db *store.DB, dbURL, path string) {
	tb.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		skipNote.Do(func() {
			tb.Logf("storetest: stores are SQLite; set %s=postgres://… to run these tests on PostgreSQL too", EnvURL)
		})
		path = filepath.Join(tb.TempDir(), "helpportal.db")
		return mustOpen(tb, "", path), "", path
	}
	dbURL = freshSchema(tb, base)
	db = mustOpen(tb, dbURL, "")
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db, dbURL, ""
}

// EmptyPostgres returns the URL of a fresh, empty PostgreSQL schema (dropped when tb ends),
// for tests of what happens before migrating; it skips tb when PostgreSQL is not configured.
func EmptyPostgres(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		tb.Skipf("needs PostgreSQL: set %s", EnvURL)
	}
	return freshSchema(tb, base)
}

func mustOpen(tb testing.TB, dbURL, path string) *store.DB {
	tb.Helper()
	db, err := store.OpenURL(context.Background(), dbURL, path)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

var sweep sync.Once

// freshSchema creates an empty schema for tb, drops it when tb ends (after the stores close:
// cleanups run last-registered first) and returns base with search_path set to it.
func freshSchema(tb testing.TB, base string) string {
	tb.Helper()
	ctx := context.Background()
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s is not a URL", EnvURL)
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("%s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	sweep.Do(func() { dropStale(tb, ctx, conn) })
	// Lower case: search_path folds unquoted names.
	schema := fmt.Sprintf("%s%d_%s", schemaPrefix, time.Now().Unix(), strings.ToLower(rand.Text()[:12]))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// dropStale removes test schemas older than a day, which only a killed test run leaves.
func dropStale(tb testing.TB, ctx context.Context, conn *pgx.Conn) {
	rows, err := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, schemaPrefix+"%")
	if err != nil {
		tb.Logf("storetest: listing old test schemas: %v", err)
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-24 * time.Hour).Unix()
	for _, name := range names {
		var created int64
		if _, err := fmt.Sscanf(name[len(schemaPrefix):], "%d_", &created); err != nil || created >= cutoff {
			continue
		}
		_, _ = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE") // another run may have dropped it
	}
}
