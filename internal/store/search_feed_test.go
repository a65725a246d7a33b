package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"helpportal"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
)

func TestChangeFeed(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	start, err := db.LatestChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	top := mustCategory(t, db, "hosting", 0)
	sub := mustCategory(t, db, "dns", top.ID)
	a := mustArticle(t, db, &helpportal.Article{Slug: "mx", Title: "MX records", Summary: "Mail routing.", CategoryID: sub.ID,
		Tags: []string{"mail", "dns"}, Body: "## Priorities\n\nLower wins.\n\n## TTL\n\nCaches."})
	b := mustArticle(t, db, &helpportal.Article{Slug: "draft", Title: "Draft", Status: helpportal.StatusDraft,
		Visibility: helpportal.VisibilityStaff, CategoryID: top.ID, Body: "Soon."})

	changes, err := db.ChangesSince(ctx, start, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.Entity)
	}
	if !slices.Equal(got, []string{"category", "category", "article", "article"}) || changes[3].EntityID != b.ID {
		t.Errorf("changes = %+v", changes)
	}
	if latest, _ := db.LatestChange(ctx); latest != changes[3].Seq {
		t.Errorf("latest = %d, want %d", latest, changes[3].Seq)
	}
	if two, _ := db.ChangesSince(ctx, changes[1].Seq, 1); len(two) != 1 || two[0].Seq != changes[2].Seq {
		t.Errorf("paging: %+v", two)
	}

	docs, err := db.SearchDocs(ctx, []int64{a.ID, b.ID, 999999}, true)
	if err != nil || len(docs) != 2 {
		t.Fatalf("docs = %v, %v", docs, err)
	}
	d := docs[0]
	if d.ID != a.ID {
		d = docs[1]
	}
	if d.Title != "MX records" || d.Summary != "Mail routing." || d.HTML == "" || !slices.Equal(d.Headings, []string{"Priorities", "TTL"}) ||
		!slices.Equal(d.Tags, []string{"dns", "mail"}) || len(d.CategoryPath) != 2 || d.CategoryPath[0].Slug != "hosting" ||
		d.CategoryPath[1].Slug != "dns" || d.Status != helpportal.StatusPublished || d.UpdatedAt.IsZero() {
		t.Errorf("doc = %+v", d)
	}
	page, err := db.SearchDocPage(ctx, 0, 1, false)
	if err != nil || len(page) != 1 || page[0].ID != a.ID || page[0].HTML != "" {
		t.Errorf("page = %+v, %v", page, err)
	}
	if page, _ = db.SearchDocPage(ctx, a.ID, 10, false); len(page) != 1 || page[0].ID != b.ID {
		t.Errorf("second page = %+v", page)
	}
	ids, err := db.ArticleIDsUnderCategory(ctx, top.ID)
	if err != nil || !slices.Equal(ids, []int64{a.ID, b.ID}) {
		t.Errorf("under hosting = %v, %v", ids, err)
	}
	texts, err := db.ArticleTexts(ctx, []int64{a.ID, 424242})
	if err != nil || len(texts) != 1 || texts[a.ID].Summary != "Mail routing." || texts[a.ID].HTML == "" {
		t.Errorf("texts = %v, %v", texts, err)
	}
	n := 0
	if err := db.ArticleStats(ctx, func(store.ArticleStat) { n++ }); err != nil || n != 2 {
		t.Errorf("stats: %d, %v", n, err)
	}
}

func TestSearchPinsAndSynonyms(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	c := mustCategory(t, db, "billing", 0)
	mustArticle(t, db, &helpportal.Article{Slug: "refunds", Title: "Refunds", CategoryID: c.ID, Body: "x"})
	mustArticle(t, db, &helpportal.Article{Slug: "invoices", Title: "Invoices", CategoryID: c.ID, Body: "x"})
	before := db.ChangeSeq()
	if err := db.SetSearchPins(ctx, "money back", []string{"refunds", "invoices"}); err != nil {
		t.Fatal(err)
	}
	if db.ChangeSeq() <= before {
		t.Error("pinning logged no change")
	}
	pins, err := db.SearchPins(ctx)
	if err != nil || !slices.Equal(pins["money back"], []string{"refunds", "invoices"}) {
		t.Errorf("pins = %v, %v", pins, err)
	}
	if err := db.SetSearchPins(ctx, "money back", []string{"nope"}); helpportal.ErrorCode(err) != helpportal.EINVALID {
		t.Errorf("unknown slug: %v", err)
	}
	if pins, _ := db.SearchPins(ctx); len(pins["money back"]) != 2 {
		t.Errorf("a failed pin changed the pins: %v", pins)
	}
	if err := db.SetSearchPins(ctx, "money back", nil); err != nil {
		t.Fatal(err)
	}
	if pins, _ := db.SearchPins(ctx); len(pins) != 0 {
		t.Errorf("unpinned: %v", pins)
	}
	if _, err := db.SearchSynonyms(ctx); helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
		t.Errorf("synonyms before any: %v", err)
	}
	before = db.ChangeSeq()
	if err := db.SetSearchSynonyms(ctx, "refund, money back"); err != nil {
		t.Fatal(err)
	}
	if list, err := db.SearchSynonyms(ctx); err != nil || list != "refund, money back" || db.ChangeSeq() <= before {
		t.Errorf("synonyms = %q, %v", list, err)
	}
}

func TestSearchAnalytics(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	day := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	err := db.AddSearchStats(ctx, []store.SearchStat{
		{Day: day, Query: "reset password", Searches: 10, Results: 4, TookMS: 30, Clicks: 2, ClickPosSum: 3},
		{Day: day.Add(-24 * time.Hour), Query: "reset password", Searches: 5, Results: 3, Clicks: 0},
		{Day: day, Query: "zebra", Searches: 3, ZeroResults: 3},
		{Day: day, Query: "dns", Searches: 6, Results: 9, Clicks: 6, ClickPosSum: 6},
		{Day: day.Add(-40 * 24 * time.Hour), Query: "old", Searches: 50},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Counts add up per day and query.
	if err := db.AddSearchStats(ctx, []store.SearchStat{{Day: day, Query: "reset password", Clicks: 1, ClickPosSum: 1}}); err != nil {
		t.Fatal(err)
	}
	rep, err := db.SearchAnalytics(ctx, day.AddDate(0, 0, -6), 10, 5)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Searches != 24 || rep.ZeroResults != 3 || rep.Clicks != 9 {
		t.Errorf("totals = %+v", rep)
	}
	if len(rep.Top) != 3 || rep.Top[0].Query != "reset password" || rep.Top[0].Searches != 15 || rep.Top[0].Clicks != 3 ||
		rep.Top[0].Results != 4 || rep.Top[0].MeanClick != 4.0/3 {
		t.Errorf("top = %+v", rep.Top)
	}
	if len(rep.Zero) != 1 || rep.Zero[0].Query != "zebra" {
		t.Errorf("zero = %+v", rep.Zero)
	}
	// reset password: 3 clicks in 15 searches is under a quarter; dns is clicked every time.
	if len(rep.LowClicks) != 1 || rep.LowClicks[0].Query != "reset password" {
		t.Errorf("low click-through = %+v", rep.LowClicks)
	}
}
