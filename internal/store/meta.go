package store

import (
	"context"
	"database/sql"

	"helpportal"
)

// Meta returns the value stored under key, or ENOTFOUND.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", helpportal.Errorf(helpportal.ENOTFOUND, "No setting %q.", key)
	}
	return v, translate(err)
}

// SetMeta stores value under key.
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
}
