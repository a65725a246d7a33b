package store

import (
	"context"
	"database/sql"
	"strings"
)

// dialect is everything that differs between SQLite and PostgreSQL. Queries are written once
// in portable SQL with ? placeholders (rebound for PostgreSQL by the connection wrapper in
// postgres.go); the few fragments that cannot be portable live here and nowhere else.
type dialect struct {
	name string // "sqlite" or "postgres": also the migrations folder
	// skipLocked ends a SELECT that leases rows (the mail outbox): on PostgreSQL another
	// instance's claim passes over rows already being leased instead of taking them twice.
	// SQLite needs nothing: its write transactions run one at a time.
	skipLocked string
	// forUpdate ends a SELECT of a row the transaction goes on to change from what it read
	// (a vote's article), so concurrent writers on PostgreSQL queue instead of both acting
	// on the same old value.
	forUpdate string
	// hasTable counts the tables named ? in the store's own schema (0 or 1).
	hasTable string
	// analyze refreshes the planner's statistics of the tables a bulk import fills; empty
	// on SQLite, whose plans here do not depend on statistics.
	analyze string
	// lockSQL takes a lock on a number until the transaction ends (see (*DB).lockName);
	// empty on SQLite, whose write transactions already run one at a time.
	lockSQL string

	// What `helpportal copy` needs (copy.go, copy_schema.go):
	// snapshot is the isolation of a read-only transaction that sees one state of the store:
	// SQLite's read transaction already does (WAL keeps it while a server writes).
	snapshot sql.IsolationLevel
	// listTables lists the tables of the store's own schema.
	listTables string
	// boolParam is the placeholder for a value of a true boolean column: the PostgreSQL
	// connection sends Go bools as 0/1 (flags are integers in this schema), so a boolean
	// column takes them through a cast.
	boolParam string
	// sequences: identity columns draw from sequences that a copy must move past the copied
	// values (SQLite takes the next rowid from the table itself).
	sequences bool
	// readTable reads a table's columns, keys and references.
	readTable func(ctx context.Context, q querier, name string) (*tableInfo, error)
}

var (
	sqliteDialect = &dialect{
		name:       "sqlite",
		hasTable:   "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
		snapshot:   sql.LevelDefault,
		listTables: `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`,
		boolParam:  "?",
		readTable:  sqliteTableInfo,
	}
	postgresDialect = &dialect{
		name:       "postgres",
		skipLocked: " FOR UPDATE SKIP LOCKED",
		forUpdate:  " FOR UPDATE",
		hasTable:   "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?",
		lockSQL:    "SELECT pg_advisory_xact_lock(?)",
		analyze:    "ANALYZE articles, article_tags, categories",
		snapshot:   sql.LevelRepeatableRead,
		listTables: `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`,
		boolParam:  "CAST(CAST(? AS INTEGER) AS BOOLEAN)",
		sequences:  true,
		readTable:  pgTableInfo,
	}
)

// rebind turns the ? placeholders of query into PostgreSQL's $1, $2, …, leaving question
// marks inside string literals, quoted identifiers and comments alone. It is a single pass
// over a few hundred bytes, far below the cost of the round trip it precedes, so it is not
// cached (BenchmarkRebind).
func rebind(query string) string {
	if strings.IndexByte(query, '?') < 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '?':
			n++
			b.WriteByte('$')
			writeInt(&b, n)
			continue
		case c == '\'' || c == '"': // a literal or quoted identifier: copy it through its end
			j := i + 1
			for j < len(query) && query[j] != c {
				j++
			}
			b.WriteString(query[i:min(j+1, len(query))])
			i = j
			continue
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j - 1
			continue
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			j := strings.Index(query[i+2:], "*/")
			end := len(query)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(query[i:end])
			i = end - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func writeInt(b *strings.Builder, n int) {
	if n >= 10 {
		writeInt(b, n/10)
	}
	b.WriteByte(byte('0' + n%10))
}

// likeEscape escapes s for use inside a LIKE pattern with ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
