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
	src, err := db.read.BeginTx(ctx, &sql.TxOptions{Isolation: db.dialect.snapshot, ReadOnly: true})
	if err != nil {
		return nil, translate(err)
	}
	defer src.Rollback() // read-only: nothing to commit
	srcTables, err := db.copySchema(ctx, src)
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
		// and let it wait for the copy; on PostgreSQL it is also woken when the copy commits.
		if err := dst.lockChangeLog(ctx, tx); err != nil {
			return err
		}
		dstTables, err := dst.copySchema(ctx, tx)
		if err != nil {
			return err
		}
		if err := sameSchema(ctx, db, src, srcTables, dst, tx, dstTables); err != nil {
			return err
		}
		for _, name := range copyTables {
			if err := dst.mustBeEmpty(ctx, tx, name); err != nil {
				return err
			}
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
	if dst.dialect.analyze != "" {
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

// CheckEmpty returns ECONFLICT naming a table that holds rows, and EINVALID for a table that is not helpportal's. Tables not yet created
// count as empty, so it may run before Migrate: `helpportal copy` refuses a full destination
// before changing its schema. CopyTo checks again inside its transaction.
func (db *DB) CheckEmpty(ctx context.Context) error {
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
		if err := db.mustBeEmpty(ctx, db.read, name); err != nil {
			return translate(err)
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
		if c.kind == kindBool {
			row[i] = w.db.dialect.boolParam
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
	if !db.dialect.sequences {
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
