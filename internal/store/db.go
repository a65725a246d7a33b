// Package store keeps every durable fact of the portal in SQL: SQLite by default (pure Go,
// WAL). Each exported method is one transaction; unexported helpers take the transaction.
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver
)

//go:embed migrations
var migrations embed.FS

// DB is the store. SQLite allows one writer at a time, so writes go through a one-connection
// pool whose transactions take the write lock at BEGIN (no upgrade deadlocks); reads use a
// pool of their own and run beside the writer thanks to WAL.
type DB struct {
	read, write *sql.DB
	path        string
	now         func() time.Time
	// changeSeq is the highest change number this process has seen (written or polled);
	// caches compare it to know when content changed.
	changeSeq atomic.Int64
}

// Open opens (creating if needed) the SQLite database at path and applies pending
// migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
	}
	dsn := func(txlock string) string {
		return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
			"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32000)" +
			"&_txlock=" + txlock
	}
	write, err := sql.Open("sqlite", dsn("immediate"))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", dsn("deferred"))
	if err != nil {
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	db := &DB{read: read, write: write, path: path, now: time.Now}
	if err := db.write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if _, err := db.PollChanges(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	err1 := db.read.Close()
	err2 := db.write.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// SetClock replaces the clock, for tests.
func (db *DB) SetClock(now func() time.Time) { db.now = now }

// Migrate applies the embedded migrations that are not yet recorded, each in its own
// transaction, in order.
func (db *DB) Migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/sqlite/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", base)
		}
		src, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = db.inTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(src)); err != nil {
				return fmt.Errorf("migration %s: %w", base, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				version, base, db.now().UnixMilli())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// inTx runs fn in a write transaction, committing when fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return translate(err)
	}
	return translate(tx.Commit())
}

// recordChange appends to the change log inside tx; callers bump changeSeq after commit.
func (db *DB) recordChange(ctx context.Context, tx *sql.Tx, entity string, id int64, op string) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO changes (entity, entity_id, op, at) VALUES (?, ?, ?, ?)`,
		entity, id, op, db.now().UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func (db *DB) sawChange(seq int64) {
	for {
		cur := db.changeSeq.Load()
		if seq <= cur || db.changeSeq.CompareAndSwap(cur, seq) {
			return
		}
	}
}

// ChangeSeq returns the newest change number this process knows of. It moves when this
// process writes content and when PollChanges sees another process's writes.
func (db *DB) ChangeSeq() int64 { return db.changeSeq.Load() }

// PollChanges reads the newest change number from the store (another process may have
// written) and returns it.
func (db *DB) PollChanges(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT max(seq) FROM changes`).Scan(&seq); err != nil {
		return 0, translate(err)
	}
	db.sawChange(seq.Int64)
	return db.changeSeq.Load(), nil
}

// Ping checks that the store answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
