package store

import (
	"context"
	"database/sql"
	"time"

	"helpportal"
	"helpportal/internal/markdown"
)

const announcementCols = `id, slug, title, body, html, severity, starts_at, ends_at, created_at, updated_at`

func scanAnnouncement(s scanner) (*helpportal.Announcement, error) {
	a := &helpportal.Announcement{}
	var starts, ends, created, updated int64
	if err := s.Scan(&a.ID, &a.Slug, &a.Title, &a.Body, &a.HTML, &a.Severity, &starts, &ends, &created, &updated); err != nil {
		return nil, err
	}
	a.StartsAt, a.EndsAt, a.CreatedAt, a.UpdatedAt = fromMillis(starts), fromMillis(ends), fromMillis(created), fromMillis(updated)
	return a, nil
}

func (db *DB) announcements(ctx context.Context, query string, args ...any) ([]*helpportal.Announcement, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var list []*helpportal.Announcement
	for rows.Next() {
		a, err := scanAnnouncement(rows)
		if err != nil {
			return nil, translate(err)
		}
		list = append(list, a)
	}
	return list, translate(rows.Err())
}

// Announcements returns those that have started by now, newest first.
func (db *DB) Announcements(ctx context.Context, now time.Time, limit int) ([]*helpportal.Announcement, error) {
	return db.announcements(ctx, `SELECT `+announcementCols+` FROM announcements WHERE starts_at <= ?
		ORDER BY starts_at DESC, id DESC LIMIT ?`, now.UnixMilli(), limit)
}

// ActiveAnnouncements returns those active at now, most severe first.
func (db *DB) ActiveAnnouncements(ctx context.Context, now time.Time) ([]*helpportal.Announcement, error) {
	ms := now.UnixMilli()
	return db.announcements(ctx, `SELECT `+announcementCols+` FROM announcements
		WHERE starts_at <= ? AND (ends_at = 0 OR ends_at > ?)
		ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, starts_at DESC`, ms, ms)
}

// AnnouncementBySlug returns a started announcement or ENOTFOUND.
func (db *DB) AnnouncementBySlug(ctx context.Context, now time.Time, slug string) (*helpportal.Announcement, error) {
	a, err := scanAnnouncement(db.read.QueryRowContext(ctx, `SELECT `+announcementCols+` FROM announcements
		WHERE slug = ? AND starts_at <= ?`, slug, now.UnixMilli()))
	if err == sql.ErrNoRows {
		return nil, helpportal.Errorf(helpportal.ENOTFOUND, "There is no announcement %q.", slug)
	}
	return a, translate(err)
}

// SaveAnnouncement creates or updates (by slug) an announcement, rendering its body.
func (db *DB) SaveAnnouncement(ctx context.Context, a *helpportal.Announcement) error {
	if err := a.Validate(); err != nil {
		return err
	}
	res, err := markdown.Render(a.Body)
	if err != nil {
		return helpportal.Errorf(helpportal.EINVALID, "The announcement body could not be rendered: %v", err)
	}
	a.HTML = res.HTML
	var seq int64
	err = db.inChangeTx(ctx, func(tx *sql.Tx) error {
		now := db.now().UnixMilli()
		err := tx.QueryRowContext(ctx, `INSERT INTO announcements (slug, title, body, html, severity, starts_at, ends_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (slug) DO UPDATE SET title = excluded.title, body = excluded.body, html = excluded.html,
				severity = excluded.severity, starts_at = excluded.starts_at, ends_at = excluded.ends_at, updated_at = excluded.updated_at
			RETURNING id`, a.Slug, a.Title, a.Body, a.HTML, a.Severity, millis(a.StartsAt), millis(a.EndsAt), now, now).Scan(&a.ID)
		if err != nil {
			return err
		}
		seq, err = db.recordChange(ctx, tx, "announcement", a.ID, "save")
		return err
	})
	if err == nil {
		db.sawChange(seq)
	}
	return err
}
