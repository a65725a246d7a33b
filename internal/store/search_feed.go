package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"helpportal"
)

// Change is one entry of the change log: what kind of thing changed and which one.
type Change struct {
	Seq      int64
	Entity   string // "article", "category", "announcement", "search_pins", "search_settings"
	EntityID int64
	Op       string
}

// ChangesSince returns up to limit changes with a sequence number above after, oldest first.
func (db *DB) ChangesSince(ctx context.Context, after int64, limit int) ([]Change, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT seq, entity, entity_id, op FROM changes WHERE seq > ? ORDER BY seq LIMIT ?`,
		after, max(limit, 1))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.Seq, &c.Entity, &c.EntityID, &c.Op); err != nil {
			return nil, translate(err)
		}
		out = append(out, c)
	}
	return out, translate(rows.Err())
}

// LatestChange returns the newest change number in the store (0 for none). Unlike
// PollChanges it reports what the store holds, whatever this process has seen.
func (db *DB) LatestChange(ctx context.Context) (int64, error) {
	return db.PollChanges(ctx)
}

// SearchDoc is what the search index needs of one article. HTML is empty unless asked for.
type SearchDoc struct {
	ID           int64
	Slug         string
	Title        string
	Summary      string
	Type         helpportal.ArticleType
	HTML         string
	Headings     []string
	Tags         []string
	CategoryID   int64
	CategoryPath []*helpportal.Category // root first, ending with the article's own category
	Status       helpportal.Status
	Visibility   helpportal.Visibility
	UpdatedAt    time.Time
	Views        int64
	Helpful      int64
	NotHelpful   int64
}

const searchDocCols = `a.id, a.slug, a.title, a.summary, a.type, %s, a.category_id, a.status, a.visibility,
	a.updated_at, a.views, a.helpful, a.not_helpful`

// SearchDocs returns the articles with the given IDs (any status and visibility: the index
// filters by viewer itself). IDs with no article, such as deleted ones, are left out.
func (db *DB) SearchDocs(ctx context.Context, ids []int64, withHTML bool) ([]*SearchDoc, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []*SearchDoc
	tree, err := db.categoryTree(ctx)
	if err != nil {
		return nil, err
	}
	for start := 0; start < len(ids); start += 500 { // SQLite caps bound parameters
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		docs, err := db.searchDocs(ctx, tree, `a.id IN (`+placeholders(len(chunk))+`)`, args, withHTML)
		if err != nil {
			return nil, err
		}
		out = append(out, docs...)
	}
	return out, nil
}

// SearchDocPage returns up to limit articles with IDs above afterID, in ID order: the full
// rebuild and the in-memory catalogue read the store this way, in pages.
func (db *DB) SearchDocPage(ctx context.Context, afterID int64, limit int, withHTML bool) ([]*SearchDoc, error) {
	tree, err := db.categoryTree(ctx)
	if err != nil {
		return nil, err
	}
	return db.searchDocs(ctx, tree, `a.id > ? ORDER BY a.id LIMIT ?`, []any{afterID, max(limit, 1)}, withHTML)
}

func (db *DB) categoryTree(ctx context.Context) (*helpportal.CategoryTree, error) {
	// Categories() would count articles per category, which costs a scan on large stores.
	rows, err := db.read.QueryContext(ctx, `SELECT id, slug, name, coalesce(parent_id, 0), position FROM categories
		ORDER BY coalesce(parent_id, 0), position, name`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var cats []*helpportal.Category
	for rows.Next() {
		c := &helpportal.Category{}
		if err := rows.Scan(&c.ID, &c.Slug, &c.Name, &c.ParentID, &c.Position); err != nil {
			return nil, translate(err)
		}
		cats = append(cats, c)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	return helpportal.NewCategoryTree(cats), nil
}

func (db *DB) searchDocs(ctx context.Context, tree *helpportal.CategoryTree, where string, args []any, withHTML bool) ([]*SearchDoc, error) {
	extra := `'', '[]'`
	if withHTML {
		extra = `a.html, a.toc`
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+fmt.Sprintf(searchDocCols, extra)+` FROM articles a WHERE `+where, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []*SearchDoc
	byID := map[int64]*SearchDoc{}
	for rows.Next() {
		d := &SearchDoc{}
		var toc string
		var updated int64
		if err := rows.Scan(&d.ID, &d.Slug, &d.Title, &d.Summary, &d.Type, &d.HTML, &toc, &d.CategoryID, &d.Status,
			&d.Visibility, &updated, &d.Views, &d.Helpful, &d.NotHelpful); err != nil {
			return nil, translate(err)
		}
		d.UpdatedAt = fromMillis(updated)
		if toc != "[]" {
			var hs []helpportal.Heading
			if err := json.Unmarshal([]byte(toc), &hs); err != nil {
				return nil, fmt.Errorf("article %d toc: %w", d.ID, err)
			}
			for _, h := range hs {
				d.Headings = append(d.Headings, h.Text)
			}
		}
		d.CategoryPath = tree.Path(d.CategoryID)
		out = append(out, d)
		byID[d.ID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	// Tags in one query for the whole page rather than one per article.
	targs := make([]any, len(out))
	for i, d := range out {
		targs[i] = d.ID
	}
	trows, err := db.read.QueryContext(ctx, `SELECT article_id, tag FROM article_tags WHERE article_id IN (`+
		placeholders(len(out))+`) ORDER BY article_id, tag`, targs...)
	if err != nil {
		return nil, translate(err)
	}
	defer trows.Close()
	for trows.Next() {
		var id int64
		var tag string
		if err := trows.Scan(&id, &tag); err != nil {
			return nil, translate(err)
		}
		if d := byID[id]; d != nil {
			d.Tags = append(d.Tags, tag)
		}
	}
	return out, translate(trows.Err())
}

// ArticleText is what a search snippet is cut from.
type ArticleText struct {
	Summary string
	HTML    string
}

// ArticleTexts returns the summary and HTML of the articles with the given IDs (at most
// 500; search pages show far fewer). Unknown IDs are left out.
func (db *DB) ArticleTexts(ctx context.Context, ids []int64) (map[int64]ArticleText, error) {
	out := make(map[int64]ArticleText, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ids = ids[:min(len(ids), 500)]
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, summary, html FROM articles WHERE id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var t ArticleText
		if err := rows.Scan(&id, &t.Summary, &t.HTML); err != nil {
			return nil, translate(err)
		}
		out[id] = t
	}
	return out, translate(rows.Err())
}

// ArticleIDsUnderCategory returns the IDs of the articles in the category and all its
// sub-categories: renaming or moving a category changes what their index entries hold.
func (db *DB) ArticleIDsUnderCategory(ctx context.Context, categoryID int64) ([]int64, error) {
	rows, err := db.read.QueryContext(ctx, `WITH RECURSIVE sub(id) AS (SELECT CAST(? AS BIGINT) UNION ALL
		SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id)
		SELECT a.id FROM articles a WHERE a.category_id IN (SELECT id FROM sub) ORDER BY a.id`, categoryID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, translate(err)
		}
		ids = append(ids, id)
	}
	return ids, translate(rows.Err())
}

// ArticleStat is the reader feedback the ranking uses as a gentle tie-breaker.
type ArticleStat struct {
	ID, Views, Helpful, NotHelpful int64
}

// ArticleStats calls fn for every article's counters. Votes and views do not go through the
// change log (they are not content), so the index refreshes them this way now and then.
func (db *DB) ArticleStats(ctx context.Context, fn func(ArticleStat)) error {
	rows, err := db.read.QueryContext(ctx, `SELECT id, views, helpful, not_helpful FROM articles`)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s ArticleStat
		if err := rows.Scan(&s.ID, &s.Views, &s.Helpful, &s.NotHelpful); err != nil {
			return translate(err)
		}
		fn(s)
	}
	return translate(rows.Err())
}

// SearchPins returns every pinned query with its article slugs in position order.
func (db *DB) SearchPins(ctx context.Context) (map[string][]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT p.query, a.slug FROM search_pins p JOIN articles a ON a.id = p.article_id
		ORDER BY p.query, p.position, a.slug`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	pins := map[string][]string{}
	for rows.Next() {
		var q, slug string
		if err := rows.Scan(&q, &slug); err != nil {
			return nil, translate(err)
		}
		pins[q] = append(pins[q], slug)
	}
	return pins, translate(rows.Err())
}

// SetSearchPins replaces the articles pinned to query (already normalised by the caller)
// with slugs, in order; no slugs unpins the query. An unknown slug is EINVALID. The change is
// logged so that every instance's index reloads its pins.
func (db *DB) SetSearchPins(ctx context.Context, query string, slugs []string) error {
	query = strings.TrimSpace(query)
	if query == "" || len(query) > 256 {
		return helpportal.Errorf(helpportal.EINVALID, "A pinned query must be 1 to 256 characters.")
	}
	var seq int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM search_pins WHERE query = ?`, query); err != nil {
			return err
		}
		now := db.now().UnixMilli()
		for i, slug := range slugs {
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM articles WHERE slug = ?`, slug).Scan(&id)
			if err == sql.ErrNoRows {
				return helpportal.Errorf(helpportal.EINVALID, "There is no article %q to pin.", slug)
			} else if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO search_pins (query, article_id, position, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (query, article_id) DO NOTHING`, query, id, i, now); err != nil {
				return err
			}
		}
		var err error
		seq, err = db.recordChange(ctx, tx, "search_pins", 0, "save")
		return err
	})
	if err == nil {
		db.sawChange(seq)
	}
	return err
}

// synonymsKey is the meta key of the site-wide synonym list: one group per line, the
// words or phrases of a group separated by commas.
const synonymsKey = "search.synonyms"

// SearchSynonyms returns the stored synonym list, or ENOTFOUND when none was ever set (the
// search engine then uses its defaults).
func (db *DB) SearchSynonyms(ctx context.Context) (string, error) {
	return db.Meta(ctx, synonymsKey)
}

// SetSearchSynonyms stores the synonym list and logs the change so indexes reload it.
func (db *DB) SetSearchSynonyms(ctx context.Context, list string) error {
	if len(list) > 64<<10 {
		return helpportal.Errorf(helpportal.EINVALID, "The synonym list is larger than 64 KiB.")
	}
	var seq int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, synonymsKey, list); err != nil {
			return err
		}
		var err error
		seq, err = db.recordChange(ctx, tx, "search_settings", 0, "save")
		return err
	})
	if err == nil {
		db.sawChange(seq)
	}
	return err
}

// SearchStat is a batch of counts for one day and normalised query.
type SearchStat struct {
	Day         time.Time // any time in the UTC day
	Query       string
	Searches    int64
	ZeroResults int64
	Results     int64 // the latest search's result count; kept when Searches is 0
	TookMS      int64
	Clicks      int64
	ClickPosSum int64
}

// dayStart is the start of t's UTC day in Unix milliseconds.
func dayStart(t time.Time) int64 {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).UnixMilli()
}

// AddSearchStats adds batched counts to the per-day aggregates in one transaction.
func (db *DB) AddSearchStats(ctx context.Context, stats []SearchStat) error {
	if len(stats) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, s := range stats {
			if s.Query == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO search_queries_daily AS d
				(day, query, searches, zero_results, results, took_ms, clicks, click_pos_sum) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (day, query) DO UPDATE SET searches = d.searches + excluded.searches,
					zero_results = d.zero_results + excluded.zero_results,
					results = CASE WHEN excluded.searches > 0 THEN excluded.results ELSE d.results END,
					took_ms = d.took_ms + excluded.took_ms, clicks = d.clicks + excluded.clicks,
					click_pos_sum = d.click_pos_sum + excluded.click_pos_sum`,
				dayStart(s.Day), s.Query, s.Searches, s.ZeroResults, s.Results, s.TookMS, s.Clicks, s.ClickPosSum); err != nil {
				return err
			}
		}
		return nil
	})
}

// QueryStat is one query's totals over a period.
type QueryStat struct {
	Query       string  `json:"query"`
	Searches    int64   `json:"searches"`
	ZeroResults int64   `json:"zero_results"`
	Results     int64   `json:"results"` // of the latest day's latest search
	Clicks      int64   `json:"clicks"`
	ClickRate   float64 `json:"click_through"`       // clicks per search
	MeanClick   float64 `json:"mean_click_position"` // 1-based; 0 without clicks
	MeanTookMS  float64 `json:"mean_took_ms"`
}

// SearchReport is what the analytics endpoint shows.
type SearchReport struct {
	Since       time.Time   `json:"since"`
	Searches    int64       `json:"searches"`
	ZeroResults int64       `json:"zero_results"`
	Clicks      int64       `json:"clicks"`
	Top         []QueryStat `json:"top_queries"`
	Zero        []QueryStat `json:"zero_result_queries"`
	LowClicks   []QueryStat `json:"low_click_through_queries"`
}

// SearchAnalytics summarises the days from since on: the most searched queries, queries
// that found nothing, and queries searched at least minSearches times whose click-through is
// under 25 %, each list at most limit long.
func (db *DB) SearchAnalytics(ctx context.Context, since time.Time, limit int, minSearches int64) (*SearchReport, error) {
	rep := &SearchReport{Since: time.UnixMilli(dayStart(since)).UTC(), Top: []QueryStat{}, Zero: []QueryStat{}, LowClicks: []QueryStat{}}
	from := dayStart(since)
	if err := db.read.QueryRowContext(ctx, `SELECT CAST(coalesce(sum(searches), 0) AS BIGINT), CAST(coalesce(sum(zero_results), 0) AS BIGINT),
		CAST(coalesce(sum(clicks), 0) AS BIGINT) FROM search_queries_daily WHERE day >= ?`, from).Scan(&rep.Searches, &rep.ZeroResults, &rep.Clicks); err != nil {
		return nil, translate(err)
	}
	// Aggregated in a subquery so that the lists filter and sort by the totals' names
	// (PostgreSQL does not accept output names in HAVING). Sums are cast back to integers,
	// which PostgreSQL would otherwise return as numeric.
	const agg = `SELECT query, s, z, r, c, p, t FROM (SELECT query, CAST(sum(searches) AS BIGINT) s, CAST(sum(zero_results) AS BIGINT) z,
		(SELECT d2.results FROM search_queries_daily d2 WHERE d2.query = d.query AND d2.day >= ? ORDER BY d2.day DESC LIMIT 1) r,
		CAST(sum(clicks) AS BIGINT) c, CAST(sum(click_pos_sum) AS BIGINT) p, CAST(sum(took_ms) AS BIGINT) t
		FROM search_queries_daily d WHERE day >= ? GROUP BY query) agg `
	list := func(tail string, args ...any) ([]QueryStat, error) {
		rows, err := db.read.QueryContext(ctx, agg+tail, append([]any{from, from}, args...)...)
		if err != nil {
			return nil, translate(err)
		}
		defer rows.Close()
		out := []QueryStat{}
		for rows.Next() {
			var q QueryStat
			var posSum, took int64
			if err := rows.Scan(&q.Query, &q.Searches, &q.ZeroResults, &q.Results, &q.Clicks, &posSum, &took); err != nil {
				return nil, translate(err)
			}
			if q.Searches > 0 {
				q.ClickRate = float64(q.Clicks) / float64(q.Searches)
				q.MeanTookMS = float64(took) / float64(q.Searches)
			}
			if q.Clicks > 0 {
				q.MeanClick = float64(posSum) / float64(q.Clicks)
			}
			out = append(out, q)
		}
		return out, translate(rows.Err())
	}
	var err error
	if rep.Top, err = list(`WHERE s > 0 ORDER BY s DESC, query LIMIT ?`, limit); err != nil {
		return nil, err
	}
	if rep.Zero, err = list(`WHERE z > 0 ORDER BY z DESC, query LIMIT ?`, limit); err != nil {
		return nil, err
	}
	if rep.LowClicks, err = list(`WHERE s >= ? AND z < s AND c * 4 < s ORDER BY s DESC, query LIMIT ?`, minSearches, limit); err != nil {
		return nil, err
	}
	return rep, nil
}
