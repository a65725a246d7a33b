-- Times are Unix milliseconds (UTC) so both dialects store and compare them the same way.
CREATE TABLE categories (
	id          INTEGER PRIMARY KEY,
	slug        TEXT    NOT NULL UNIQUE,
	name        TEXT    NOT NULL,
	description TEXT    NOT NULL DEFAULT '',
	parent_id   INTEGER REFERENCES categories(id) ON DELETE RESTRICT,
	position    INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE INDEX categories_parent ON categories(parent_id, position, name);

CREATE TABLE articles (
	id           INTEGER PRIMARY KEY,
	slug         TEXT    NOT NULL UNIQUE,
	title        TEXT    NOT NULL,
	summary      TEXT    NOT NULL DEFAULT '',
	type         TEXT    NOT NULL,
	body         TEXT    NOT NULL DEFAULT '',
	html         TEXT    NOT NULL DEFAULT '',
	toc          TEXT    NOT NULL DEFAULT '[]', -- JSON []Heading
	steps        TEXT    NOT NULL DEFAULT '[]', -- JSON []string
	words        INTEGER NOT NULL DEFAULT 0,
	category_id  INTEGER NOT NULL REFERENCES categories(id) ON DELETE RESTRICT,
	status       TEXT    NOT NULL,
	visibility   TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	published_at INTEGER NOT NULL DEFAULT 0,
	views        INTEGER NOT NULL DEFAULT 0,
	helpful      INTEGER NOT NULL DEFAULT 0,
	not_helpful  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX articles_category ON articles(category_id, status, visibility, title);
CREATE INDEX articles_updated  ON articles(status, visibility, updated_at);
CREATE INDEX articles_views    ON articles(status, visibility, views);
CREATE INDEX articles_type     ON articles(type, status, visibility, helpful);
CREATE INDEX articles_status   ON articles(status, visibility, helpful);

CREATE TABLE article_tags (
	article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
	tag        TEXT    NOT NULL,
	PRIMARY KEY (article_id, tag)
);
CREATE INDEX article_tags_tag ON article_tags(tag, article_id);

-- A renamed article's old slugs answer 301 forever.
CREATE TABLE slug_redirects (
	old_slug   TEXT    PRIMARY KEY,
	article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE
);

CREATE TABLE votes (
	article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
	voter      TEXT    NOT NULL, -- a hash of the visitor's cookie, never the cookie
	helpful    INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (article_id, voter)
);

CREATE TABLE announcements (
	id         INTEGER PRIMARY KEY,
	slug       TEXT    NOT NULL UNIQUE,
	title      TEXT    NOT NULL,
	body       TEXT    NOT NULL DEFAULT '',
	html       TEXT    NOT NULL DEFAULT '',
	severity   TEXT    NOT NULL,
	starts_at  INTEGER NOT NULL,
	ends_at    INTEGER NOT NULL DEFAULT 0, -- 0: no end
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX announcements_starts ON announcements(starts_at);

-- Every content write appends here in the same transaction; caches and the search index
-- follow it by sequence number.
CREATE TABLE changes (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	entity    TEXT    NOT NULL,
	entity_id INTEGER NOT NULL,
	op        TEXT    NOT NULL,
	at        INTEGER NOT NULL
);

-- Facts about the installation itself, such as when it was first set up.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
