package store

import (
	"context"
	"database/sql"

	"helpportal"
)

// Categories returns every category, parents before children, each with the number of
// articles v may see in it (not counting sub-categories).
func (db *DB) Categories(ctx context.Context, v helpportal.Viewer) ([]*helpportal.Category, error) {
	vis, args := visibilityClause("a", v)
	rows, err := db.read.QueryContext(ctx, `
		SELECT c.id, c.slug, c.name, c.description, coalesce(c.parent_id, 0), c.position,
		       (SELECT count(*) FROM articles a WHERE a.category_id = c.id AND `+vis+`)
		FROM categories c
		ORDER BY coalesce(c.parent_id, 0), c.position, c.name`, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var cats []*helpportal.Category
	for rows.Next() {
		c := &helpportal.Category{}
		if err := rows.Scan(&c.ID, &c.Slug, &c.Name, &c.Description, &c.ParentID, &c.Position, &c.Articles); err != nil {
			return nil, translate(err)
		}
		cats = append(cats, c)
	}
	return cats, translate(rows.Err())
}

// CategoryBySlug returns the category or ENOTFOUND.
func (db *DB) CategoryBySlug(ctx context.Context, slug string) (*helpportal.Category, error) {
	c := &helpportal.Category{}
	err := db.read.QueryRowContext(ctx, `
		SELECT id, slug, name, description, coalesce(parent_id, 0), position
		FROM categories WHERE slug = ?`, slug).
		Scan(&c.ID, &c.Slug, &c.Name, &c.Description, &c.ParentID, &c.Position)
	if err == sql.ErrNoRows {
		return nil, helpportal.Errorf(helpportal.ENOTFOUND, "There is no category %q.", slug)
	}
	return c, translate(err)
}

// SaveCategory creates the category or updates the one with the same slug; c.ID is set.
func (db *DB) SaveCategory(ctx context.Context, c *helpportal.Category) error {
	if err := c.Validate(); err != nil {
		return err
	}
	var seq int64
	err := db.inChangeTx(ctx, func(tx *sql.Tx) error {
		var err error
		seq, err = db.saveCategory(ctx, tx, c)
		return err
	})
	if err == nil {
		db.sawChange(seq)
	}
	return err
}

func (db *DB) saveCategory(ctx context.Context, tx *sql.Tx, c *helpportal.Category) (int64, error) {
	var parent any
	if c.ParentID != 0 {
		var ok int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM categories WHERE id = ?`, c.ParentID).Scan(&ok); err != nil {
			return 0, err
		}
		if ok == 0 {
			return 0, helpportal.Errorf(helpportal.EINVALID, "The parent of category %q does not exist.", c.Slug)
		}
		parent = c.ParentID
	}
	now := db.now().UnixMilli()
	var id, oldParent int64
	var oldName, oldDesc string
	var oldPos int
	err := tx.QueryRowContext(ctx, `SELECT id, name, description, coalesce(parent_id, 0), position FROM categories WHERE slug = ?`,
		c.Slug).Scan(&id, &oldName, &oldDesc, &oldParent, &oldPos)
	switch {
	case err == sql.ErrNoRows:
		if err := tx.QueryRowContext(ctx, `INSERT INTO categories (slug, name, description, parent_id, position, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.Slug, c.Name, c.Description, parent, c.Position, now, now).Scan(&id); err != nil {
			return 0, err
		}
	case err != nil:
		return 0, err
	case oldName == c.Name && oldDesc == c.Description && oldParent == c.ParentID && oldPos == c.Position:
		c.ID = id
		return 0, nil // unchanged: no write, no change record
	default:
		if c.ParentID == id {
			return 0, helpportal.Errorf(helpportal.EINVALID, "A category cannot be its own parent.")
		}
		if c.ParentID != 0 {
			// Refuse cycles: the new parent must not sit below this category.
			var below int
			if err := tx.QueryRowContext(ctx, `
				WITH RECURSIVE up(id, parent_id) AS (
					SELECT id, parent_id FROM categories WHERE id = ?
					UNION ALL SELECT c.id, c.parent_id FROM categories c JOIN up ON c.id = up.parent_id)
				SELECT count(*) FROM up WHERE id = ?`, c.ParentID, id).Scan(&below); err != nil {
				return 0, err
			}
			if below > 0 {
				return 0, helpportal.Errorf(helpportal.EINVALID, "Category %q cannot move below one of its own sub-categories.", c.Slug)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE categories SET name = ?, description = ?, parent_id = ?, position = ?, updated_at = ?
			WHERE id = ?`, c.Name, c.Description, parent, c.Position, now, id); err != nil {
			return 0, err
		}
	}
	c.ID = id
	return db.recordChange(ctx, tx, "category", id, "save")
}
