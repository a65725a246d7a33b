package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// Every connection of a SQLite store runs with the settings Open asks for: WAL, foreign
// keys, and reads through a memory map.
func TestSQLiteSettings(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, pool := range map[string]interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}{"read": db.read, "write": db.write} {
		var mode string
		var fk, mmap int64
		if err := pool.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("%s: journal_mode %q, %v", name, mode, err)
		}
		if err := pool.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
			t.Errorf("%s: foreign_keys %d, %v", name, fk, err)
		}
		if err := pool.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mmap); err != nil || mmap != mmapSize {
			t.Errorf("%s: mmap_size %d, %v; want %d", name, mmap, err, mmapSize)
		}
	}
}
