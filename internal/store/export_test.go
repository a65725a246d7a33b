package store

import (
	"context"
	"database/sql"
)

// StoreExec runs a statement directly, for tests that set up states no method creates.
func StoreExec(db *DB, query string, args ...any) (sql.Result, error) {
	return db.write.ExecContext(context.Background(), query, args...)
}
