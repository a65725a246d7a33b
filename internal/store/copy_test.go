package store_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"helpportal"
	"helpportal/internal/demo"
	"helpportal/internal/mdfolder"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
)

// A raw view of a store, read with the drivers directly rather than through copy's own code,
// so that the comparisons below do not share copy's mistakes.
type rawStore struct {
	driver, dsn string
}

func rawSQLite(path string) rawStore  { return rawStore{"sqlite", "file:" + path + "?mode=ro"} }
func rawPostgres(url string) rawStore { return rawStore{"pgx", url} }

func (r rawStore) open(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open(r.driver, r.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func strings1(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// tables lists the live schema's tables, leaving out the migrations' own record and
// SQLite's internal ones.
func (r rawStore) tables(t *testing.T) []string {
	t.Helper()
	db := r.open(t)
	var names []string
	if r.driver == "sqlite" {
		names = strings1(t, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'`)
	} else {
		names = strings1(t, db, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	}
	names = slices.DeleteFunc(names, func(s string) bool { return s == "schema_migrations" })
	slices.Sort(names)
	return names
}

// foreignKeys lists "child parent" pairs of the live schema.
func (r rawStore) foreignKeys(t *testing.T) [][2]string {
	t.Helper()
	db := r.open(t)
	var out [][2]string
	for _, table := range r.tables(t) {
		var parents []string
		if r.driver == "sqlite" {
			parents = strings1(t, db, `SELECT "table" FROM pragma_foreign_key_list(?)`, table)
		} else {
			parents = strings1(t, db, `SELECT p.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
				JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE k.contype = 'f' AND n.nspname = current_schema() AND c.relname = $1`, table)
		}
		for _, p := range parents {
			out = append(out, [2]string{table, p})
		}
	}
	return out
}

// textColumns names the columns of table declared as text.
func (r rawStore) textColumns(t *testing.T, db *sql.DB, table string) map[string]bool {
	t.Helper()
	var names []string
	if r.driver == "sqlite" {
		names = strings1(t, db, `SELECT name FROM pragma_table_info(?) WHERE upper(type) LIKE '%TEXT%' OR upper(type) LIKE '%CHAR%' OR upper(type) LIKE '%CLOB%'`, table)
	} else {
		names = strings1(t, db, `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1
			AND data_type IN ('text', 'character varying', 'character')`, table)
	}
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// dump reads every table as sorted canonical rows: each value spelled with its kind, so an
// integer that came back as text, or a NULL that came back as 0 or an empty string, shows.
func (r rawStore) dump(t *testing.T) map[string][]string {
	t.Helper()
	db := r.open(t)
	out := map[string][]string{}
	for _, table := range r.tables(t) {
		out[table] = r.dumpTable(t, db, table)
	}
	return out
}

func (r rawStore) dumpTable(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	text := r.textColumns(t, db, table)
	rows, err := db.Query(`SELECT * FROM "` + table + `"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	list := []string{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			b.WriteString(cols[i] + "=")
			switch x := v.(type) {
			case nil:
				b.WriteString("NULL")
			case int64:
				b.WriteString(strconv.FormatInt(x, 10))
			case string:
				b.WriteString(strconv.Quote(x))
			case []byte:
				// SQLite keeps a blob handed to a TEXT column as a blob (articles.toc is
				// written so); PostgreSQL has only text there. Read back, both are the
				// same bytes, so a text column shows them as text.
				if text[cols[i]] {
					b.WriteString(strconv.Quote(string(x)))
				} else {
					b.WriteString("x'" + hex.EncodeToString(x) + "'")
				}
			default:
				fmt.Fprintf(&b, "%T(%v)", x, x)
			}
			b.WriteString(" ")
		}
		list = append(list, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// Sorted in Go: the two databases collate text differently. With the primary key's
	// columns first in every table, this is primary-key order for integer keys.
	slices.Sort(list)
	return list
}

func sameDump(t *testing.T, what string, want, got map[string][]string) {
	t.Helper()
	for _, table := range store.CopyTables() {
		w, g := want[table], got[table]
		if len(w) != len(g) {
			t.Errorf("%s: table %s has %d rows, want %d", what, table, len(g), len(w))
			continue
		}
		for i := range w {
			if w[i] != g[i] {
				t.Errorf("%s: table %s row %d differs:\n got %s\nwant %s", what, table, i, g[i], w[i])
				break
			}
		}
	}
}

// fill gives db what a portal in use holds, in every table: the demo content as `serve`
// seeds it, then accounts, sessions, tokens, votes, mails in every state, search analytics
// and pins, a renamed article, a category moved under a newer one, and awkward values.
func fill(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	rep, err := mdfolder.Import(ctx, db, demo.Content())
	must(err)
	if len(rep.Problems) > 0 || rep.Articles < 10 {
		t.Fatalf("demo import: %+v", rep)
	}
	now := time.Now()
	for _, a := range demo.Announcements(now) {
		must(db.SaveAnnouncement(ctx, a))
	}
	for k, v := range demo.Settings() {
		must(db.SetMeta(ctx, k, v))
	}
	must(db.SetMeta(ctx, "initialized_at", now.UTC().Format(time.RFC3339)))
	must(db.SetMeta(ctx, "awkward", "é ☃ 🙂 'single' \"double\" ? $1 \\ back\nnew line\ttab"))

	// A category moved under one created after it: its parent has the larger ID, so rows
	// copied in ID order would break the foreign key.
	admin := helpportal.Viewer{Role: helpportal.RoleAdmin}
	cats, err := db.Categories(ctx, admin)
	must(err)
	first := cats[0]
	for _, c := range cats {
		if c.ID < first.ID {
			first = c
		}
	}
	parent := &helpportal.Category{Slug: "zz-archive", Name: "Archive", Description: "Older guides"}
	must(db.SaveCategory(ctx, parent))
	first.ParentID = parent.ID
	must(db.SaveCategory(ctx, first))

	// Both databases check a foreign key at the end of each statement, so the order only
	// matters across the batches copy writes: a category tree larger than one batch, with
	// an early category moved under the last one, needs parents written first.
	if _, err := store.StoreExec(db, `INSERT INTO categories (slug, name, description, parent_id, position, created_at, updated_at)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
		SELECT 'region-' || i, 'Region ' || i, '', NULL, i, 1700000000000 + i, 1700000000000 + i FROM n`); err != nil {
		t.Fatal(err)
	}
	if _, err := store.StoreExec(db, `UPDATE categories SET parent_id = (SELECT max(id) FROM categories)
		WHERE id = (SELECT min(id) FROM categories WHERE slug LIKE 'region-%')`); err != nil {
		t.Fatal(err)
	}

	list, _, err := db.Articles(ctx, helpportal.ArticleFilter{Viewer: admin, Limit: 5})
	must(err)
	if len(list) < 3 {
		t.Fatalf("only %d articles", len(list))
	}
	renamed := list[0]
	old := renamed.Slug
	renamed.Slug = old + "-renamed"
	must(db.SaveArticle(ctx, renamed))
	if to, err := db.MovedTo(ctx, old); err != nil || to != renamed.Slug {
		t.Fatalf("rename: %q, %v", to, err)
	}
	must(db.Vote(ctx, list[1].ID, "voter-a", true))
	must(db.Vote(ctx, list[1].ID, "voter-b", false))
	must(db.Vote(ctx, list[2].ID, "voter-a", true))
	must(db.AddViews(ctx, map[int64]int64{list[1].ID: 42, list[2].ID: 7}))
	must(db.SetSearchPins(ctx, "ssh", []string{list[1].Slug, list[2].Slug}))
	must(db.AddSearchStats(ctx, []store.SearchStat{
		{Day: now, Query: "ssh key", Searches: 12, Results: 3, TookMS: 40, Clicks: 5, ClickPosSum: 7},
		{Day: now.AddDate(0, 0, -1), Query: "mx record", Searches: 2, ZeroResults: 2, TookMS: 9},
	}))

	staff := &helpportal.User{Email: "ed@example.com", Name: "Ed Itor", Role: helpportal.RoleEditor, Status: helpportal.UserActive, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"}
	must(db.CreateUser(ctx, staff))
	client := &helpportal.User{Email: "zoë@example.com", Name: "Zoë Ünicode", Role: helpportal.RoleClient, Status: helpportal.UserActive}
	must(db.CreateUser(ctx, client))
	invited := &helpportal.User{Email: "new@example.com", Name: "New", Role: helpportal.RoleAdmin, Status: helpportal.UserInvited}
	must(db.InviteUser(ctx, invited, "invite", "hash-invite", time.Hour,
		&helpportal.OutgoingMail{To: invited.Email, Subject: "You are invited", Text: "Open the link.", HTML: "<p>Open the link.</p>", MessageID: "<1@example.com>"}))
	must(db.CreateToken(ctx, client.ID, "reset", "hash-reset", `{"next":"/account"}`, time.Hour,
		&helpportal.OutgoingMail{To: client.Email, Subject: "Reset", Text: "Reset it.", HTML: "<p>Reset it.</p>", MessageID: "<2@example.com>"},
		&helpportal.Event{UserID: client.ID, Kind: "reset_requested", IP: "192.0.2.1", UserAgent: "Firefox"}))
	must(db.CreateToken(ctx, staff.ID, "reset", "hash-reset-staff", "", time.Hour,
		&helpportal.OutgoingMail{To: staff.Email, Subject: "Reset", Text: "Reset it.", HTML: "<p>Reset it.</p>", MessageID: "<3@example.com>"}, nil))
	for i, remember := range []bool{true, false} {
		must(db.CreateSession(ctx, &helpportal.Session{UserID: client.ID, TokenHash: fmt.Sprint("session-", i), CreatedAt: now,
			LastSeenAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(24 * time.Hour), Remember: remember,
			IP: "2001:db8::1", UserAgent: "Safari on iPhone"},
			helpportal.Event{UserID: client.ID, Kind: helpportal.EventSignIn, IP: "2001:db8::1"}))
	}
	for range 3 {
		if _, err := db.Admit(ctx, "login:zoë@example.com", now, time.Hour, func(int, time.Time) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}
	// Mails in every state: one sent, one failed and retrying, one given up, two queued.
	mails, err := db.ClaimMail(ctx, now.Add(time.Second), 3, time.Minute)
	must(err)
	if len(mails) != 3 {
		t.Fatalf("claimed %d mails", len(mails))
	}
	must(db.MailSent(ctx, mails[0].ID, now))
	must(db.MailFailed(ctx, mails[1].ID, now.Add(time.Minute), "421 try later", false))
	must(db.MailFailed(ctx, mails[2].ID, now, "550 no such user", true))
	must(db.CreateToken(ctx, client.ID, "confirm", "hash-confirm", "new@example.org", time.Hour,
		&helpportal.OutgoingMail{To: "new@example.org", Subject: "Confirm", Text: "Confirm.", HTML: "<p>Confirm.</p>", MessageID: "<4@example.com>"}, nil))
}

func openSQLite(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres opens a fresh schema migrated as `helpportal migrate` does, and its URL.
func openPostgres(t *testing.T) (*store.DB, string) {
	t.Helper()
	url := storetest.EmptyPostgres(t)
	db, err := store.OpenURL(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, url
}

func copyStore(t *testing.T, from, to *store.DB) *store.CopyReport {
	t.Helper()
	rep, err := from.CopyTo(context.Background(), to)
	if err != nil {
		t.Fatalf("copy %s → %s: %v", from.Location(), to.Location(), err)
	}
	t.Logf("copied %d rows %s → %s in %s", rep.Rows, from.Dialect(), to.Dialect(), rep.Took)
	return rep
}

// The list of tables copy moves is the live schema's, in an order foreign keys accept: a
// migration that adds a table fails here until copy knows it.
func TestCopyTablesMatchSchema(t *testing.T) {
	dir := t.TempDir()
	openSQLite(t, filepath.Join(dir, "a.db"))
	stores := []rawStore{rawSQLite(filepath.Join(dir, "a.db"))}
	if storetestEnabled() {
		_, url := openPostgres(t)
		stores = append(stores, rawPostgres(url))
	}
	known := store.CopyTables()
	sorted := slices.Sorted(slices.Values(known))
	for _, r := range stores {
		if live := r.tables(t); !slices.Equal(live, sorted) {
			t.Errorf("%s: the schema's tables are %v; store.copyTables lists %v: add the new table to copyTables (parents before children)", r.driver, live, known)
		}
		for _, fk := range r.foreignKeys(t) {
			child, parent := slices.Index(known, fk[0]), slices.Index(known, fk[1])
			if fk[0] != fk[1] && child >= 0 && parent > child {
				t.Errorf("%s: %s refers to %s, which copyTables lists after it", r.driver, fk[0], fk[1])
			}
		}
	}
}

func storetestEnabled() bool { return os.Getenv(storetest.EnvURL) != "" }

// SQLite to SQLite: every row of every table arrives unchanged, the copy works as a portal,
// and a second copy into it is refused without touching it.
func TestCopySQLiteToSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := openSQLite(t, filepath.Join(dir, "src.db"))
	fill(t, src)
	dst := openSQLite(t, filepath.Join(dir, "dst.db"))
	rep := copyStore(t, src, dst)

	want := rawSQLite(src.Path()).dump(t)
	for _, table := range store.CopyTables() {
		if len(want[table]) == 0 {
			t.Errorf("fill leaves table %s empty: give it rows so the round trip covers it", table)
		}
	}
	got := rawSQLite(dst.Path()).dump(t)
	sameDump(t, "sqlite → sqlite", want, got)
	var total int64
	for _, tc := range rep.Tables {
		if int(tc.Rows) != len(want[tc.Table]) {
			t.Errorf("report: %s %d rows, want %d", tc.Table, tc.Rows, len(want[tc.Table]))
		}
		total += tc.Rows
	}
	if total != rep.Rows || len(rep.Tables) != len(store.CopyTables()) {
		t.Errorf("report: %d rows over %d tables", rep.Rows, len(rep.Tables))
	}
	if dst.ChangeSeq() != src.ChangeSeq() {
		t.Errorf("destination change number %d, want %d", dst.ChangeSeq(), src.ChangeSeq())
	}
	// Values are written as their columns declare them: the blobs SQLite kept in a TEXT
	// column arrive as text, as they would through PostgreSQL.
	var blobs int
	if err := rawSQLite(dst.Path()).open(t).QueryRow(`SELECT count(*) FROM articles WHERE typeof(toc) <> 'text' OR typeof(steps) <> 'text'`).Scan(&blobs); err != nil || blobs > 0 {
		t.Errorf("%d articles keep non-text toc or steps (%v)", blobs, err)
	}
	checkUsable(t, src, dst)

	// Refused: the destination now holds a portal.
	before := rawSQLite(dst.Path()).dump(t)
	_, err := src.CopyTo(ctx, dst)
	if helpportal.ErrorCode(err) != helpportal.ECONFLICT || !strings.Contains(err.Error(), "table categories has") {
		t.Fatalf("copy into a full store: %v", err)
	}
	if err := dst.CheckEmpty(ctx); helpportal.ErrorCode(err) != helpportal.ECONFLICT {
		t.Errorf("CheckEmpty of a full store: %v", err)
	}
	sameDump(t, "after a refused copy", before, rawSQLite(dst.Path()).dump(t))

	// A destination holding one row anywhere is refused, naming that table.
	other := openSQLite(t, filepath.Join(dir, "other.db"))
	if err := other.CheckEmpty(ctx); err != nil {
		t.Errorf("CheckEmpty of a fresh store: %v", err)
	}
	if _, err := store.StoreExec(other, `INSERT INTO attempts (key, at) VALUES ('x', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := src.CopyTo(ctx, other); err == nil || !strings.Contains(err.Error(), "table attempts has 1 rows") {
		t.Errorf("copy into a store with one attempt: %v", err)
	}
	if _, err := src.CopyTo(ctx, src); helpportal.ErrorCode(err) != helpportal.EINVALID {
		t.Errorf("copy onto itself: %v", err)
	}
}

// checkUsable proves the copy is a working portal: what was copied reads back, and new
// content, accounts and sessions get fresh IDs.
func checkUsable(t *testing.T, src, dst *store.DB) {
	t.Helper()
	ctx := context.Background()
	admin := helpportal.Viewer{Role: helpportal.RoleAdmin}
	want, n, err := src.Articles(ctx, helpportal.ArticleFilter{Viewer: admin, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	got, m, err := dst.Articles(ctx, helpportal.ArticleFilter{Viewer: admin, Limit: 500})
	if err != nil || n != m {
		t.Fatalf("articles: %d, want %d (%v)", m, n, err)
	}
	var maxID int64
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Slug != want[i].Slug || got[i].HTML != want[i].HTML || !got[i].UpdatedAt.Equal(want[i].UpdatedAt) {
			t.Errorf("article %d: got %d %q, want %d %q", i, got[i].ID, got[i].Slug, want[i].ID, want[i].Slug)
		}
		maxID = max(maxID, want[i].ID)
	}
	cat, err := dst.CategoryBySlug(ctx, "zz-archive")
	if err != nil {
		t.Fatal(err)
	}
	a := &helpportal.Article{Slug: "after-the-move", Title: "After the move", CategoryID: cat.ID, Body: "Written on the new store."}
	if err := dst.SaveArticle(ctx, a); err != nil {
		t.Fatalf("a new article on the copy: %v", err)
	}
	if a.ID <= maxID {
		t.Errorf("new article ID %d, want above %d", a.ID, maxID)
	}
	u := &helpportal.User{Email: "after@example.com", Name: "After", Role: helpportal.RoleClient, Status: helpportal.UserActive}
	if err := dst.CreateUser(ctx, u); err != nil {
		t.Fatalf("a new user on the copy: %v", err)
	}
	s := &helpportal.Session{UserID: u.ID, TokenHash: "after", CreatedAt: time.Now(), LastSeenAt: time.Now(),
		IdleUntil: time.Now().Add(time.Hour), ExpiresAt: time.Now().Add(time.Hour)}
	if err := dst.CreateSession(ctx, s, helpportal.Event{UserID: u.ID, Kind: helpportal.EventSignIn}); err != nil {
		t.Fatalf("a new session on the copy: %v", err)
	}
	if err := dst.SaveAnnouncement(ctx, &helpportal.Announcement{Slug: "after", Title: "After", Severity: "info", StartsAt: time.Now()}); err != nil {
		t.Fatalf("a new announcement on the copy: %v", err)
	}
	if err := dst.CreateToken(ctx, u.ID, "reset", "after-token", "", time.Hour,
		&helpportal.OutgoingMail{To: u.Email, Subject: "s", Text: "t", HTML: "h", MessageID: "<after@example.com>"}, nil); err != nil {
		t.Fatalf("a new mail on the copy: %v", err)
	}
	if _, err := dst.PollChanges(ctx); err != nil || dst.ChangeSeq() <= src.ChangeSeq() {
		t.Errorf("change numbers go on after %d: %d (%v)", src.ChangeSeq(), dst.ChangeSeq(), err)
	}
	if _, _, err := dst.SessionByToken(ctx, "session-0", time.Now()); err != nil {
		t.Errorf("a copied session: %v", err)
	}
}

// SQLite → PostgreSQL → SQLite gives back every row as it was, and the PostgreSQL copy takes
// new rows (its sequences were moved past the copied IDs).
func TestCopyRoundTripPostgres(t *testing.T) {
	if !storetestEnabled() {
		t.Skipf("needs PostgreSQL: set %s", storetest.EnvURL)
	}
	ctx := context.Background()
	dir := t.TempDir()
	src := openSQLite(t, filepath.Join(dir, "src.db"))
	fill(t, src)
	want := rawSQLite(src.Path()).dump(t)

	pg, url := openPostgres(t)
	// A server already running on the destination is woken when the copy commits.
	served, err := store.OpenURL(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { served.Close() })
	woken := served.Changes(t.Context())
	listening(t, served, woken, 0)
	start := time.Now()
	copyStore(t, src, pg)
	awaitWake(t, woken, start, 5*time.Second, "the copy's commit")
	sameDump(t, "sqlite → postgres", want, rawPostgres(url).dump(t))
	back := openSQLite(t, filepath.Join(dir, "back.db"))
	copyStore(t, pg, back)
	sameDump(t, "sqlite → postgres → sqlite", want, rawSQLite(back.Path()).dump(t))

	before := rawPostgres(url).dump(t)
	if _, err := back.CopyTo(ctx, pg); helpportal.ErrorCode(err) != helpportal.ECONFLICT {
		t.Fatalf("copy into a full PostgreSQL store: %v", err)
	}
	sameDump(t, "after a refused copy", before, rawPostgres(url).dump(t))
	checkUsable(t, src, pg)
}

// A portal is copied while it serves: the copy is one snapshot, so the change log and the
// articles it names agree, however the writes fell.
func TestCopyLiveSource(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := openSQLite(t, filepath.Join(dir, "src.db"))
	fill(t, src)
	cat, err := src.CategoryBySlug(ctx, "zz-archive")
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wrote atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			a := &helpportal.Article{Slug: fmt.Sprint("live-", i), Title: fmt.Sprint("Live ", i), CategoryID: cat.ID, Body: "Written during the copy.", Tags: []string{"live"}}
			if err := src.SaveArticle(ctx, a); err != nil {
				t.Error(err)
				return
			}
			wrote.Add(1)
		}
	})
	defer func() { stop.Store(true); wg.Wait() }() // before the store closes, even on failure
	for wrote.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	dst := openSQLite(t, filepath.Join(dir, "dst.db"))
	copyStore(t, src, dst)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d articles written meanwhile", wrote.Load())

	raw := rawSQLite(dst.Path()).open(t)
	var orphans int
	if err := raw.QueryRow(`SELECT count(*) FROM changes c WHERE c.entity = 'article' AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = c.entity_id)`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	var untagged int
	if err := raw.QueryRow(`SELECT count(*) FROM articles a WHERE a.slug LIKE 'live-%' AND NOT EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = a.id)`).Scan(&untagged); err != nil {
		t.Fatal(err)
	}
	if orphans > 0 || untagged > 0 {
		t.Errorf("the copy mixes moments: %d changes name articles it lacks, %d live articles lack their tags", orphans, untagged)
	}
}

// A store with a table copy does not know (a newer schema, another application's table) is
// refused rather than copied without it.
func TestCopyRefusesUnknownTable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := openSQLite(t, filepath.Join(dir, "src.db"))
	if _, err := store.StoreExec(src, `CREATE TABLE plugin_data (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	dst := openSQLite(t, filepath.Join(dir, "dst.db"))
	if _, err := src.CopyTo(ctx, dst); helpportal.ErrorCode(err) != helpportal.EINVALID || !strings.Contains(err.Error(), "plugin_data") {
		t.Errorf("source with an unknown table: %v", err)
	}
	if _, err := dst.CopyTo(ctx, src); helpportal.ErrorCode(err) != helpportal.EINVALID || !strings.Contains(err.Error(), "plugin_data") {
		t.Errorf("destination with an unknown table: %v", err)
	}
	if err := src.CheckEmpty(ctx); helpportal.ErrorCode(err) != helpportal.EINVALID {
		t.Errorf("CheckEmpty with an unknown table: %v", err)
	}
}

// Columns of the kinds today's schema keeps out (real booleans, blobs, floating point) come
// back exactly through PostgreSQL, where they are boolean, bytea and double precision.
func TestCopyTypedColumns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	addColumns := func(db *store.DB) {
		t.Helper()
		types := []string{"BOOLEAN", "BLOB", "REAL"}
		if db.Dialect() == "postgres" {
			types = []string{"BOOLEAN", "BYTEA", "DOUBLE PRECISION"}
		}
		for i, col := range []string{"flag", "data", "ratio"} {
			if _, err := store.StoreExec(db, `ALTER TABLE meta ADD COLUMN `+col+` `+types[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	src := openSQLite(t, filepath.Join(dir, "src.db"))
	addColumns(src)
	for _, row := range [][]any{
		{"a", 1, []byte{0, 1, 2, 0xff, 0xfe}, 0.1},
		{"b", 0, []byte("plain"), -2.5e300},
		{"c", nil, nil, nil},
		{"d", 1, []byte{}, 1.0},
	} {
		if _, err := store.StoreExec(src, `INSERT INTO meta (key, value, flag, data, ratio) VALUES (?, 'v', ?, ?, ?)`, row...); err != nil {
			t.Fatal(err)
		}
	}
	want := rawSQLite(src.Path()).dump(t)
	if !slices.ContainsFunc(want["meta"], func(r string) bool { return strings.Contains(r, "data=x'000102fffe'") }) {
		t.Fatalf("the source's blob is not a blob: %v", want["meta"])
	}
	var via *store.DB
	if storetestEnabled() {
		via, _ = openPostgres(t)
	} else {
		via = openSQLite(t, filepath.Join(dir, "via.db"))
	}
	addColumns(via)
	copyStore(t, src, via)
	back := openSQLite(t, filepath.Join(dir, "back.db"))
	addColumns(back)
	copyStore(t, via, back)
	sameDump(t, "typed columns through "+via.Dialect(), want, rawSQLite(back.Path()).dump(t))

	// A column one side lacks is refused rather than dropped.
	other := openSQLite(t, filepath.Join(dir, "other.db"))
	if _, err := src.CopyTo(ctx, other); helpportal.ErrorCode(err) != helpportal.EINVALID || !strings.Contains(err.Error(), "column meta.flag") {
		t.Errorf("copy to a store without the column: %v", err)
	}
}

// JSON columns are text: saved as a []byte, SQLite would keep them as blobs in TEXT columns,
// and the two databases would hold different kinds of values.
func TestJSONColumnsAreText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "helpportal.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	c := &helpportal.Category{Slug: "c", Name: "C"}
	if err := db.SaveCategory(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	a := &helpportal.Article{Slug: "a", Title: "A", CategoryID: c.ID, Type: helpportal.TypeHowTo, Body: "## One\n\n1. Do it.\n"}
	if err := db.SaveArticle(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if got := strings1(t, rawSQLite(path).open(t), `SELECT typeof(toc) || ' ' || typeof(steps) FROM articles`); len(got) != 1 || got[0] != "text text" {
		t.Errorf("toc and steps are stored as %v, want text", got)
	}
}
