package store

import (
	"context"
	"database/sql"
	"time"

	"helpportal"
)

// CreateSession stores a new session (its token hash) and logs the event.
func (db *DB) CreateSession(ctx context.Context, s *helpportal.Session, ev helpportal.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, idle_until, expires_at, remember, ip, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, s.TokenHash, s.UserID, millis(s.CreatedAt), millis(s.LastSeenAt),
			millis(s.IdleUntil), millis(s.ExpiresAt), s.Remember, s.IP, s.UserAgent).Scan(&s.ID)
		if err != nil {
			return err
		}
		return db.addEvent(ctx, tx, ev)
	})
}

const sessionCols = `s.id, s.user_id, s.token_hash, s.created_at, s.last_seen_at, s.idle_until, s.expires_at, s.remember, s.ip, s.user_agent`

func scanSession(sc scanner, extra ...any) (*helpportal.Session, error) {
	s := &helpportal.Session{}
	var created, seen, idle, exp int64
	dest := append([]any{&s.ID, &s.UserID, &s.TokenHash, &created, &seen, &idle, &exp, &s.Remember, &s.IP, &s.UserAgent}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.IdleUntil, s.ExpiresAt = fromMillis(created), fromMillis(seen), fromMillis(idle), fromMillis(exp)
	return s, nil
}

// SessionByToken returns the live session with the token hash and its active user, or
// ENOTFOUND when it is unknown, idle too long, past its end or its user cannot sign in.
func (db *DB) SessionByToken(ctx context.Context, hash string, now time.Time) (*helpportal.Session, *helpportal.User, error) {
	u := &helpportal.User{}
	var created, last int64
	s, err := scanSession(db.read.QueryRowContext(ctx, `SELECT `+sessionCols+`,
		u.id, u.email, u.name, u.role, u.status, u.password_hash, u.created_at, u.last_login_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.idle_until > ? AND s.expires_at > ? AND u.status = 'active'`, hash, now.UnixMilli(), now.UnixMilli()),
		&u.ID, &u.Email, &u.Name, &u.Role, &u.Status, &u.PasswordHash, &created, &last)
	if err == sql.ErrNoRows {
		return nil, nil, helpportal.Errorf(helpportal.EUNAUTHORIZED, "Your session has ended; please sign in again.")
	}
	if err != nil {
		return nil, nil, translate(err)
	}
	u.CreatedAt, u.LastLoginAt = fromMillis(created), fromMillis(last)
	return s, u, nil
}

// TouchSession records activity, pushing the idle deadline (never past the absolute end).
func (db *DB) TouchSession(ctx context.Context, id int64, seen, idleUntil time.Time) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		// CASE rather than SQLite's two-argument min(), which PostgreSQL spells least().
		idle := idleUntil.UnixMilli()
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ?,
			idle_until = CASE WHEN ? < expires_at THEN ? ELSE expires_at END WHERE id = ?`,
			seen.UnixMilli(), idle, idle, id)
		return err
	})
}

// Sessions lists the user's live sessions, most recently seen first.
func (db *DB) Sessions(ctx context.Context, userID int64, now time.Time) ([]*helpportal.Session, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions s
		WHERE s.user_id = ? AND s.idle_until > ? AND s.expires_at > ? ORDER BY s.last_seen_at DESC`, userID, now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var list []*helpportal.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, translate(err)
		}
		list = append(list, s)
	}
	return list, translate(rows.Err())
}

// ActiveSessions counts the sessions of every user that are live at now (not idle too
// long, not past their end), for the metrics.
func (db *DB) ActiveSessions(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE idle_until > ? AND expires_at > ?`,
		now.UnixMilli(), now.UnixMilli()).Scan(&n)
	return n, translate(err)
}

// EndSession deletes the session with the token hash (sign-out).
func (db *DB) EndSession(ctx context.Context, hash string, ev *helpportal.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash); err != nil {
			return err
		}
		if ev != nil {
			return db.addEvent(ctx, tx, *ev)
		}
		return nil
	})
}

// RevokeSession ends one of the user's sessions by ID; ENOTFOUND if it is not theirs.
func (db *DB) RevokeSession(ctx context.Context, userID, sessionID int64, ev helpportal.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ? AND user_id = ?`, sessionID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return helpportal.Errorf(helpportal.ENOTFOUND, "That session has already ended.")
		}
		return db.addEvent(ctx, tx, ev)
	})
}

// RevokeOtherSessions ends every session of the user but the one with keepHash.
func (db *DB) RevokeOtherSessions(ctx context.Context, userID int64, keepHash string, ev helpportal.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, userID, keepHash); err != nil {
			return err
		}
		return db.addEvent(ctx, tx, ev)
	})
}

// RotateSession replaces a session's token (privilege changes), keeping its other facts.
func (db *DB) RotateSession(ctx context.Context, oldHash, newHash string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET token_hash = ? WHERE token_hash = ?`, newHash, oldHash)
		return err
	})
}

// Attempts counts the attempts under key since the time, and returns the newest one's time.
func (db *DB) Attempts(ctx context.Context, key string, since time.Time) (int, time.Time, error) {
	var n int
	var last sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT count(*), max(at) FROM attempts WHERE key = ? AND at > ?`, key, since.UnixMilli()).Scan(&n, &last)
	return n, fromMillis(last.Int64), translate(err)
}

// Admit counts one attempt under key at now, unless allow, shown the attempts within the
// window before this one (how many, and the newest's time), refuses it. Checking and
// counting in one write transaction means concurrent attempts cannot all slip past a limit.
func (db *DB) Admit(ctx context.Context, key string, now time.Time, window time.Duration, allow func(n int, last time.Time) bool) (bool, error) {
	ok := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// On PostgreSQL two transactions could both count n before either inserts: the
		// key's lock makes them take turns, as SQLite's single writer does.
		if err := db.lockName(ctx, tx, "attempts:"+key); err != nil {
			return err
		}
		var n int
		var last sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT count(*), max(at) FROM attempts WHERE key = ? AND at > ?`,
			key, now.Add(-window).UnixMilli()).Scan(&n, &last); err != nil {
			return err
		}
		if ok = allow(n, fromMillis(last.Int64)); !ok {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM attempts WHERE key = ? AND at < ?`, key, now.Add(-2*window).UnixMilli()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO attempts (key, at) VALUES (?, ?)`, key, now.UnixMilli())
		return err
	})
	return ok, err
}

// ForgetAttempt takes back one attempt counted under key at the time (it succeeded).
func (db *DB) ForgetAttempt(ctx context.Context, key string, at time.Time) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		// Attempts of one key in the same millisecond are indistinguishable; taking back both
		// errs on the owner's side.
		_, err := tx.ExecContext(ctx, `DELETE FROM attempts WHERE key = ? AND at = ?`, key, at.UnixMilli())
		return err
	})
}

// AddEvent logs a security event.
func (db *DB) AddEvent(ctx context.Context, ev helpportal.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return db.addEvent(ctx, tx, ev) })
}

func (db *DB) addEvent(ctx context.Context, tx *sql.Tx, ev helpportal.Event) error {
	if ev.At.IsZero() {
		ev.At = db.now()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO events (user_id, kind, ip, user_agent, at) VALUES (?, ?, ?, ?, ?)`,
		ev.UserID, ev.Kind, ev.IP, ev.UserAgent, ev.At.UnixMilli())
	return err
}

// Events returns the user's latest security events, newest first.
func (db *DB) Events(ctx context.Context, userID int64, limit int) ([]helpportal.Event, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, user_id, kind, ip, user_agent, at FROM events WHERE user_id = ?
		ORDER BY at DESC, id DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var list []helpportal.Event
	for rows.Next() {
		var e helpportal.Event
		var at int64
		if err := rows.Scan(&e.ID, &e.UserID, &e.Kind, &e.IP, &e.UserAgent, &at); err != nil {
			return nil, translate(err)
		}
		e.At = fromMillis(at)
		list = append(list, e)
	}
	return list, translate(rows.Err())
}
