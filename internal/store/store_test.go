package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"helpportal"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
)

func mustCategory(t *testing.T, db *store.DB, slug string, parent int64) *helpportal.Category {
	t.Helper()
	c := &helpportal.Category{Slug: slug, Name: strings.ToUpper(slug), ParentID: parent}
	if err := db.SaveCategory(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustArticle(t *testing.T, db *store.DB, a *helpportal.Article) *helpportal.Article {
	t.Helper()
	if err := db.SaveArticle(context.Background(), a); err != nil {
		t.Fatalf("save %s: %v", a.Slug, err)
	}
	return a
}

func TestSaveArticleRendersAndReads(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	c := mustCategory(t, db, "billing", 0)
	a := mustArticle(t, db, &helpportal.Article{Slug: "pay", Title: " Pay ", CategoryID: c.ID, Tags: []string{"B", "a", "b"},
		Body: "## One\n\n## Two\n\n1. First\n2. Second\n\n<script>alert(1)</script>"})
	got, err := db.ArticleBySlug(ctx, helpportal.Anonymous, "pay")
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Pay" || got.Type != helpportal.TypeHowTo || got.Status != helpportal.StatusPublished || got.Visibility != helpportal.VisibilityPublic {
		t.Errorf("defaults: %+v", got)
	}
	if strings.Contains(got.HTML, "<script") || !strings.Contains(got.HTML, "<ol>") {
		t.Errorf("html = %q", got.HTML)
	}
	if len(got.TOC) != 2 || len(got.Steps) != 2 || got.Words == 0 {
		t.Errorf("derived: toc %v steps %v words %d", got.TOC, got.Steps, got.Words)
	}
	if strings.Join(got.Tags, ",") != "a,b" {
		t.Errorf("tags = %v", got.Tags)
	}
	if got.Category.Slug != "billing" || got.PublishedAt.IsZero() || got.CreatedAt.IsZero() {
		t.Errorf("category/times: %+v", got)
	}
	// Saving the same content again changes nothing and records no change.
	seq := db.ChangeSeq()
	before := a.UpdatedAt
	again := *got
	again.ID = 0
	mustArticle(t, db, &again)
	if db.ChangeSeq() != seq || !again.UpdatedAt.Equal(before) {
		t.Errorf("unchanged save moved seq %d→%d, updated %v→%v", seq, db.ChangeSeq(), before, again.UpdatedAt)
	}
}

func TestSaveArticleErrors(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	c := mustCategory(t, db, "billing", 0)
	mustArticle(t, db, &helpportal.Article{Slug: "taken", Title: "Taken", CategoryID: c.ID})
	other := mustArticle(t, db, &helpportal.Article{Slug: "other", Title: "Other", CategoryID: c.ID})
	for _, tc := range []struct {
		name string
		a    helpportal.Article
		code string
	}{
		{"bad slug", helpportal.Article{Slug: "Bad Slug", Title: "x", CategoryID: c.ID}, helpportal.EINVALID},
		{"no title", helpportal.Article{Slug: "x", CategoryID: c.ID}, helpportal.EINVALID},
		{"bad type", helpportal.Article{Slug: "x", Title: "x", Type: "blog", CategoryID: c.ID}, helpportal.EINVALID},
		{"bad visibility", helpportal.Article{Slug: "x", Title: "x", Visibility: "world", CategoryID: c.ID}, helpportal.EINVALID},
		{"no category", helpportal.Article{Slug: "x", Title: "x"}, helpportal.EINVALID},
		{"unknown category", helpportal.Article{Slug: "x", Title: "x", CategoryID: 999}, helpportal.EINVALID},
		{"nul", helpportal.Article{Slug: "x", Title: "a\x00b", CategoryID: c.ID}, helpportal.EINVALID},
		{"huge", helpportal.Article{Slug: "x", Title: "x", Body: strings.Repeat("a", helpportal.MaxBodyLen+1), CategoryID: c.ID}, helpportal.EINVALID},
		{"slug taken on rename", helpportal.Article{ID: other.ID, Slug: "taken", Title: "Other", CategoryID: c.ID}, helpportal.ECONFLICT},
		{"unknown id", helpportal.Article{ID: 999, Slug: "x", Title: "x", CategoryID: c.ID}, helpportal.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.a
			err := db.SaveArticle(ctx, &a)
			if helpportal.ErrorCode(err) != tc.code {
				t.Fatalf("err = %v, want code %s", err, tc.code)
			}
		})
	}
	// Nothing half-written: only the two good articles exist.
	_, total, _ := db.Articles(ctx, helpportal.ArticleFilter{Viewer: helpportal.Viewer{Role: helpportal.RoleAdmin}})
	if total != 2 {
		t.Errorf("total = %d, want 2", total)
	}
}

func TestRenameKeepsRedirects(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	c := mustCategory(t, db, "c", 0)
	a := mustArticle(t, db, &helpportal.Article{Slug: "one", Title: "T", CategoryID: c.ID})
	a.Slug = "two"
	mustArticle(t, db, a)
	a.Slug = "three"
	mustArticle(t, db, a)
	for _, old := range []string{"one", "two"} {
		if to, err := db.MovedTo(ctx, old); err != nil || to != "three" {
			t.Errorf("MovedTo(%s) = %q, %v", old, to, err)
		}
	}
	// Renaming back to an old slug makes it live again and drops its redirect.
	a.Slug = "one"
	mustArticle(t, db, a)
	if _, err := db.MovedTo(ctx, "one"); helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
		t.Errorf("MovedTo(one) after rename back: %v", err)
	}
	if to, _ := db.MovedTo(ctx, "three"); to != "one" {
		t.Errorf("MovedTo(three) = %q", to)
	}
}

func TestVisibility(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	c := mustCategory(t, db, "c", 0)
	for _, a := range []*helpportal.Article{
		{Slug: "pub", Title: "Pub"},
		{Slug: "draft", Title: "Draft", Status: helpportal.StatusDraft},
		{Slug: "cli", Title: "Cli", Visibility: helpportal.VisibilityClients},
		{Slug: "staff", Title: "Staff", Visibility: helpportal.VisibilityStaff},
	} {
		a.CategoryID = c.ID
		mustArticle(t, db, a)
	}
	for _, tc := range []struct {
		v    helpportal.Viewer
		want string
	}{
		{helpportal.Anonymous, "pub"},
		{helpportal.Viewer{Role: helpportal.RoleClient}, "cli,pub"},
		{helpportal.Viewer{Role: helpportal.RoleEditor}, "cli,draft,pub,staff"},
	} {
		list, total, err := db.Articles(ctx, helpportal.ArticleFilter{Viewer: tc.v})
		if err != nil {
			t.Fatal(err)
		}
		var slugs []string
		for _, a := range list {
			slugs = append(slugs, a.Slug)
		}
		if strings.Join(slugs, ",") != tc.want || total != len(slugs) {
			t.Errorf("%v: %v (total %d), want %s", tc.v.Role, slugs, total, tc.want)
		}
		cats, _ := db.Categories(ctx, tc.v)
		if cats[0].Articles != len(slugs) {
			t.Errorf("%v: category count %d", tc.v.Role, cats[0].Articles)
		}
		found, n, _ := db.SearchArticles(ctx, tc.v, "", 10, 0)
		if n != len(slugs) || len(found) != n {
			t.Errorf("%v: search found %d", tc.v.Role, n)
		}
	}
	if _, err := db.ArticleBySlug(ctx, helpportal.Anonymous, "draft"); helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
		t.Errorf("draft for anonymous: %v", err)
	}
}

func TestCategoriesTreeAndCycles(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	root := mustCategory(t, db, "root", 0)
	child := mustCategory(t, db, "child", root.ID)
	grand := mustCategory(t, db, "grand", child.ID)
	mustArticle(t, db, &helpportal.Article{Slug: "deep", Title: "Deep", CategoryID: grand.ID})
	list, total, _ := db.Articles(ctx, helpportal.ArticleFilter{Viewer: helpportal.Anonymous, CategoryID: root.ID, WithSubcats: true})
	if total != 1 || list[0].Slug != "deep" {
		t.Errorf("with sub-categories: %d", total)
	}
	if _, total, _ := db.Articles(ctx, helpportal.ArticleFilter{Viewer: helpportal.Anonymous, CategoryID: root.ID}); total != 0 {
		t.Errorf("without sub-categories: %d", total)
	}
	root.ParentID = grand.ID
	if err := db.SaveCategory(ctx, root); helpportal.ErrorCode(err) != helpportal.EINVALID {
		t.Errorf("cycle: %v", err)
	}
	if err := db.SaveCategory(ctx, &helpportal.Category{Slug: "x", Name: "X", ParentID: 999}); helpportal.ErrorCode(err) != helpportal.EINVALID {
		t.Errorf("unknown parent: %v", err)
	}
	cats, _ := db.Categories(ctx, helpportal.Anonymous)
	tree := helpportal.NewCategoryTree(cats)
	if tree.Total(root.ID) != 1 || len(tree.Path(grand.ID)) != 3 {
		t.Errorf("tree total %d, path %d", tree.Total(root.ID), len(tree.Path(grand.ID)))
	}
}

func TestRelatedViewsVotes(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	a1 := mustCategory(t, db, "a", 0)
	b1 := mustCategory(t, db, "b", 0)
	base := mustArticle(t, db, &helpportal.Article{Slug: "base", Title: "Base", CategoryID: a1.ID, Tags: []string{"x", "y"}})
	mustArticle(t, db, &helpportal.Article{Slug: "two-tags", Title: "Two", CategoryID: b1.ID, Tags: []string{"x", "y"}})
	mustArticle(t, db, &helpportal.Article{Slug: "same-cat", Title: "Same", CategoryID: a1.ID})
	mustArticle(t, db, &helpportal.Article{Slug: "one-tag", Title: "One", CategoryID: b1.ID, Tags: []string{"y"}})
	mustArticle(t, db, &helpportal.Article{Slug: "unrelated", Title: "Un", CategoryID: b1.ID})
	mustArticle(t, db, &helpportal.Article{Slug: "hidden", Title: "Hidden", CategoryID: a1.ID, Tags: []string{"x", "y"}, Status: helpportal.StatusDraft})
	rel, err := db.RelatedArticles(ctx, helpportal.Anonymous, base, 5)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range rel {
		got = append(got, a.Slug)
	}
	if strings.Join(got, ",") != "two-tags,one-tag,same-cat" {
		t.Errorf("related = %v", got)
	}
	// An article without tags is related by its category alone.
	untagged := mustArticle(t, db, &helpportal.Article{Slug: "untagged", Title: "Untagged", CategoryID: b1.ID})
	rel, err = db.RelatedArticles(ctx, helpportal.Anonymous, untagged, 5)
	if err != nil || len(rel) != 3 {
		t.Errorf("related to an untagged article: %d, %v", len(rel), err)
	}
	if err := db.AddViews(ctx, map[int64]int64{base.ID: 5, 9999: 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.Vote(ctx, base.ID, "v1", true); err != nil {
		t.Fatal(err)
	}
	if err := db.Vote(ctx, 9999, "v1", true); helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
		t.Errorf("vote on unknown: %v", err)
	}
	got1, _ := db.ArticleBySlug(ctx, helpportal.Anonymous, "base")
	if got1.Views != 5 || got1.Helpful != 1 {
		t.Errorf("views %d helpful %d", got1.Views, got1.Helpful)
	}
	pop, _, _ := db.Articles(ctx, helpportal.ArticleFilter{Viewer: helpportal.Anonymous, Order: helpportal.OrderPopular, Limit: 1})
	if pop[0].Slug != "base" {
		t.Errorf("popular = %s", pop[0].Slug)
	}
}

func TestAnnouncements(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	now := time.Now()
	for _, a := range []*helpportal.Announcement{
		{Slug: "active", Title: "Active", StartsAt: now.Add(-time.Hour)},
		{Slug: "critical", Title: "Critical", Severity: helpportal.SeverityCritical, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour)},
		{Slug: "ended", Title: "Ended", StartsAt: now.Add(-2 * time.Hour), EndsAt: now.Add(-time.Hour)},
		{Slug: "future", Title: "Future", StartsAt: now.Add(time.Hour)},
	} {
		if err := db.SaveAnnouncement(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	active, _ := db.ActiveAnnouncements(ctx, now)
	if len(active) != 2 || active[0].Slug != "critical" {
		t.Errorf("active = %v", active)
	}
	all, _ := db.Announcements(ctx, now, 10)
	if len(all) != 3 {
		t.Errorf("started = %d", len(all))
	}
	if _, err := db.AnnouncementBySlug(ctx, now, "future"); helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
		t.Errorf("future: %v", err)
	}
	bad := &helpportal.Announcement{Slug: "bad", Title: "Bad", StartsAt: now, EndsAt: now.Add(-time.Hour)}
	if err := db.SaveAnnouncement(ctx, bad); helpportal.ErrorCode(err) != helpportal.EINVALID {
		t.Errorf("ends before start: %v", err)
	}
}

func TestChangesSeenAcrossConnections(t *testing.T) {
	ctx := context.Background()
	db, other := storetest.MustOpenPair(t) // a second process on the same database
	before := db.ChangeSeq()
	mustCategory(t, other, "elsewhere", 0)
	if db.ChangeSeq() != before {
		t.Fatal("seq moved without polling")
	}
	if seq, err := db.PollChanges(ctx); err != nil || seq <= before {
		t.Errorf("PollChanges = %d, %v; before %d", seq, err, before)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	db := storetest.MustOpen(t)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaCurrent(t *testing.T) {
	db := storetest.MustOpen(t)
	if ok, err := db.SchemaCurrent(context.Background()); err != nil || !ok {
		t.Errorf("SchemaCurrent after Migrate = %v, %v", ok, err)
	}
}

// TestDialect says in the test log which database the suite ran on.
func TestDialect(t *testing.T) {
	if db := storetest.MustOpen(t); db.Dialect() != "postgres" {
		t.Skipf("the store suite ran on SQLite only; set %s=postgres://… to run it on PostgreSQL too", storetest.EnvURL)
	}
}
