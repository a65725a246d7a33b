CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT    NOT NULL UNIQUE, -- normalised to lower case
	name          TEXT    NOT NULL,
	role          TEXT    NOT NULL,
	status        TEXT    NOT NULL,
	password_hash TEXT    NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	last_login_at INTEGER NOT NULL DEFAULT 0
);

-- Only the SHA-256 of a session token is stored, so a copy of the database signs no one in.
CREATE TABLE sessions (
	id           INTEGER PRIMARY KEY,
	token_hash   TEXT    NOT NULL UNIQUE,
	user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	idle_until   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	remember     INTEGER NOT NULL DEFAULT 0,
	ip           TEXT    NOT NULL DEFAULT '',
	user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

-- One-time tokens (invitations, resets, email confirmations), stored hashed.
CREATE TABLE tokens (
	hash       TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	purpose    TEXT    NOT NULL,
	data       TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tokens_user ON tokens(user_id, purpose);

-- Throttling counters: one row per counted attempt, by key (account, IP, address).
CREATE TABLE attempts (
	key TEXT    NOT NULL,
	at  INTEGER NOT NULL
);
CREATE INDEX attempts_key ON attempts(key, at);

CREATE TABLE events (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	kind       TEXT    NOT NULL,
	ip         TEXT    NOT NULL DEFAULT '',
	user_agent TEXT    NOT NULL DEFAULT '',
	at         INTEGER NOT NULL
);
CREATE INDEX events_user ON events(user_id, at);

-- The mail outbox: written in the transaction of the change that caused the mail, delivered
-- by a worker with leases so that several instances never send one message twice.
CREATE TABLE mail_outbox (
	id              INTEGER PRIMARY KEY,
	to_addr         TEXT    NOT NULL,
	subject         TEXT    NOT NULL,
	text_body       TEXT    NOT NULL,
	html_body       TEXT    NOT NULL,
	message_id      TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	lease_until     INTEGER NOT NULL DEFAULT 0,
	sent_at         INTEGER NOT NULL DEFAULT 0,
	gave_up         INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX mail_outbox_due ON mail_outbox(sent_at, gave_up, next_attempt_at);
