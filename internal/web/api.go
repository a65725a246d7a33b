package web

import (
	"net/http"
	"strconv"
	"time"

	"helpportal"
)

type apiArticle struct {
	Slug        string   `json:"slug"`
	Title       string   `json:"title"`
	Summary     string   `json:"summary"`
	Type        string   `json:"type"`
	URL         string   `json:"url"`
	Category    string   `json:"category"`
	Tags        []string `json:"tags,omitempty"`
	UpdatedAt   string   `json:"updated_at"`
	PublishedAt string   `json:"published_at,omitempty"`
	HTML        string   `json:"html,omitempty"`
	Markdown    string   `json:"markdown,omitempty"`
}

func (s *Server) apiArticle(a *helpportal.Article, full bool) apiArticle {
	out := apiArticle{
		Slug: a.Slug, Title: a.Title, Summary: a.Summary, Type: string(a.Type), URL: s.site.BaseURL + "/articles/" + a.Slug,
		Tags: a.Tags, UpdatedAt: a.UpdatedAt.UTC().Format(time.RFC3339),
	}
	if a.Category != nil {
		out.Category = a.Category.Slug
	}
	if !a.PublishedAt.IsZero() {
		out.PublishedAt = a.PublishedAt.UTC().Format(time.RFC3339)
	}
	if full {
		out.HTML, out.Markdown = a.HTML, a.Body
	}
	return out
}

// intParam reads an optional bounded integer query parameter.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, helpportal.Errorf(helpportal.EINVALID, "%s must be a whole number from %d to %d.", name, lo, hi)
	}
	return n, nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// GET /api/v1/articles?category=&type=&tag=&page=&per_page=
func (s *Server) handleAPIArticles(w http.ResponseWriter, r *http.Request) {
	v := s.viewer(r)
	page, err := intParam(r, "page", 1, 1, 1_000_000)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	per, err := intParam(r, "per_page", 50, 1, 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	f := helpportal.ArticleFilter{Viewer: v, Limit: per, Offset: (page - 1) * per, Tag: q.Get("tag"), Order: helpportal.OrderUpdated}
	if t := q.Get("type"); t != "" {
		if !helpportal.ArticleType(t).Valid() {
			s.fail(w, r, helpportal.Errorf(helpportal.EINVALID, "type must be one of troubleshooting, how-to, walkthrough, faq, reference."))
			return
		}
		f.Type = helpportal.ArticleType(t)
	}
	if slug := q.Get("category"); slug != "" {
		c, err := s.store.CategoryBySlug(r.Context(), slug)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f.CategoryID, f.WithSubcats = c.ID, true
	}
	list, total, err := s.store.Articles(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]apiArticle, len(list))
	for i, a := range list {
		out[i] = s.apiArticle(a, false)
	}
	writeJSON(w, http.StatusOK, map[string]any{"articles": out, "total": total, "page": page, "per_page": per,
		"pages": max(1, (total+per-1)/per)})
}

func (s *Server) handleAPIArticle(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.ArticleBySlug(r.Context(), s.viewer(r), r.PathValue("slug"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.apiArticle(a, true))
}

type apiCategory struct {
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Parent      string `json:"parent,omitempty"`
	Position    int    `json:"position"`
	Articles    int    `json:"articles"`
	URL         string `json:"url"`
}

func (s *Server) handleAPICategories(w http.ResponseWriter, r *http.Request) {
	cats, err := s.store.Categories(r.Context(), s.viewer(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tree := helpportal.NewCategoryTree(cats)
	out := make([]apiCategory, len(cats))
	for i, c := range cats {
		out[i] = apiCategory{Slug: c.Slug, Name: c.Name, Description: c.Description, Position: c.Position,
			Articles: c.Articles, URL: s.site.BaseURL + "/categories/" + c.Slug}
		if p := tree.ByID[c.ParentID]; p != nil {
			out[i].Parent = p.Slug
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"categories": out})
}

func (s *Server) handleAPINotFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, helpportal.Errorf(helpportal.ENOTFOUND, "There is no API endpoint %s %s.", r.Method, r.URL.Path))
}
