-- Search analytics, aggregated per UTC day and normalised query: no visitor, address or
-- session is ever recorded, only counts.
CREATE TABLE search_queries_daily (
	day           INTEGER NOT NULL, -- Unix milliseconds of the day's start (UTC)
	query         TEXT    NOT NULL, -- normalised: lower case, single spaces, numbers and addresses masked
	searches      INTEGER NOT NULL DEFAULT 0,
	zero_results  INTEGER NOT NULL DEFAULT 0, -- searches that found nothing
	results       INTEGER NOT NULL DEFAULT 0, -- result count of the latest search
	took_ms       INTEGER NOT NULL DEFAULT 0, -- summed, for the mean
	clicks        INTEGER NOT NULL DEFAULT 0,
	click_pos_sum INTEGER NOT NULL DEFAULT 0, -- summed 1-based positions, for the mean
	PRIMARY KEY (day, query)
);

-- Staff pin articles to a normalised query; pinned articles come first, in position order.
CREATE TABLE search_pins (
	query      TEXT    NOT NULL,
	article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
	position   INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (query, article_id)
);
