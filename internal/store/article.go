package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"

	"helpportal"
	"helpportal/internal/markdown"
)

const articleCols = `a.id, a.slug, a.title, a.summary, a.type, a.body, a.html, a.toc, a.steps, a.words,
	a.category_id, c.slug, c.name, coalesce(c.parent_id, 0), a.status, a.visibility,
	a.created_at, a.updated_at, a.published_at, a.views, a.helpful, a.not_helpful`

// listCols leaves out the bodies: lists never show them.
const listCols = `a.id, a.slug, a.title, a.summary, a.type, '', '', '[]', '[]', a.words,
	a.category_id, c.slug, c.name, coalesce(c.parent_id, 0), a.status, a.visibility,
	a.created_at, a.updated_at, a.published_at, a.views, a.helpful, a.not_helpful`

type scanner interface{ Scan(...any) error }

func scanArticle(s scanner) (*helpportal.Article, error) {
	a := &helpportal.Article{Category: &helpportal.Category{}}
	var toc, steps string
	var created, updated, published int64
	err := s.Scan(&a.ID, &a.Slug, &a.Title, &a.Summary, &a.Type, &a.Body, &a.HTML, &toc, &steps, &a.Words,
		&a.CategoryID, &a.Category.Slug, &a.Category.Name, &a.Category.ParentID, &a.Status, &a.Visibility,
		&created, &updated, &published, &a.Views, &a.Helpful, &a.NotHelpful)
	if err != nil {
		return nil, err
	}
	a.Category.ID = a.CategoryID
	a.CreatedAt, a.UpdatedAt, a.PublishedAt = fromMillis(created), fromMillis(updated), fromMillis(published)
	if toc != "[]" {
		if err := json.Unmarshal([]byte(toc), &a.TOC); err != nil {
			return nil, fmt.Errorf("article %d toc: %w", a.ID, err)
		}
	}
	if steps != "[]" {
		if err := json.Unmarshal([]byte(steps), &a.Steps); err != nil {
			return nil, fmt.Errorf("article %d steps: %w", a.ID, err)
		}
	}
	return a, nil
}

// visibilityClause returns the SQL condition (on alias t) that keeps what v may read.
func visibilityClause(t string, v helpportal.Viewer) (string, []any) {
	vis := v.Visibilities()
	args := make([]any, 0, len(vis)+1)
	cond := t + ".visibility IN (" + placeholders(len(vis)) + ")"
	for _, x := range vis {
		args = append(args, string(x))
	}
	if !v.SeesDrafts() {
		cond = t + ".status = ? AND " + cond
		args = append([]any{string(helpportal.StatusPublished)}, args...)
	}
	return cond, args
}

// ArticleBySlug returns the article v may read, with its tags, or ENOTFOUND.
func (db *DB) ArticleBySlug(ctx context.Context, v helpportal.Viewer, slug string) (*helpportal.Article, error) {
	vis, args := visibilityClause("a", v)
	row := db.read.QueryRowContext(ctx, `SELECT `+articleCols+` FROM articles a JOIN categories c ON c.id = a.category_id
		WHERE a.slug = ? AND `+vis, append([]any{slug}, args...)...)
	a, err := scanArticle(row)
	if err == sql.ErrNoRows {
		return nil, helpportal.Errorf(helpportal.ENOTFOUND, "There is no article %q.", slug)
	}
	if err != nil {
		return nil, translate(err)
	}
	if a.Tags, err = db.tags(ctx, db.read, a.ID); err != nil {
		return nil, err
	}
	return a, nil
}

// querier is what *sql.DB and *sql.Tx share for reading.
type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func (db *DB) tags(ctx context.Context, q querier, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT tag FROM article_tags WHERE article_id = ? ORDER BY tag`, id)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var tags []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, translate(err)
		}
		tags = append(tags, t)
	}
	return tags, translate(rows.Err())
}

// MovedTo returns the current slug of a renamed article's old slug, or ENOTFOUND.
func (db *DB) MovedTo(ctx context.Context, oldSlug string) (string, error) {
	var slug string
	err := db.read.QueryRowContext(ctx, `SELECT a.slug FROM slug_redirects r JOIN articles a ON a.id = r.article_id
		WHERE r.old_slug = ?`, oldSlug).Scan(&slug)
	if err == sql.ErrNoRows {
		return "", helpportal.Errorf(helpportal.ENOTFOUND, "There is no article %q.", oldSlug)
	}
	return slug, translate(err)
}

// Articles returns one page of the articles matching f, without bodies, and the total
// (-1 when f.SkipTotal).
func (db *DB) Articles(ctx context.Context, f helpportal.ArticleFilter) ([]*helpportal.Article, int, error) {
	vis, args := visibilityClause("a", f.Viewer)
	where := []string{vis}
	with := ""
	if f.CategoryID != 0 {
		if f.WithSubcats {
			// The CAST gives PostgreSQL the column's type, which it cannot infer from a bare ?.
			with = `WITH RECURSIVE sub(id) AS (SELECT CAST(? AS BIGINT) UNION ALL SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id) `
			args = append([]any{f.CategoryID}, args...)
			where = append(where, "a.category_id IN (SELECT id FROM sub)")
		} else {
			where = append(where, "a.category_id = ?")
			args = append(args, f.CategoryID)
		}
	}
	if f.Type != "" {
		where = append(where, "a.type = ?")
		args = append(args, string(f.Type))
	}
	if f.Tag != "" {
		where = append(where, "a.id IN (SELECT article_id FROM article_tags WHERE tag = ?)")
		args = append(args, f.Tag)
	}
	cond := strings.Join(where, " AND ")
	total := -1
	if !f.SkipTotal {
		if err := db.read.QueryRowContext(ctx, with+`SELECT count(*) FROM articles a WHERE `+cond, args...).Scan(&total); err != nil {
			return nil, 0, translate(err)
		}
	}
	order := "lower(a.title), a.id"
	switch f.Order {
	case helpportal.OrderUpdated:
		order = "a.updated_at DESC, a.id DESC"
	case helpportal.OrderPopular:
		order = "a.views DESC, a.id DESC" // the tie-breaker runs the index's way, so no sort
	case helpportal.OrderHelpful:
		order = "a.helpful DESC, a.id DESC"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	rows, err := db.read.QueryContext(ctx, with+`SELECT `+listCols+` FROM articles a JOIN categories c ON c.id = a.category_id
		WHERE `+cond+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, translate(err)
	}
	list, err := collect(rows)
	return list, total, err
}

func collect(rows *sql.Rows) ([]*helpportal.Article, error) {
	defer rows.Close()
	var list []*helpportal.Article
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, translate(err)
		}
		list = append(list, a)
	}
	return list, translate(rows.Err())
}

// RelatedArticles returns up to limit articles v may read that share tags or the category
// with a: most shared tags first, then same category, then most viewed.
func (db *DB) RelatedArticles(ctx context.Context, v helpportal.Viewer, a *helpportal.Article, limit int) ([]*helpportal.Article, error) {
	vis, visArgs := visibilityClause("a", v)
	// Candidates come from bounded, indexed lookups (the category's most viewed, each tag's
	// newest), so the cost stays flat however many articles share a popular tag. CROSS JOIN
	// keeps SQLite's planner from scanning all articles and probing the candidates instead.
	// (PostgreSQL 15 wants a name for every subquery in FROM.)
	cand := []string{`SELECT id FROM (SELECT id FROM articles WHERE category_id = ? AND id <> ? ORDER BY views DESC LIMIT 100) AS bycat`}
	args := []any{a.CategoryID, a.ID}
	tags := a.Tags[:min(len(a.Tags), 8)]
	for _, t := range tags {
		cand = append(cand, `SELECT article_id FROM (SELECT article_id FROM article_tags WHERE tag = ? AND article_id <> ? ORDER BY article_id DESC LIMIT 50) AS bytag`)
		args = append(args, t, a.ID)
	}
	shared := "" // an ORDER BY term, when there are tags to share
	var sharedArgs []any
	if len(tags) > 0 {
		shared = `(SELECT count(*) FROM article_tags t WHERE t.article_id = a.id AND t.tag IN (` + placeholders(len(tags)) + `)) DESC, `
		for _, t := range tags {
			sharedArgs = append(sharedArgs, t)
		}
	}
	q := `WITH cand(id) AS MATERIALIZED (` + strings.Join(cand, " UNION ") + `)
		SELECT ` + listCols + ` FROM cand CROSS JOIN articles a CROSS JOIN categories c
		WHERE a.id = cand.id AND c.id = a.category_id AND ` + vis + `
		ORDER BY ` + shared + `a.category_id = ? DESC, a.views DESC, a.id
		LIMIT ?`
	args = append(args, visArgs...)
	args = append(args, sharedArgs...)
	args = append(args, a.CategoryID, limit)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows)
}

// render fills the derived fields of a from its Markdown body.
func render(a *helpportal.Article) error {
	res, err := markdown.Render(a.Body)
	if err != nil {
		return helpportal.Errorf(helpportal.EINVALID, "The body of %q could not be rendered: %v", a.Slug, err)
	}
	a.HTML, a.TOC, a.Steps, a.Words = res.HTML, res.Headings, res.Steps, res.Words
	return nil
}

// prepare normalises, validates and renders a; it is the work before any SQL.
func prepare(a *helpportal.Article) error {
	a.Normalize()
	if err := a.Validate(); err != nil {
		return err
	}
	return render(a)
}

// SaveArticle creates a, or updates the article with a's ID (or, without an ID, its slug).
// Renaming leaves a permanent redirect from the old slug. Saving an unchanged article is a
// no-op. It returns EINVALID for bad fields and ECONFLICT when the slug is taken.
func (db *DB) SaveArticle(ctx context.Context, a *helpportal.Article) error {
	if err := prepare(a); err != nil {
		return err
	}
	var seq int64
	err := db.inChangeTx(ctx, func(tx *sql.Tx) error {
		var err error
		seq, err = db.saveArticle(ctx, tx, a)
		return err
	})
	if err == nil {
		db.sawChange(seq)
	}
	return err
}

// SaveArticles saves many articles in one transaction, rendering them in parallel first.
// Any error rolls back the whole batch and names the article.
func (db *DB) SaveArticles(ctx context.Context, list []*helpportal.Article) error {
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				errs[i] = prepare(list[i])
			}
		})
	}
	for i := range list {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	newIDs := make([]bool, len(list)) // to undo the IDs a rolled-back batch handed out
	for i, a := range list {
		newIDs[i] = a.ID == 0
	}
	var seq int64
	err := db.inChangeTx(ctx, func(tx *sql.Tx) error {
		for _, a := range list {
			s, err := db.saveArticle(ctx, tx, a)
			if err != nil {
				if helpportal.ErrorCode(err) == helpportal.ECONFLICT {
					return helpportal.Errorf(helpportal.ECONFLICT, "The slug %q is already used by another article.", a.Slug)
				}
				return err
			}
			seq = max(seq, s)
		}
		return nil
	})
	if err != nil {
		for i, a := range list {
			if newIDs[i] {
				a.ID = 0
			}
		}
		return err
	}
	db.sawChange(seq)
	db.analyzeAfterLoad(ctx, newIDs)
	return nil
}

// analyzeAfterLoad gives PostgreSQL's planner statistics for a bulk load at once, by the
// rule autovacuum follows a minute or more later (50 rows and a tenth of the table): until
// then it guesses, and picks indexes that cost a page view tens of milliseconds. It only
// speeds things up, so a failure is left for autovacuum to make good.
func (db *DB) analyzeAfterLoad(ctx context.Context, newIDs []bool) {
	added := 0
	for _, n := range newIDs {
		if n {
			added++
		}
	}
	if db.dialect.analyze == "" || added < 50 {
		return
	}
	var total int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM articles`).Scan(&total); err == nil && added*10 >= total {
		_, _ = db.write.ExecContext(ctx, db.dialect.analyze) // best effort: autovacuum catches up anyway
	}
}

func (db *DB) saveArticle(ctx context.Context, tx *sql.Tx, a *helpportal.Article) (int64, error) {
	var ok int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM categories WHERE id = ?`, a.CategoryID).Scan(&ok); err != nil {
		return 0, err
	}
	if ok == 0 {
		return 0, helpportal.Errorf(helpportal.EINVALID, "The category of %q does not exist.", a.Slug)
	}
	var row *sql.Row
	if a.ID != 0 {
		row = tx.QueryRowContext(ctx, `SELECT `+articleCols+` FROM articles a JOIN categories c ON c.id = a.category_id WHERE a.id = ?`, a.ID)
	} else {
		row = tx.QueryRowContext(ctx, `SELECT `+articleCols+` FROM articles a JOIN categories c ON c.id = a.category_id WHERE a.slug = ?`, a.Slug)
	}
	old, err := scanArticle(row)
	switch {
	case err == sql.ErrNoRows && a.ID != 0:
		return 0, helpportal.Errorf(helpportal.ENOTFOUND, "There is no article with ID %d.", a.ID)
	case err == sql.ErrNoRows:
		old = nil
	case err != nil:
		return 0, err
	}
	now := fromMillis(db.now().UnixMilli()) // what the column keeps
	// As strings: a []byte would be stored as a blob in SQLite's TEXT columns.
	tocJSON, _ := json.Marshal(nonNil(a.TOC))
	stepsJSON, _ := json.Marshal(nonNil(a.Steps))
	toc, steps := string(tocJSON), string(stepsJSON)
	if old == nil {
		a.CreatedAt, a.UpdatedAt = now, now
		if a.Status == helpportal.StatusPublished {
			a.PublishedAt = now
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO articles (slug, title, summary, type, body, html, toc, steps, words,
			category_id, status, visibility, created_at, updated_at, published_at) VALUES (`+placeholders(15)+`) RETURNING id`,
			a.Slug, a.Title, a.Summary, a.Type, a.Body, a.HTML, toc, steps, a.Words, a.CategoryID, a.Status, a.Visibility,
			millis(a.CreatedAt), millis(a.UpdatedAt), millis(a.PublishedAt)).Scan(&a.ID); err != nil {
			return 0, err
		}
	} else {
		a.ID = old.ID
		oldTags, err := db.tags(ctx, tx, old.ID)
		if err != nil {
			return 0, err
		}
		a.CreatedAt, a.Views, a.Helpful, a.NotHelpful = old.CreatedAt, old.Views, old.Helpful, old.NotHelpful
		if unchanged(old, a, oldTags) {
			a.UpdatedAt, a.PublishedAt = old.UpdatedAt, old.PublishedAt
			return 0, nil
		}
		a.UpdatedAt, a.PublishedAt = now, old.PublishedAt
		if a.Status == helpportal.StatusPublished && a.PublishedAt.IsZero() {
			a.PublishedAt = now
		}
		if _, err := tx.ExecContext(ctx, `UPDATE articles SET slug = ?, title = ?, summary = ?, type = ?, body = ?, html = ?,
			toc = ?, steps = ?, words = ?, category_id = ?, status = ?, visibility = ?, updated_at = ?, published_at = ?
			WHERE id = ?`, a.Slug, a.Title, a.Summary, a.Type, a.Body, a.HTML, toc, steps, a.Words, a.CategoryID,
			a.Status, a.Visibility, millis(a.UpdatedAt), millis(a.PublishedAt), a.ID); err != nil {
			return 0, err
		}
		if old.Slug != a.Slug {
			if _, err := tx.ExecContext(ctx, `INSERT INTO slug_redirects (old_slug, article_id) VALUES (?, ?)
				ON CONFLICT (old_slug) DO UPDATE SET article_id = excluded.article_id`, old.Slug, a.ID); err != nil {
				return 0, err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM article_tags WHERE article_id = ?`, a.ID); err != nil {
			return 0, err
		}
	}
	// A live article always wins over an old slug that pointed elsewhere.
	if _, err := tx.ExecContext(ctx, `DELETE FROM slug_redirects WHERE old_slug = ?`, a.Slug); err != nil {
		return 0, err
	}
	for _, t := range a.Tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO article_tags (article_id, tag) VALUES (?, ?)`, a.ID, t); err != nil {
			return 0, err
		}
	}
	return db.recordChange(ctx, tx, "article", a.ID, "save")
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func unchanged(old, a *helpportal.Article, oldTags []string) bool {
	tags := slices.Clone(a.Tags)
	slices.Sort(tags)
	return old.Slug == a.Slug && old.Title == a.Title && old.Summary == a.Summary && old.Type == a.Type &&
		old.Body == a.Body && old.HTML == a.HTML && old.CategoryID == a.CategoryID && old.Status == a.Status &&
		old.Visibility == a.Visibility && slices.Equal(oldTags, tags)
}

// EachArticle calls fn for every article (drafts and all visibilities) in ID order, with
// its tags. It reads in pages so memory stays flat however large the store is.
func (db *DB) EachArticle(ctx context.Context, fn func(*helpportal.Article) error) error {
	var after int64
	for {
		rows, err := db.read.QueryContext(ctx, `SELECT `+articleCols+` FROM articles a JOIN categories c ON c.id = a.category_id
			WHERE a.id > ? ORDER BY a.id LIMIT 500`, after)
		if err != nil {
			return translate(err)
		}
		page, err := collect(rows)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, a := range page {
			if a.Tags, err = db.tags(ctx, db.read, a.ID); err != nil {
				return err
			}
			if err := fn(a); err != nil {
				return err
			}
			after = a.ID
		}
	}
}

// Vote records voter's vote on the article; voting again replaces the earlier vote.
func (db *DB) Vote(ctx context.Context, articleID int64, voter string, helpful bool) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		// Locking the article's row queues a voter's concurrent votes on PostgreSQL, so the
		// counters move once per change of mind.
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM articles WHERE id = ?`+db.dialect.forUpdate, articleID).Scan(&id)
		if err == sql.ErrNoRows {
			return helpportal.Errorf(helpportal.ENOTFOUND, "There is no such article.")
		} else if err != nil {
			return err
		}
		var prev sql.NullBool
		err = tx.QueryRowContext(ctx, `SELECT helpful FROM votes WHERE article_id = ? AND voter = ?`, articleID, voter).Scan(&prev)
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		if prev.Valid && prev.Bool == helpful {
			return nil
		}
		col := func(h bool) string {
			if h {
				return "helpful"
			}
			return "not_helpful"
		}
		if prev.Valid {
			if _, err := tx.ExecContext(ctx, `UPDATE articles SET `+col(prev.Bool)+` = `+col(prev.Bool)+` - 1 WHERE id = ?`, articleID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE articles SET `+col(helpful)+` = `+col(helpful)+` + 1 WHERE id = ?`, articleID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO votes (article_id, voter, helpful, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (article_id, voter) DO UPDATE SET helpful = excluded.helpful, created_at = excluded.created_at`,
			articleID, voter, helpful, db.now().UnixMilli())
		return err
	})
}

// AddViews adds batched view counts; unknown IDs are ignored.
func (db *DB) AddViews(ctx context.Context, views map[int64]int64) error {
	if len(views) == 0 {
		return nil
	}
	// In ID order: two instances flushing at once on PostgreSQL lock the rows in the same
	// order and so cannot deadlock.
	ids := slices.Sorted(maps.Keys(views))
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE articles SET views = views + ? WHERE id = ?`, views[id], id); err != nil {
				return err
			}
		}
		return nil
	})
}
