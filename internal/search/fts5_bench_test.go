package search_test

// The same corpus and queries through SQLite FTS5 (modernc.org/sqlite, bm25 ranking), for
// the side-by-side the issue asks for. FTS5 has no typo tolerance: typo'd queries run as
// typed. Like the engine, a query matches all its words first and falls back to any word
// when fewer than 10 results hold them all; a count of the matches is part of each search.

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

var (
	ftsOnce sync.Once
	ftsDB   *sql.DB
	ftsErr  error
)

var tagRE = regexp.MustCompile(`<[^>]*>`)

func ftsSetup(b *testing.B, env *benchEnv) *sql.DB {
	ftsOnce.Do(func() {
		path := filepath.Join(env.work, "fts5.db")
		_, statErr := os.Stat(path)
		ftsDB, ftsErr = sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-65536)&_pragma=mmap_size(1073741824)")
		if ftsErr != nil || !os.IsNotExist(statErr) {
			return
		}
		ftsErr = buildFTS(env, ftsDB)
	})
	if ftsErr != nil {
		b.Fatal(ftsErr)
	}
	return ftsDB
}

func buildFTS(env *benchEnv, db *sql.DB) error {
	ctx := context.Background()
	start := time.Now()
	if _, err := db.Exec(`CREATE VIRTUAL TABLE fts USING fts5(title, body, content='', tokenize='porter unicode61')`); err != nil {
		return err
	}
	var after int64
	n := 0
	for {
		docs, err := env.db.SearchDocPage(ctx, after, 1000, true)
		if err != nil {
			return err
		}
		if len(docs) == 0 {
			break
		}
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		for _, d := range docs {
			body := d.Summary + " " + strings.Join(d.Headings, " ") + " " + strings.Join(d.Tags, " ") + " " + tagRE.ReplaceAllString(d.HTML, " ")
			if _, err := tx.Exec(`INSERT INTO fts (rowid, title, body) VALUES (?, ?, ?)`, d.ID, d.Title, body); err != nil {
				tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		n += len(docs)
		after = docs[len(docs)-1].ID
	}
	took := time.Since(start)
	if _, err := db.Exec(`INSERT INTO fts (fts) VALUES ('optimize')`); err != nil {
		return err
	}
	fi, _ := os.Stat(filepath.Join(env.work, "fts5.db"))
	fmt.Fprintf(os.Stderr, "FTS5: %d articles in %s (%.0f/s), optimize %s, %.1f MiB\n", n, took.Round(time.Millisecond),
		float64(n)/took.Seconds(), (time.Since(start) - took).Round(time.Millisecond), float64(fi.Size())/(1<<20))
	return nil
}

// ftsMatch turns words into an FTS5 expression: every word quoted (so no input is syntax),
// joined by AND or OR.
func ftsMatch(q, op string) string {
	var parts []string
	for _, w := range strings.Fields(q) {
		w = strings.Map(func(r rune) rune {
			if r == '"' {
				return -1
			}
			return r
		}, w)
		if w != "" {
			parts = append(parts, `"`+w+`"`)
		}
	}
	return strings.Join(parts, " "+op+" ")
}

func ftsSearch(db *sql.DB, q string) error {
	top := func(expr string) (int, error) {
		rows, err := db.Query(`SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 10.0, 1.0) LIMIT 10`, expr)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		return n, rows.Err()
	}
	expr := ftsMatch(q, "AND")
	if expr == "" {
		return nil
	}
	n, err := top(expr)
	if err != nil {
		return err
	}
	if n < 10 {
		expr = ftsMatch(q, "OR")
		if _, err := top(expr); err != nil {
			return err
		}
	}
	var total int
	return db.QueryRow(`SELECT count(*) FROM fts WHERE fts MATCH ?`, expr).Scan(&total)
}

func BenchmarkFTS5(b *testing.B) {
	env := benchSetup(b)
	db := ftsSetup(b, env)
	for _, set := range []struct {
		name    string
		queries []string
	}{{"clean", env.queries}, {"typo-as-typed", env.typos}} {
		b.Run(set.name, func(b *testing.B) {
			latencies(b, set.queries, func(q string) error { return ftsSearch(db, q) })
		})
	}
	b.Run("prefix-titles", func(b *testing.B) {
		latencies(b, env.prefix, func(q string) error {
			words := strings.Fields(q)
			if len(words) == 0 {
				return nil
			}
			last := words[len(words)-1]
			expr := ftsMatch(strings.Join(words[:len(words)-1], " "), "AND")
			if expr != "" {
				expr += " AND "
			}
			expr = "title : (" + expr + `"` + strings.ReplaceAll(last, `"`, "") + `"*)`
			rows, err := db.Query(`SELECT rowid FROM fts WHERE fts MATCH ? LIMIT 8`, expr)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
			}
			return rows.Err()
		})
	})
}
