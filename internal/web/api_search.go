package web

import (
	"context"
	"errors"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"helpportal"
	"helpportal/internal/search"
)

// Searcher is the full-text search engine (search.Engine). With none configured, or while
// its index is first being built, search falls back to the store's simple title search.
type Searcher interface {
	Search(ctx context.Context, r search.Request) (*search.Result, error)
	Suggest(ctx context.Context, v helpportal.Viewer, q string, limit int) ([]search.Suggestion, error)
	// RecordSearch and RecordClick count searches for the analytics (no personal data).
	RecordSearch(q string, total int, took time.Duration)
	RecordClick(q string, pos int)
	Analytics(ctx context.Context, days, limit int) (*search.Report, error)
}

// runSearch searches with the engine, or with the store's simple search when there is no
// engine or it is not ready yet. Either way the results respect the viewer.
func (s *Server) runSearch(ctx context.Context, req search.Request) (*search.Result, error) {
	defer s.metrics.observeSearch(time.Now())
	if s.search != nil {
		res, err := s.search.Search(ctx, req)
		if !errors.Is(err, search.ErrNotReady) {
			return res, err
		}
	}
	start := time.Now()
	list, total, err := s.store.SearchArticles(ctx, req.Viewer, cleanQuery(req.Query), req.Limit, req.Offset)
	if err != nil {
		return nil, err
	}
	res := &search.Result{Query: cleanQuery(req.Query), Total: total, TotalExact: true}
	for _, a := range list {
		h := search.Hit{ID: a.ID, Slug: a.Slug, Title: a.Title, CategoryID: a.CategoryID, Type: a.Type, UpdatedAt: a.UpdatedAt,
			Snippet: template.HTML(template.HTMLEscapeString(a.Summary))}
		if a.Category != nil {
			h.CategorySlug, h.CategoryName = a.Category.Slug, a.Category.Name
		}
		res.Hits = append(res.Hits, h)
	}
	res.Took = time.Since(start)
	return res, nil
}

type apiSearchHit struct {
	Slug     string `json:"slug"`
	Title    string `json:"title"`
	URL      string `json:"url"`
	Category string `json:"category"`
	Snippet  string `json:"snippet"` // HTML: matched words in <mark>, the rest escaped
}

// GET /api/v1/search?q=&category=&limit=
func (s *Server) handleAPISearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := cleanQuery(q.Get("q"))
	if query == "" {
		s.fail(w, r, helpportal.Errorf(helpportal.EINVALID, "The query q is required, for example ?q=reset+password."))
		return
	}
	limit, err := intParam(r, "limit", 10, 1, 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req := search.Request{Query: q.Get("q"), Viewer: s.viewer(r), Limit: limit, Snippets: true}
	if slug := q.Get("category"); slug != "" {
		c, err := s.store.CategoryBySlug(r.Context(), slug)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		req.CategoryID = c.ID
	}
	res, err := s.runSearch(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.search != nil {
		s.search.RecordSearch(query, res.Total, res.Took)
	}
	hits := make([]apiSearchHit, 0, len(res.Hits))
	for _, h := range res.Hits {
		hits = append(hits, apiSearchHit{Slug: h.Slug, Title: h.Title, URL: s.site.BaseURL + "/articles/" + h.Slug,
			Category: h.CategorySlug, Snippet: string(h.Snippet)})
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"query": res.Query, "total": res.Total, "hits": hits,
		"took_ms": math.Round(float64(res.Took.Microseconds())/10) / 100})
}

type apiSuggestion struct {
	Slug     string `json:"slug"`
	Title    string `json:"title"`
	URL      string `json:"url"`
	Category string `json:"category"`
}

// GET /api/v1/search/suggest?q=&limit= : titles as the visitor types. An empty query is
// not an error here: the box has just been cleared.
func (s *Server) handleAPISuggest(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 8, 1, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	raw := r.URL.Query().Get("q")
	out := []apiSuggestion{}
	if strings.TrimSpace(raw) != "" {
		v := s.viewer(r)
		var list []search.Suggestion
		if s.search != nil {
			list, err = s.search.Suggest(r.Context(), v, raw, limit)
		}
		if s.search == nil || errors.Is(err, search.ErrNotReady) {
			list, err = s.simpleSuggest(r.Context(), v, raw, limit)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, sg := range list {
			out = append(out, apiSuggestion{Slug: sg.Slug, Title: sg.Title, URL: s.site.BaseURL + "/articles/" + sg.Slug, Category: sg.Category})
		}
	}
	// Suggestions depend on who asks, so shared caches must not keep them; the browser may,
	// briefly, as visitors type and delete the same letters.
	w.Header().Set("Cache-Control", "private, max-age=30")
	writeJSON(w, http.StatusOK, map[string]any{"query": cleanQuery(raw), "suggestions": out})
}

func (s *Server) simpleSuggest(ctx context.Context, v helpportal.Viewer, q string, limit int) ([]search.Suggestion, error) {
	list, _, err := s.store.SearchArticles(ctx, v, cleanQuery(q), limit, 0)
	if err != nil {
		return nil, err
	}
	out := make([]search.Suggestion, 0, len(list))
	for _, a := range list {
		sg := search.Suggestion{Slug: a.Slug, Title: a.Title, URL: "/articles/" + a.Slug}
		if a.Category != nil {
			sg.Category = a.Category.Name
		}
		out = append(out, sg)
	}
	return out, nil
}

// GET /search/click?q=&pos=&slug=[&from=suggest] records that the result at pos of a
// search for q was chosen, then sends the visitor to the article. Result links go through
// it, so clicks count without JavaScript. Only /articles/{valid slug} is ever a target.
func (s *Server) handleSearchClick(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	slug := q.Get("slug")
	if !helpportal.ValidSlug(slug) {
		s.fail(w, r, helpportal.Errorf(helpportal.EINVALID, "The slug is not valid."))
		return
	}
	if s.search != nil {
		query := cleanQuery(q.Get("q"))
		pos, err := strconv.Atoi(q.Get("pos"))
		if err == nil && pos >= 1 && pos <= 1000 && query != "" {
			if q.Get("from") == "suggest" {
				// A pick from the instant results ends a search that was never submitted:
				// count it as one, so click-through stays clicks per search.
				n, _ := strconv.Atoi(q.Get("n"))
				s.search.RecordSearch(query, min(max(n, pos), 20), 0)
			}
			s.search.RecordClick(query, pos)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/articles/"+slug, http.StatusSeeOther)
}

// clickURL is the link a result at 1-based position pos carries.
func clickURL(q string, pos int, slug string) string {
	return "/search/click?q=" + url.QueryEscape(q) + "&pos=" + strconv.Itoa(pos) + "&slug=" + url.QueryEscape(slug)
}

// GET /api/v1/analytics/search?days=30&limit=20 (staff only): top queries, queries that
// found nothing and queries with low click-through.
func (s *Server) handleAPISearchAnalytics(w http.ResponseWriter, r *http.Request) {
	v := s.viewer(r)
	switch {
	case v.Role == helpportal.RoleAnonymous:
		s.fail(w, r, helpportal.Errorf(helpportal.EUNAUTHORIZED, "Sign in as staff to see search analytics."))
		return
	case !v.IsStaff():
		s.fail(w, r, helpportal.Errorf(helpportal.EFORBIDDEN, "Search analytics are for staff only."))
		return
	}
	days, err := intParam(r, "days", 30, 1, 366)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := intParam(r, "limit", 20, 1, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.search == nil {
		s.fail(w, r, helpportal.Errorf(helpportal.EUNAVAILABLE, "Search analytics need the search index, which is not running."))
		return
	}
	rep, err := s.search.Analytics(r.Context(), days, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, map[string]any{"days": days, "report": rep})
}
