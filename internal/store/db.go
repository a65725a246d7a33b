// Package store keeps every durable fact of the portal in SQL: SQLite by default (pure Go,
// WAL), or PostgreSQL (pgx) when many instances share one database. Each exported method is
// one transaction; unexported helpers take the transaction. Queries are portable SQL with ?
// placeholders; what differs between the two lives in dialect.go.
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver
)

//go:embed migrations
var migrations embed.FS

// DB is the store. On SQLite, which allows one writer at a time, writes go through a
// one-connection pool whose transactions take the write lock at BEGIN (no upgrade
// deadlocks), and reads use a pool of their own that runs beside the writer thanks to WAL.
// On PostgreSQL one pool serves both.
type DB struct {
	read, write *sql.DB
	dialect     *dialect
	path        string // the SQLite file; empty on PostgreSQL
	schema      string // the PostgreSQL schema the store lives in
	location    string // where the store is, for messages (never a password)
	now         func() time.Time
	// changeSeq is the highest change number this process has seen (written or polled);
	// caches compare it to know when content changed.
	changeSeq atomic.Int64
	feed      changeFeed      // wake-ups when the change log grows (notify.go)
	pgConfig  *pgx.ConnConfig // PostgreSQL: what the change listener connects with
}

// OpenURL opens the store named by databaseURL: PostgreSQL for a postgres:// or
// postgresql:// URL, or, when databaseURL is empty, SQLite at sqlitePath (as Open does,
// migrating it). On PostgreSQL it does not migrate: call Migrate (`helpportal migrate`), and
// check SchemaCurrent before serving. See openPostgres for the pool settings the URL may carry.
func OpenURL(ctx context.Context, databaseURL, sqlitePath string) (*DB, error) {
	if databaseURL == "" {
		return Open(ctx, sqlitePath)
	}
	if scheme, _, _ := strings.Cut(databaseURL, "://"); scheme == "postgres" || scheme == "postgresql" {
		return openPostgres(ctx, databaseURL)
	}
	if u, err := url.Parse(databaseURL); err == nil && u.Scheme != "" {
		return nil, fmt.Errorf("the database URL must start with postgres:// (it starts with %s://)", u.Scheme)
	}
	return nil, fmt.Errorf("the database URL must start with postgres://")
}

// mmapSize is how much of a SQLite store is read through a memory map.
const mmapSize = 1 << 30

// Open opens (creating if needed) the SQLite database at path and applies pending
// migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
	}
	// The first GiB of the file is read through a memory map: a search page reads ten
	// articles it has probably not read lately, and with pread every page was a system call
	// and a copy. Over HTTP, with 21,000 distinct typo'd queries on a 100,000-article store,
	// that was 15 % of the CPU; mapped, 18 % more searches a second, and p99 120–140 ms
	// instead of 540–690 (docs/performance.md).
	dsn := func(txlock string) string {
		return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
			"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32000)" +
			"&_pragma=mmap_size(" + strconv.Itoa(mmapSize) + ")&_txlock=" + txlock
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
	db := &DB{read: read, write: write, dialect: sqliteDialect, path: path, location: path, now: time.Now}
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

// Close stops the change listener and closes the pools.
func (db *DB) Close() error {
	db.feed.close()
	if db.read == db.write {
		return db.read.Close()
	}
	err1 := db.read.Close()
	err2 := db.write.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// Path is the SQLite database file, or "" on PostgreSQL.
func (db *DB) Path() string { return db.path }

// Dialect is "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect.name }

// Location says where the store is, for messages: the SQLite file, or the PostgreSQL host,
// database and schema (never the password).
func (db *DB) Location() string { return db.location }

// SetClock replaces the clock, for tests.
func (db *DB) SetClock(now func() time.Time) { db.now = now }

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

// inChangeTx is inTx for transactions that append to the change log: they take the
// change-log lock first, before any row lock, so two of them never wait on each other in
// opposite orders.
func (db *DB) inChangeTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.lockName(ctx, tx, changeLogLock); err != nil {
			return err
		}
		return fn(tx)
	})
}

// changeLogLock orders the writers of the change log. A PostgreSQL sequence hands out numbers
// when rows are inserted, not when they commit: without the lock, change 11 could commit
// before change 10, and a follower that had read "everything after 9" and seen 11 would skip
// 10 for good. Holding the lock from taking a number until commit makes numbers commit in
// order, so every snapshot of the log is a gap-free prefix (gaps left by rolled-back
// transactions aside, which followers need not wait for). Content writes are rare next to
// reads, so queueing them costs little; SQLite orders them anyway with its single writer.
const changeLogLock = "changes"

// recordChange appends to the change log inside tx; callers bump changeSeq after commit
// (sawChange, which wakes this process's subscribers). It takes the change-log lock itself
// (on PostgreSQL a short round trip that returns at once when inChangeTx already holds it,
// and that also queues the notification for other instances), so numbers commit in order
// whoever the caller is.
func (db *DB) recordChange(ctx context.Context, tx *sql.Tx, entity string, id int64, op string) (int64, error) {
	if err := db.lockChangeLog(ctx, tx); err != nil {
		return 0, err
	}
	var seq int64
	err := tx.QueryRowContext(ctx, `INSERT INTO changes (entity, entity_id, op, at) VALUES (?, ?, ?, ?) RETURNING seq`,
		entity, id, op, db.now().UnixMilli()).Scan(&seq)
	return seq, err
}

func (db *DB) sawChange(seq int64) {
	for {
		cur := db.changeSeq.Load()
		if seq <= cur {
			return
		}
		if db.changeSeq.CompareAndSwap(cur, seq) {
			db.feed.signal()
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
