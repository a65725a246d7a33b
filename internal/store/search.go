package store

import (
	"context"
	"strings"

	"helpportal"
)

// SearchArticles returns the visible articles whose title or summary contain every word of
// q (case-insensitive for ASCII), titles matches first. It is the simple search that serves
// until the full-text index takes over.
func (db *DB) SearchArticles(ctx context.Context, v helpportal.Viewer, q string, limit, offset int) ([]*helpportal.Article, int, error) {
	vis, args := visibilityClause("a", v)
	where := []string{vis}
	var titleHits []string
	var titleArgs []any
	for i, w := range strings.Fields(strings.ToLower(q)) {
		if i == 8 {
			break
		}
		// LIKE on lowered text is the substring test both dialects share (instr is SQLite's,
		// strpos PostgreSQL's); the word's own % and _ are escaped.
		pattern := "%" + likeEscape(w) + "%"
		where = append(where, `lower(a.title || ' ' || a.summary) LIKE ? ESCAPE '\'`)
		args = append(args, pattern)
		titleHits = append(titleHits, `CASE WHEN lower(a.title) LIKE ? ESCAPE '\' THEN 1 ELSE 0 END`)
		titleArgs = append(titleArgs, pattern)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM articles a WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	order := "a.views DESC, a.id"
	if len(titleHits) > 0 {
		order = "(" + strings.Join(titleHits, " + ") + ") DESC, " + order
	}
	all := append(append(args, titleArgs...), limit, offset)
	rows, err := db.read.QueryContext(ctx, `SELECT `+listCols+` FROM articles a JOIN categories c ON c.id = a.category_id
		WHERE `+cond+` ORDER BY `+order+` LIMIT ? OFFSET ?`, all...)
	if err != nil {
		return nil, 0, translate(err)
	}
	list, err := collect(rows)
	return list, total, err
}
