package store

import (
	"context"
	"database/sql"
	"time"

	"helpportal"
	"helpportal/internal/mail"
)

// enqueueMail queues m inside tx: the mail exists if and only if the change that caused it
// committed.
func (db *DB) enqueueMail(ctx context.Context, tx *sql.Tx, m *helpportal.OutgoingMail) error {
	now := db.now().UnixMilli()
	_, err := tx.ExecContext(ctx, `INSERT INTO mail_outbox (to_addr, subject, text_body, html_body, message_id, created_at, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, m.To, m.Subject, m.Text, m.HTML, m.MessageID, now, now)
	return err
}

// ClaimMail leases up to n due messages for lease. The lease is taken in the same write
// transaction that selects the rows (on PostgreSQL locking them, and passing over rows
// another instance is leasing right now), so two instances never claim one message.
func (db *DB) ClaimMail(ctx context.Context, now time.Time, n int, lease time.Duration) ([]mail.Message, error) {
	var list []mail.Message
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, to_addr, subject, text_body, html_body, message_id, attempts, created_at
			FROM mail_outbox WHERE sent_at = 0 AND gave_up = 0 AND next_attempt_at <= ? AND lease_until <= ?
			ORDER BY next_attempt_at, id LIMIT ?`+db.dialect.skipLocked, now.UnixMilli(), now.UnixMilli(), n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m mail.Message
			var created int64
			if err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.Text, &m.HTML, &m.MessageID, &m.Attempts, &created); err != nil {
				return err
			}
			m.CreatedAt = fromMillis(created)
			list = append(list, m)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, m := range list {
			if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET lease_until = ? WHERE id = ?`, now.Add(lease).UnixMilli(), m.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return list, err
}

// MailSent marks a message delivered.
func (db *DB) MailSent(ctx context.Context, id int64, at time.Time) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		// A delivered mail's body holds a live link; the database keeps no copy of it.
		_, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET sent_at = ?, lease_until = 0, attempts = attempts + 1,
			text_body = '', html_body = '' WHERE id = ?`, at.UnixMilli(), id)
		return err
	})
}

// MailFailed records a failed attempt and when to try again, or gives up.
func (db *DB) MailFailed(ctx context.Context, id int64, next time.Time, reason string, giveUp bool) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?,
			gave_up = ?, lease_until = 0 WHERE id = ?`, next.UnixMilli(), truncateReason(reason), giveUp, id)
		if err == nil && giveUp {
			_, err = tx.ExecContext(ctx, `UPDATE mail_outbox SET text_body = '', html_body = '' WHERE id = ?`, id)
		}
		return err
	})
}

// ReleaseMail drops leases so another instance may deliver the messages at once.
func (db *DB) ReleaseMail(ctx context.Context, ids []int64) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET lease_until = 0 WHERE id = ? AND sent_at = 0`, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// OutboxDepth counts messages waiting to be delivered.
func (db *DB) OutboxDepth(ctx context.Context) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM mail_outbox WHERE sent_at = 0 AND gave_up = 0`).Scan(&n)
	return n, translate(err)
}

// OutboxStats counts the mail not yet delivered, in every instance's outbox (one store).
type OutboxStats struct {
	Waiting  int // to be delivered (including Retrying)
	Retrying int // waiting after at least one failed attempt
	GaveUp   int // given up for good after 24 hours of failures
}

// OutboxStats counts undelivered mail by state: one read over the rows not yet sent (the
// outbox's index), cheap enough for every metrics scrape.
func (db *DB) OutboxStats(ctx context.Context) (OutboxStats, error) {
	var st OutboxStats
	err := db.read.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN gave_up = 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN gave_up = 0 AND attempts > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN gave_up = 1 THEN 1 ELSE 0 END), 0)
		FROM mail_outbox WHERE sent_at = 0`).Scan(&st.Waiting, &st.Retrying, &st.GaveUp)
	return st, translate(err)
}

func truncateReason(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}
