package store

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"helpportal"
)

const userCols = `id, email, name, role, status, password_hash, created_at, last_login_at`

func scanUser(s scanner) (*helpportal.User, error) {
	u := &helpportal.User{}
	var created, last int64
	if err := s.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Status, &u.PasswordHash, &created, &last); err != nil {
		return nil, err
	}
	u.CreatedAt, u.LastLoginAt = fromMillis(created), fromMillis(last)
	return u, nil
}

func notFoundUser(err error) error {
	if err == sql.ErrNoRows {
		return helpportal.Errorf(helpportal.ENOTFOUND, "There is no such account.")
	}
	return translate(err)
}

// CreateUser adds u (email already normalised); ECONFLICT when the email is taken.
func (db *DB) CreateUser(ctx context.Context, u *helpportal.User) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return db.createUser(ctx, tx, u) })
}

func (db *DB) createUser(ctx context.Context, tx *sql.Tx, u *helpportal.User) error {
	u.CreatedAt = fromMillis(db.now().UnixMilli())
	err := tx.QueryRowContext(ctx, `INSERT INTO users (email, name, role, status, password_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, u.Email, u.Name, u.Role, u.Status, u.PasswordHash, millis(u.CreatedAt)).Scan(&u.ID)
	if helpportal.ErrorCode(translate(err)) == helpportal.ECONFLICT {
		return helpportal.Errorf(helpportal.ECONFLICT, "An account with that email address already exists.")
	}
	return err
}

// UserByEmail returns the account with the (normalised) email, or ENOTFOUND.
func (db *DB) UserByEmail(ctx context.Context, email string) (*helpportal.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, email))
	return u, notFoundUser(err)
}

// UserByID returns the account or ENOTFOUND.
func (db *DB) UserByID(ctx context.Context, id int64) (*helpportal.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	return u, notFoundUser(err)
}

// HasActiveAdmin reports whether any admin can sign in.
func (db *DB) HasActiveAdmin(ctx context.Context) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND status = 'active'`).Scan(&n)
	return n > 0, translate(err)
}

// RecordSignIn notes a successful sign-in, replaces the hash when it was re-hashed with new
// parameters and clears the account's failure counter.
func (db *DB) RecordSignIn(ctx context.Context, userID int64, rehash, failKey string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		now := db.now().UnixMilli()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, now, userID); err != nil {
			return err
		}
		if rehash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, rehash, userID); err != nil {
				return err
			}
		}
		if failKey != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM attempts WHERE key = ?`, failKey); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateName changes the display name.
func (db *DB) UpdateName(ctx context.Context, userID int64, name string, ev helpportal.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET name = ? WHERE id = ?`, name, userID); err != nil {
			return err
		}
		return db.addEvent(ctx, tx, ev)
	})
}

// PasswordChange is a new password hash and what goes with it.
type PasswordChange struct {
	Hash        string
	EndSessions bool   // end the user's sessions…
	Keep        string // …except the one with this token hash ("" ends them all)
	OldSession  string // when set, this session's token hash is replaced by Keep
	Notice      *helpportal.OutgoingMail
	Event       helpportal.Event
}

// ChangePassword sets a new hash, ends sessions as asked, voids open reset tokens, queues
// the notice and logs the event, all in one transaction.
func (db *DB) ChangePassword(ctx context.Context, userID int64, c PasswordChange) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return db.setPassword(ctx, tx, userID, c) })
}

func (db *DB) setPassword(ctx context.Context, tx *sql.Tx, userID int64, c PasswordChange) error {
	// An invited account becomes active; a disabled one stays disabled whatever link is used.
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?,
		status = CASE status WHEN 'invited' THEN 'active' ELSE status END WHERE id = ?`, c.Hash, userID); err != nil {
		return err
	}
	if c.OldSession != "" { // this browser's session gets a new token in the same transaction
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET token_hash = ? WHERE token_hash = ? AND user_id = ?`, c.Keep, c.OldSession, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return helpportal.Errorf(helpportal.EUNAUTHORIZED, "Your session has ended; please sign in again.")
		}
	}
	// A new password is a way out of throttling: failed sign-ins against the account are
	// forgotten, so an attacker cannot keep its owner out after a reset.
	if _, err := tx.ExecContext(ctx, `DELETE FROM attempts WHERE key = 'login:acct:' || (SELECT email FROM users WHERE id = ?)`, userID); err != nil {
		return err
	}
	if c.EndSessions {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, userID, c.Keep); err != nil {
			return err
		}
	}
	// Open reset links and pending email changes die with the old password: whoever knew it
	// must not finish an email change the owner never wanted.
	if _, err := tx.ExecContext(ctx, `UPDATE tokens SET used_at = ? WHERE user_id = ? AND purpose IN (?, ?) AND used_at = 0`,
		db.now().UnixMilli(), userID, helpportal.TokenReset, helpportal.TokenEmail); err != nil {
		return err
	}
	if c.Notice != nil {
		if err := db.enqueueMail(ctx, tx, c.Notice); err != nil {
			return err
		}
	}
	return db.addEvent(ctx, tx, c.Event)
}

// CreateToken stores a one-time token (its hash) for the user, voiding the user's older
// unused tokens of the same purpose, and queues mail (may be nil) in the same transaction.
func (db *DB) CreateToken(ctx context.Context, userID int64, purpose, hash, data string, ttl time.Duration, m *helpportal.OutgoingMail, ev *helpportal.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return db.createToken(ctx, tx, userID, purpose, hash, data, ttl, m, ev) })
}

func (db *DB) createToken(ctx context.Context, tx *sql.Tx, userID int64, purpose, hash, data string, ttl time.Duration, m *helpportal.OutgoingMail, ev *helpportal.Event) error {
	// On PostgreSQL two requests at once could each void the older tokens, miss the other's
	// new one and insert their own, leaving two live links: the user's and purpose's lock
	// makes them take turns, as SQLite's single writer does.
	if err := db.lockName(ctx, tx, "token:"+strconv.FormatInt(userID, 10)+":"+purpose); err != nil {
		return err
	}
	now := db.now()
	if _, err := tx.ExecContext(ctx, `UPDATE tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at = 0`,
		now.UnixMilli(), userID, purpose); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (hash, user_id, purpose, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		hash, userID, purpose, data, now.UnixMilli(), now.Add(ttl).UnixMilli()); err != nil {
		return err
	}
	if m != nil {
		if err := db.enqueueMail(ctx, tx, m); err != nil {
			return err
		}
	}
	if ev != nil {
		return db.addEvent(ctx, tx, *ev)
	}
	return nil
}

// InviteUser creates an invited account and its invitation token (and mail) at once.
func (db *DB) InviteUser(ctx context.Context, u *helpportal.User, purpose, hash string, ttl time.Duration, m *helpportal.OutgoingMail) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.createUser(ctx, tx, u); err != nil {
			return err
		}
		return db.createToken(ctx, tx, u.ID, purpose, hash, "", ttl, m, nil)
	})
}

// TokenUser returns the account and data of a valid (known, unused, unexpired) token of
// one of the purposes, without using it up; ENOTFOUND otherwise.
func (db *DB) TokenUser(ctx context.Context, hash string, purposes ...string) (*helpportal.User, string, string, error) {
	return db.tokenUser(ctx, db.read, hash, purposes)
}

type rowQuerier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func (db *DB) tokenUser(ctx context.Context, q rowQuerier, hash string, purposes []string) (*helpportal.User, string, string, error) {
	args := []any{hash, db.now().UnixMilli()}
	for _, p := range purposes {
		args = append(args, p)
	}
	var data, purpose string
	var userID int64
	err := q.QueryRowContext(ctx, `SELECT user_id, data, purpose FROM tokens WHERE hash = ? AND used_at = 0 AND expires_at > ?
		AND purpose IN (`+placeholders(len(purposes))+`)`, args...).Scan(&userID, &data, &purpose)
	if err == sql.ErrNoRows {
		return nil, "", "", helpportal.Errorf(helpportal.ENOTFOUND, "This link has expired, has already been used, or is not valid.")
	}
	if err != nil {
		return nil, "", "", translate(err)
	}
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ? AND status <> 'disabled'`, userID))
	if err == sql.ErrNoRows {
		return nil, "", "", helpportal.Errorf(helpportal.ENOTFOUND, "This link has expired, has already been used, or is not valid.")
	}
	if err != nil {
		return nil, "", "", translate(err)
	}
	return u, data, purpose, nil
}

// UseToken checks the token inside a transaction, marks it used and calls fn with its user,
// data and purpose; fn's changes commit with it. A token already used, expired or unknown
// gives ENOTFOUND, so two requests racing with one token cannot both succeed.
func (db *DB) UseToken(ctx context.Context, hash string, purposes []string, fn func(tx *Tx, u *helpportal.User, data, purpose string) error) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		u, data, purpose, err := db.tokenUser(ctx, tx, hash, purposes)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET used_at = ? WHERE hash = ? AND used_at = 0`, db.now().UnixMilli(), hash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return helpportal.Errorf(helpportal.ENOTFOUND, "This link has already been used.")
		}
		return fn(&Tx{db: db, tx: tx, ctx: ctx}, u, data, purpose)
	})
}

// Tx is a transaction handed to UseToken's callback, with the writes a token may unlock.
type Tx struct {
	db  *DB
	tx  *sql.Tx
	ctx context.Context
}

// SetPassword is ChangePassword inside the token's transaction.
func (t *Tx) SetPassword(userID int64, c PasswordChange) error {
	return t.db.setPassword(t.ctx, t.tx, userID, c)
}

// SetProfile sets the email and name (first-admin setup).
func (t *Tx) SetProfile(userID int64, email, name string) error {
	_, err := t.tx.ExecContext(t.ctx, `UPDATE users SET email = ?, name = ? WHERE id = ?`, email, name, userID)
	if helpportal.ErrorCode(translate(err)) == helpportal.ECONFLICT {
		return helpportal.Errorf(helpportal.ECONFLICT, "An account with that email address already exists.")
	}
	return err
}

// SetEmail changes the email, queues the notice to the old address and logs it.
func (t *Tx) SetEmail(userID int64, email string, notice *helpportal.OutgoingMail, ev helpportal.Event) error {
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE users SET email = ? WHERE id = ?`, email, userID); err != nil {
		if helpportal.ErrorCode(translate(err)) == helpportal.ECONFLICT {
			return helpportal.Errorf(helpportal.ECONFLICT, "Another account uses that email address now.")
		}
		return err
	}
	if notice != nil {
		if err := t.db.enqueueMail(t.ctx, t.tx, notice); err != nil {
			return err
		}
	}
	return t.db.addEvent(t.ctx, t.tx, ev)
}
