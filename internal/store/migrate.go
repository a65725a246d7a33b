package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

type migration struct {
	version int
	name    string // the file name, recorded with the version
	file    string // the embedded path
}

// migrationsFor lists the embedded migrations of a dialect, oldest first.
func migrationsFor(d *dialect) ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/"+d.name+"/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var list []migration
	for _, f := range files {
		base := path.Base(f)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", base)
		}
		list = append(list, migration{version: version, name: base, file: f})
	}
	return list, nil
}

// migrateLock keeps instances that start together from applying one migration twice.
const migrateLock = "migrate"

// Migrate applies the embedded migrations that are not yet recorded, each in its own
// transaction, in order. On PostgreSQL each transaction first takes an advisory lock, so
// any number of instances may run it at once: the first applies a migration, the others
// wait and then find it recorded.
func (db *DB) Migrate(ctx context.Context) error {
	list, err := migrationsFor(db.dialect)
	if err != nil {
		return err
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.lockName(ctx, tx, migrateLock); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range list {
		src, err := migrations.ReadFile(m.file)
		if err != nil {
			return err
		}
		err = db.inTx(ctx, func(tx *sql.Tx) error {
			if err := db.lockName(ctx, tx, migrateLock); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(src)); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, db.now().UnixMilli())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SchemaCurrent reports whether every migration this binary embeds has been applied. A
// schema newer than the binary (an instance not yet upgraded) counts as current: migrations
// only add, so older code keeps working on it. Serving on PostgreSQL should refuse an old
// schema and say to run `helpportal migrate`.
func (db *DB) SchemaCurrent(ctx context.Context) (bool, error) {
	list, err := migrationsFor(db.dialect)
	if err != nil {
		return false, err
	}
	var n int
	if err := db.read.QueryRowContext(ctx, db.dialect.hasTable, "schema_migrations").Scan(&n); err != nil {
		return false, translate(err)
	}
	if n == 0 {
		return len(list) == 0, nil
	}
	applied := map[int]bool{}
	rows, err := db.read.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return false, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return false, translate(err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return false, translate(err)
	}
	for _, m := range list {
		if !applied[m.version] {
			return false, nil
		}
	}
	return true, nil
}
