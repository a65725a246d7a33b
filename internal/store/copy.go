package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"helpportal"
)

// copyTables is every table CopyTo moves, parents before children, so that each row's
// foreign keys point at rows already copied. schema_migrations is not copied: the
// destination is migrated by its own dialect's files. TestCopyTablesMatchSchema fails when a
// migration adds a table missing here or breaks the order, and CopyTo refuses a store with a
// table it does not know rather than leave it behind.
var copyTables = []string{
	"categories", "articles", "article_tags", "slug_redirects", "votes", "announcements",
	"changes", "meta",
	"users", "sessions", "tokens", "attempts", "events", "mail_outbox",
	"search_queries_daily", "search_pins",
}

// CopyTables returns the tables CopyTo moves, in the order it moves them.
func CopyTables() []string { return slices.Clone(copyTables) }

// TableCount is how many rows CopyTo moved into one table.
type TableCount struct {
	Table string
	Rows  int64
}

// CopyReport says what CopyTo moved.
type CopyReport struct {
	Tables []TableCount // in copy order
	Rows   int64
	Took   time.Duration
}

// copyBatchParams bounds the values of one multi-row INSERT, well under SQLite's 32766 and
// PostgreSQL's 65535 parameters; copyBatchRows bounds its rows (long article bodies).
const (
	copyBatchParams = 8000
	copyBatchRows   = 500
)

// CopyTo copies every row of every table of db into dst: the whole portal, primary keys
// included, so that dst becomes the same portal on its own database (SQLite or PostgreSQL,
// either way). The search index is derived and is not part of the store.
//
// db is read in one snapshot (a read-only transaction; repeatable read on PostgreSQL), so a
// portal may be copied while it serves. dst must be migrated to the same schema version and
// hold nothing but what its migrations put there; everything is written in one transaction,
// so a failed copy leaves dst as it was. On PostgreSQL every identity sequence is then moved
// past the largest copied value, so new rows get new IDs.
//
// A dst holding portal data is ECONFLICT naming a table with rows; a schema that differs
// between the two (another version, or a table copy does not know) is EINVALID.
func (db *DB) CopyTo(ctx context.Context, dst *DB) (*CopyReport, error) {
	start := time.Now()
	if db == dst || db.location == dst.location {
		return nil, helpportal.Errorf(helpportal.EINVALID, "The source and the destination are the same store (%s).", db.location)
	}
	// One snapshot of the source: on SQLite a read transaction (WAL keeps it while a server
	// writes), on PostgreSQL a repeatable-read one.
	iso := sql.LevelDefault
	if db.dialect.name == "postgres" {
		iso = sql.LevelRepeatableRead
	}
	src, err := db.read.BeginTx(ctx, &sql.TxOptions{Isolation: iso, ReadOnly: true})
	if err != nil {
		return nil, translate(err)
	}
	defer src.Rollback() // read-only: nothing to commit
	srcTables, err := db.copySchema(ctx, src)
	if err != nil {
		return nil, err
	}
	seeds, err := freshSeeds(ctx)
	if err != nil {
		return nil, err
	}
	rep := &CopyReport{}
	// Not dst.inTx: its error translation would replace the driver's message, which is the
	// one worth reading when a value does not fit (and it is wrapped with the table's name).
	tx, err := dst.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, translate(err)
	}
	defer tx.Rollback()
	err = func() error {
		// A server started on dst meanwhile would be writing the change log: wait for it,
		// and let it wait for the copy.
		if err := dst.lockName(ctx, tx, changeLogLock); err != nil {
			return err
		}
		dstTables, err := dst.copySchema(ctx, tx)
		if err != nil {
			return err
		}
		if err := sameSchema(ctx, db, src, srcTables, dst, tx, dstTables); err != nil {
			return err
		}
		if err := dst.clearSeeds(ctx, tx, dstTables, seeds); err != nil {
			return err
		}
		for _, name := range copyTables {
			n, err := copyTable(ctx, src, srcTables[name], dst, tx, dstTables[name])
			if err != nil {
				return fmt.Errorf("copy table %s: %w", name, err)
			}
			rep.Tables = append(rep.Tables, TableCount{Table: name, Rows: n})
			rep.Rows += n
		}
		return dst.resetSequences(ctx, tx, dstTables)
	}()
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return nil, err
	}
	if dst.dialect.name == "postgres" {
		// Fresh statistics for the planner at once; autovacuum would get there eventually.
		quoted := make([]string, len(copyTables))
		for i, t := range copyTables {
			quoted[i] = quoteIdent(t)
		}
		_, _ = dst.write.ExecContext(ctx, "ANALYZE "+strings.Join(quoted, ", ")) // only an optimisation
	}
	if _, err := dst.PollChanges(ctx); err != nil {
		return nil, err
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// CheckEmpty returns ECONFLICT naming a table that holds rows a fresh migration would not
// have put there, and EINVALID for a table that is not helpportal's. Tables not yet created
// count as empty, so it may run before Migrate: `helpportal copy` refuses a full destination
// before changing its schema. CopyTo checks again inside its transaction.
func (db *DB) CheckEmpty(ctx context.Context) error {
	seeds, err := freshSeeds(ctx)
	if err != nil {
		return err
	}
	tables, err := db.liveTables(ctx, db.read)
	if err != nil {
		return translate(err)
	}
	for _, name := range tables {
		if name != "schema_migrations" && !slices.Contains(copyTables, name) {
			return unknownTable(db, name)
		}
	}
	for _, name := range copyTables {
		if !slices.Contains(tables, name) {
			continue
		}
		info, err := db.tableInfo(ctx, db.read, name)
		if err != nil {
			return translate(err)
		}
		if err := db.onlySeeds(ctx, db.read, info, seeds[name]); err != nil {
			return err
		}
	}
	return nil
}

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
		if tables[name], err = db.tableInfo(ctx, q, name); err != nil {
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
	query := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	if db.dialect.name == "postgres" {
		query = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`
	}
	names, err := queryStrings(ctx, q, query)
	slices.Sort(names)
	return names, err
}

func (db *DB) tableInfo(ctx context.Context, q querier, name string) (*tableInfo, error) {
	if db.dialect.name == "postgres" {
		return pgTableInfo(ctx, q, name)
	}
	return sqliteTableInfo(ctx, q, name)
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

// freshSeeds returns, by table, the keys of the rows a fresh migration writes (none today;
// a migration may seed settings one day). They are what an empty destination may hold. They
// come from migrating a private in-memory SQLite database: the PostgreSQL migrations are
// twins of SQLite's, and a copy into a fresh PostgreSQL schema, which the tests run, would
// fail at once if they seeded different rows.
func freshSeeds(ctx context.Context) (map[string]map[string]bool, error) {
	pool, err := sql.Open("sqlite", "file::memory:?_pragma=foreign_keys(1)")
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	pool.SetMaxOpenConns(1) // one connection: each would be its own in-memory database
	pool.SetMaxIdleConns(1)
	pool.SetConnMaxLifetime(0)
	pool.SetConnMaxIdleTime(0)
	ref := &DB{read: pool, write: pool, dialect: sqliteDialect, location: "a fresh schema", now: time.Now}
	if err := ref.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate a fresh schema for reference: %w", err)
	}
	seeds := map[string]map[string]bool{}
	for _, name := range copyTables {
		info, err := ref.tableInfo(ctx, pool, name)
		if err != nil {
			return nil, err
		}
		keys, err := rowKeys(ctx, pool, info, -1)
		if err != nil {
			return nil, err
		}
		if len(keys) > 0 {
			seeds[name] = map[string]bool{}
			for _, k := range keys {
				seeds[name][k] = true
			}
		}
	}
	return seeds, nil
}

// rowKeys returns the canonical keys (primary key values, or the whole row for a table
// without one) of up to limit rows of the table (all when limit < 0).
func rowKeys(ctx context.Context, q querier, t *tableInfo, limit int) ([]string, error) {
	cols := t.key
	if len(cols) == 0 {
		cols = t.colNames()
	}
	query := "SELECT " + quoteList(cols) + " FROM " + quoteIdent(t.name)
	if limit >= 0 {
		query += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	vals, ptrs := scanTargets(len(cols))
	var keys []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		keys = append(keys, canonicalKey(vals))
	}
	return keys, rows.Err()
}

// onlySeeds returns ECONFLICT when the table holds a row other than the seeds.
func (db *DB) onlySeeds(ctx context.Context, q querier, t *tableInfo, seeds map[string]bool) error {
	keys, err := rowKeys(ctx, q, t, len(seeds)+1)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !seeds[k] {
			var n int64
			if err := queryRow(ctx, q, "SELECT count(*) FROM "+quoteIdent(t.name), &n); err != nil {
				return err
			}
			return helpportal.Errorf(helpportal.ECONFLICT, "%s already holds portal data (table %s has %d rows); copy needs an empty destination.", db.location, t.name, n)
		}
	}
	return nil
}

func queryRow(ctx context.Context, q querier, query string, dest ...any) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// clearSeeds refuses a destination with portal data, then deletes what its migrations
// seeded: the source holds its own version of those rows.
func (db *DB) clearSeeds(ctx context.Context, tx *sql.Tx, tables map[string]*tableInfo, seeds map[string]map[string]bool) error {
	for _, name := range copyTables {
		if err := db.onlySeeds(ctx, tx, tables[name], seeds[name]); err != nil {
			return err
		}
	}
	for i := len(copyTables) - 1; i >= 0; i-- { // children first
		if len(seeds[copyTables[i]]) == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(copyTables[i])); err != nil {
			return err
		}
	}
	return nil
}

// copyTable streams one table from the source snapshot into the destination transaction in
// multi-row INSERTs, and returns the number of rows.
func copyTable(ctx context.Context, src *sql.Tx, st *tableInfo, dst *DB, tx *sql.Tx, dt *tableInfo) (int64, error) {
	names := dt.colNames()
	query := "SELECT " + quoteList(names) + " FROM " + quoteIdent(st.name)
	if len(st.key) > 0 {
		query += " ORDER BY " + quoteList(st.key) // index order: cheap to read, cheap to insert
	}
	rows, err := src.QueryContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	perBatch := max(1, min(copyBatchRows, copyBatchParams/len(names)))
	w := &batchWriter{ctx: ctx, db: dst, tx: tx, t: dt, perBatch: perBatch}
	defer w.close()
	selfRef := dt.parent != "" && len(dt.key) == 1
	var all [][]any // a self-referencing table is read whole, to write parents first
	for rows.Next() {
		vals, ptrs := scanTargets(len(names))
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		if selfRef {
			all = append(all, vals)
			continue
		}
		if err := w.add(vals); err != nil {
			return 0, err
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if selfRef {
		for _, vals := range parentsFirst(all, slices.Index(names, dt.key[0]), slices.Index(names, dt.parent)) {
			if err := w.add(vals); err != nil {
				return 0, err
			}
		}
	}
	if err := w.flush(); err != nil {
		return 0, err
	}
	return w.written, nil
}

// parentsFirst orders rows so that each row's parent (the value in column ref, matching
// another row's column key) comes before it. Rows whose parent is missing or in a cycle keep
// their place at the end; the foreign key then reports them.
func parentsFirst(rows [][]any, key, ref int) [][]any {
	byKey := make(map[string]bool, len(rows))
	for _, r := range rows {
		byKey[canonicalKey(r[key:key+1])] = true
	}
	done := make(map[string]bool, len(rows))
	out := make([][]any, 0, len(rows))
	for pending := rows; len(pending) > 0; {
		var next [][]any
		for _, r := range pending {
			p := r[ref]
			pk := canonicalKey([]any{p})
			if p == nil || done[pk] || !byKey[pk] {
				out = append(out, r)
				done[canonicalKey(r[key:key+1])] = true
			} else {
				next = append(next, r)
			}
		}
		if len(next) == len(pending) { // a cycle: nothing more can go first
			return append(out, next...)
		}
		pending = next
	}
	return out
}

// batchWriter collects rows and writes them perBatch at a time with one prepared statement.
type batchWriter struct {
	ctx      context.Context
	db       *DB
	tx       *sql.Tx
	t        *tableInfo
	perBatch int
	args     []any
	n        int // rows in args
	full     *sql.Stmt
	written  int64
}

func (w *batchWriter) add(vals []any) error {
	for i, c := range w.t.cols {
		v, err := convertValue(vals[i], c.kind)
		if err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
		w.args = append(w.args, v)
	}
	w.n++
	if w.n < w.perBatch {
		return nil
	}
	if w.full == nil {
		stmt, err := w.tx.PrepareContext(w.ctx, w.insert(w.perBatch))
		if err != nil {
			return err
		}
		w.full = stmt
	}
	return w.exec(w.full.ExecContext(w.ctx, w.args...))
}

func (w *batchWriter) flush() error {
	if w.n == 0 {
		return nil
	}
	return w.exec(w.tx.ExecContext(w.ctx, w.insert(w.n), w.args...))
}

func (w *batchWriter) exec(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n != int64(w.n) {
		return fmt.Errorf("wrote %d of %d rows", n, w.n)
	}
	w.written += int64(w.n)
	w.args, w.n = w.args[:0], 0
	return nil
}

func (w *batchWriter) close() {
	if w.full != nil {
		_ = w.full.Close() // the transaction's end releases it anyway
	}
}

// insert is the INSERT of n rows.
func (w *batchWriter) insert(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + quoteIdent(w.t.name) + " (" + quoteList(w.t.colNames()) + ")")
	if w.t.overriding {
		b.WriteString(" OVERRIDING SYSTEM VALUE")
	}
	b.WriteString(" VALUES ")
	row := make([]string, len(w.t.cols))
	for i, c := range w.t.cols {
		row[i] = "?"
		if c.kind == kindBool && w.db.dialect.name == "postgres" {
			// The connection sends Go bools as 0/1 (flags are integers in this schema); a
			// true boolean column takes them through a cast.
			row[i] = "CAST(CAST(? AS INTEGER) AS BOOLEAN)"
		}
	}
	tuple := "(" + strings.Join(row, ", ") + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	return b.String()
}

// convertValue turns a value as one driver read it into what the destination column of
// kind k stores. The schema keeps times as Unix milliseconds and flags as 0/1 integers in
// both dialects, so its values pass through unchanged, as does anything of a kind not
// listed (blobs among them); what differs is a true boolean (bool on PostgreSQL, 0/1 on
// SQLite), a blob that SQLite kept in a TEXT column (text on PostgreSQL), and empty blobs.
func convertValue(v any, k colKind) (any, error) {
	if v == nil {
		return nil, nil
	}
	if b, ok := v.([]byte); ok && b == nil {
		// SQLite's driver reads an empty blob as a nil slice, and binds a nil slice as NULL:
		// an empty value must stay empty, not become NULL.
		v = []byte{}
	}
	switch k {
	case kindInt, kindBool:
		switch x := v.(type) {
		case int64:
			if k == kindBool && x != 0 && x != 1 {
				return nil, fmt.Errorf("%d is not a flag (0 or 1)", x)
			}
			return x, nil
		case bool:
			return boolInt(x), nil
		}
		return nil, fmt.Errorf("%v (%T) is not a whole number", v, v)
	case kindReal:
		if x, ok := v.(float64); ok {
			return x, nil
		}
		return nil, fmt.Errorf("%v (%T) is not a number", v, v)
	case kindText:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
		return nil, fmt.Errorf("%v (%T) is not text", v, v)
	}
	return v, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// resetSequences moves every PostgreSQL identity sequence past the largest copied value, so
// the next row inserted without an ID gets a new one.
func (db *DB) resetSequences(ctx context.Context, tx *sql.Tx, tables map[string]*tableInfo) error {
	if db.dialect.name != "postgres" {
		return nil // SQLite takes the next rowid from the table itself (and AUTOINCREMENT's counter follows inserts)
	}
	for _, name := range copyTables {
		for _, col := range tables[name].identity {
			_, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, ?),
				coalesce((SELECT max(`+quoteIdent(col)+`) FROM `+quoteIdent(name)+`), 0) + 1, false)`,
				quoteIdent(db.schema)+"."+quoteIdent(name), col)
			if err != nil {
				return fmt.Errorf("reset the sequence of %s.%s: %w", name, col, err)
			}
		}
	}
	return nil
}

func scanTargets(n int) ([]any, []any) {
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return vals, ptrs
}

// canonicalKey spells values the same whichever driver read them (pgx reads a SMALLINT as
// int64 too, and both read TEXT as string), for comparing keys across dialects.
func canonicalKey(vals []any) string {
	var b strings.Builder
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			b.WriteString("N")
		case int64:
			b.WriteString("i" + strconv.FormatInt(x, 10))
		case bool:
			b.WriteString("i" + strconv.FormatInt(boolInt(x), 10))
		case string:
			b.WriteString("s" + strconv.Quote(x))
		case []byte:
			b.WriteString("s" + strconv.Quote(string(x)))
		default:
			fmt.Fprintf(&b, "v%v", x)
		}
		b.WriteByte(0)
	}
	return b.String()
}

// quoteIdent quotes a table or column name the way both dialects read it.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}
