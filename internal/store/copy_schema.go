package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"helpportal"
)

// How copy reads the two databases' schemas: the tables, their columns and kinds, keys,
// self-references and identity columns, and what a freshly migrated store already holds.

// colKind is what a column holds, from its declared type, so that a value read from one
// dialect is written as the other stores that kind.
type colKind int

const (
	kindAny colKind = iota // no declared type: written as read
	kindInt
	kindReal
	kindText
	kindBlob
	kindBool
)

type column struct {
	name string
	kind colKind
}

// tableInfo is one table as the live schema describes it.
type tableInfo struct {
	name string
	cols []column // the columns a row is written with, in table order (generated ones left out)
	key  []string // the primary key, in key order; empty when the table has none
	// parent is a column referencing this same table's key (categories.parent_id): rows are
	// written parents first.
	parent string
	// identity are PostgreSQL columns filled from a sequence, moved past the copied values.
	identity []string
	// overriding is set when an identity column is GENERATED ALWAYS.
	overriding bool
}

func (t *tableInfo) colNames() []string {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = c.name
	}
	return names
}

// copySchema describes every table copy moves, and refuses a schema holding a table it
// does not know (a newer helpportal's, or another application's) or lacking one it does.
func (db *DB) copySchema(ctx context.Context, q querier) (map[string]*tableInfo, error) {
	live, err := db.liveTables(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: list the tables: %w", db.location, err)
	}
	for _, name := range live {
		if name != "schema_migrations" && !slices.Contains(copyTables, name) {
			return nil, unknownTable(db, name)
		}
	}
	tables := map[string]*tableInfo{}
	for _, name := range copyTables {
		if !slices.Contains(live, name) {
			return nil, helpportal.Errorf(helpportal.EINVALID, "%s has no table %s: its schema is older than this helpportal; run `helpportal migrate` on it first.", db.location, name)
		}
		if tables[name], err = db.dialect.readTable(ctx, q, name); err != nil {
			return nil, fmt.Errorf("%s: describe table %s: %w", db.location, name, err)
		}
	}
	return tables, nil
}

func unknownTable(db *DB, name string) error {
	return helpportal.Errorf(helpportal.EINVALID, "%s has a table %s that this helpportal does not know (a newer helpportal's schema, or another application's table); copy needs a database or schema of helpportal's own.", db.location, name)
}

// liveTables lists the tables of the store's schema, sorted.
func (db *DB) liveTables(ctx context.Context, q querier) ([]string, error) {
	names, err := queryStrings(ctx, q, db.dialect.listTables)
	slices.Sort(names)
	return names, err
}

func sqliteTableInfo(ctx context.Context, q querier, name string) (*tableInfo, error) {
	t := &tableInfo{name: name}
	// table_xinfo lists generated columns too (hidden 2 or 3), which cannot be written.
	rows, err := q.QueryContext(ctx, `SELECT name, type, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type keyCol struct {
		name string
		pos  int
	}
	var keys []keyCol
	for rows.Next() {
		var col, typ string
		var pk, hidden int
		if err := rows.Scan(&col, &typ, &pk, &hidden); err != nil {
			return nil, err
		}
		if pk > 0 {
			keys = append(keys, keyCol{col, pk})
		}
		if hidden == 0 {
			t.cols = append(t.cols, column{col, sqliteKind(typ)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b keyCol) int { return a.pos - b.pos })
	for _, k := range keys {
		t.key = append(t.key, k.name)
	}
	refs, err := q.QueryContext(ctx, `SELECT "from", "table" FROM pragma_foreign_key_list(?)`, name)
	if err != nil {
		return nil, err
	}
	defer refs.Close()
	for refs.Next() {
		var from, to string
		if err := refs.Scan(&from, &to); err != nil {
			return nil, err
		}
		if to == name {
			t.parent = from
		}
	}
	return t, refs.Err()
}

// sqliteKind follows SQLite's rules for a declared type's affinity, adding booleans.
func sqliteKind(typ string) colKind {
	typ = strings.ToUpper(typ)
	has := func(parts ...string) bool {
		for _, p := range parts {
			if strings.Contains(typ, p) {
				return true
			}
		}
		return false
	}
	switch {
	case has("INT"):
		return kindInt
	case has("CHAR", "CLOB", "TEXT"):
		return kindText
	case has("BLOB"):
		return kindBlob
	case has("REAL", "FLOAT", "DOUBLE"):
		return kindReal
	case has("BOOL"):
		return kindBool
	}
	return kindAny
}

func pgTableInfo(ctx context.Context, q querier, name string) (*tableInfo, error) {
	t := &tableInfo{name: name}
	rows, err := q.QueryContext(ctx, `SELECT column_name, data_type, is_identity, coalesce(identity_generation, ''),
			coalesce(column_default, ''), is_generated
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var col, typ, isIdentity, generation, def, generated string
		if err := rows.Scan(&col, &typ, &isIdentity, &generation, &def, &generated); err != nil {
			return nil, err
		}
		if generated == "ALWAYS" { // computed from the other columns
			continue
		}
		t.cols = append(t.cols, column{col, pgKind(typ)})
		if isIdentity == "YES" || strings.HasPrefix(def, "nextval(") {
			t.identity = append(t.identity, col)
		}
		if generation == "ALWAYS" {
			t.overriding = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if t.key, err = queryStrings(ctx, q, `SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indisprimary AND i.indrelid = to_regclass(format('%I.%I', current_schema(), CAST(? AS TEXT)))
		ORDER BY array_position(CAST(i.indkey AS int2[]), a.attnum)`, name); err != nil {
		return nil, err
	}
	parents, err := queryStrings(ctx, q, `SELECT a.attname FROM pg_constraint k
		JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
		WHERE k.contype = 'f' AND k.confrelid = k.conrelid
			AND k.conrelid = to_regclass(format('%I.%I', current_schema(), CAST(? AS TEXT)))`, name)
	if len(parents) > 0 {
		t.parent = parents[0]
	}
	return t, err
}

func pgKind(typ string) colKind {
	switch typ {
	case "smallint", "integer", "bigint":
		return kindInt
	case "real", "double precision":
		return kindReal
	case "text", "character varying", "character", "json", "jsonb":
		return kindText
	case "bytea":
		return kindBlob
	case "boolean":
		return kindBool
	}
	return kindAny
}

func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	return list, rows.Err()
}

// sameSchema refuses to copy between stores of different schema versions or columns: rows
// would not fit, or something would be left behind.
func sameSchema(ctx context.Context, src *DB, sq querier, srcTables map[string]*tableInfo, dst *DB, dq querier, dstTables map[string]*tableInfo) error {
	sv, err := queryStrings(ctx, sq, `SELECT CAST(version AS TEXT) FROM schema_migrations ORDER BY version`)
	if err != nil {
		return err
	}
	dv, err := queryStrings(ctx, dq, `SELECT CAST(version AS TEXT) FROM schema_migrations ORDER BY version`)
	if err != nil {
		return err
	}
	for _, v := range sv {
		if !slices.Contains(dv, v) {
			return helpportal.Errorf(helpportal.EINVALID, "%s has migration %s, which %s lacks: copy with the helpportal that made it (or migrate the destination with it).", src.location, v, dst.location)
		}
	}
	for _, v := range dv {
		if !slices.Contains(sv, v) {
			return helpportal.Errorf(helpportal.EINVALID, "%s lacks migration %s, which %s has: run `helpportal migrate` on the source first.", src.location, v, dst.location)
		}
	}
	for _, name := range copyTables {
		s, d := srcTables[name].colNames(), dstTables[name].colNames()
		for _, c := range s {
			if !slices.Contains(d, c) {
				return helpportal.Errorf(helpportal.EINVALID, "column %s.%s of %s is missing in %s.", name, c, src.location, dst.location)
			}
		}
		for _, c := range d {
			if !slices.Contains(s, c) {
				return helpportal.Errorf(helpportal.EINVALID, "column %s.%s of %s is missing in %s.", name, c, dst.location, src.location)
			}
		}
	}
	return nil
}

// mustBeEmpty returns ECONFLICT when the table holds a row: copy needs an empty
// destination. A fresh migration writes no rows; should one ever seed some, every copy test
// into a fresh store fails until copy learns to replace them.
func (db *DB) mustBeEmpty(ctx context.Context, q querier, table string) error {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM "+quoteIdent(table)+" LIMIT 1").Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	var n int64
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(table)).Scan(&n); err != nil {
		return err
	}
	return helpportal.Errorf(helpportal.ECONFLICT, "%s already holds portal data (table %s has %d rows); copy needs an empty destination.", db.location, table, n)
}
