package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"helpportal"
	"helpportal/internal/store/storetest"
	"helpportal/internal/web"
)

// benchServer is a portal with 2,000 articles of about 600 words in 20 categories.
func benchServer(b *testing.B) *web.Server {
	b.Helper()
	ctx := context.Background()
	db := storetest.MustOpen(b)
	var cats []int64
	for i := range 20 {
		c := &helpportal.Category{Slug: "cat-" + strconv.Itoa(i), Name: "Category " + strconv.Itoa(i)}
		if err := db.SaveCategory(ctx, c); err != nil {
			b.Fatal(err)
		}
		cats = append(cats, c.ID)
	}
	para := strings.Repeat("Open the client area and choose the domain you want to change, then save the record. ", 8)
	body := "Intro. " + para + "\n\n## Before you start\n\n" + para + "\n\n## Steps\n\n1. " + para + "\n2. " + para +
		"\n3. " + para + "\n\n## If it fails\n\n" + para + "\n\n| Record | Value |\n|---|---|\n| A | 192.0.2.1 |\n"
	types := helpportal.ArticleTypes
	for batch := range 4 {
		var list []*helpportal.Article
		for i := range 500 {
			n := batch*500 + i
			list = append(list, &helpportal.Article{Slug: "article-" + strconv.Itoa(n), Title: "How to change DNS record " + strconv.Itoa(n),
				Summary: "Change a record.", Type: types[n%len(types)], CategoryID: cats[n%len(cats)],
				Tags: []string{"dns", "tag-" + strconv.Itoa(n%50)}, Body: body})
		}
		if err := db.SaveArticles(ctx, list); err != nil {
			b.Fatal(err)
		}
	}
	srv, err := web.New(web.Config{Site: helpportal.Site{Name: "Bench", Language: "en", BaseURL: "http://bench.test"},
		Store: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

func benchGet(b *testing.B, srv http.Handler, paths func(i int) string) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, paths(i), nil)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s = %d", req.URL, w.Code)
		}
		i++
	}
}

// BenchmarkArticleCached is the hot path: a page served from the page cache.
func BenchmarkArticleCached(b *testing.B) {
	srv := benchServer(b)
	benchGet(b, srv, func(int) string { return "/articles/article-42" })
}

// BenchmarkArticleUncached renders a different article every time (a cold cache).
func BenchmarkArticleUncached(b *testing.B) {
	srv := benchServer(b)
	benchGet(b, srv, func(i int) string { return "/articles/article-" + strconv.Itoa(i%2000) + "?b=" + strconv.Itoa(i) })
}

// BenchmarkHomeUncached renders the home page with every query it makes.
func BenchmarkHomeUncached(b *testing.B) {
	srv := benchServer(b)
	benchGet(b, srv, func(i int) string { return "/?b=" + strconv.Itoa(i) })
}

// BenchmarkCategoryUncached renders a category's first page of 50 articles.
func BenchmarkCategoryUncached(b *testing.B) {
	srv := benchServer(b)
	benchGet(b, srv, func(i int) string { return "/categories/cat-" + strconv.Itoa(i%20) + "?b=" + strconv.Itoa(i) })
}
