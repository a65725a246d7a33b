package store

import (
	"context"
	"database/sql"
)

// StoreExec runs a statement directly, for tests that set up states no method creates.
func StoreExec(db *DB, query string, args ...any) (sql.Result, error) {
	return db.write.ExecContext(context.Background(), query, args...)
}

// ListenerPID is the PostgreSQL server process of db's change listener, 0 while it has none.
func ListenerPID(db *DB) uint32 { return db.feed.pid.Load() }
