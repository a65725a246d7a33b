package store

import (
	"context"
	"errors"
	"fmt"
	"os"

	"helpportal"
)

// Backup writes a consistent snapshot of a SQLite store to file while the store stays in
// use (VACUUM INTO reads one snapshot and writes a compact copy). file must not exist. On
// PostgreSQL it returns EINVALID explaining pg_dump, which does the same job better there.
func (db *DB) Backup(ctx context.Context, file string) error {
	if db.Dialect() != "sqlite" {
		return helpportal.Errorf(helpportal.EINVALID, "helpportal backup copies SQLite stores. For PostgreSQL use pg_dump, which takes a consistent snapshot while the portal runs: pg_dump --format=custom --file=helpportal.dump \"$HELPPORTAL_DATABASE_URL\"")
	}
	if _, err := os.Stat(file); err == nil {
		return helpportal.Errorf(helpportal.EINVALID, "%s already exists; choose a new file name.", file)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if _, err := db.read.ExecContext(ctx, `VACUUM INTO ?`, file); err != nil {
		return fmt.Errorf("back up to %s: %w", file, err)
	}
	return nil
}
