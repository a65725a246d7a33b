// Package storetest opens real stores for tests: a fresh SQLite file in a temporary
// folder, removed when the test ends.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"helpportal/internal/store"
)

// MustOpen opens a fresh, migrated store for tb and closes it at the end of the test.
func MustOpen(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "helpportal.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
