package web

import (
	"net/http"
	"strconv"

	"helpportal"
)

const categoryPageSize = 50

type pager struct {
	Page, Pages, Total int
	Base               string // URL without the page parameter; ends in ? or &
}

func (p pager) Prev() int { return p.Page - 1 }
func (p pager) Next() int { return p.Page + 1 }

// pageParam reads ?page=N: missing means 1, anything but a positive number is a 400.
func pageParam(r *http.Request) (int, error) {
	s := r.URL.Query().Get("page")
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, helpportal.Errorf(helpportal.EINVALID, "The page number must be a whole number from 1 up.")
	}
	return n, nil
}

type categoryPage struct {
	layout
	Category *helpportal.Category
	Path     []*helpportal.Category
	Subs     []categoryCard
	Articles []*helpportal.Article
	Pager    pager
	Total    int
}

func (s *Server) handleCategory(r *http.Request) (*response, error) {
	v := s.viewer(r)
	page, err := pageParam(r)
	if err != nil {
		return nil, err
	}
	c, err := s.store.CategoryBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		return nil, err
	}
	tree, err := s.categoryTree(r, v)
	if err != nil {
		return nil, err
	}
	p := categoryPage{Category: c, Path: tree.Path(c.ID)}
	for _, sub := range tree.Children[c.ID] {
		p.Subs = append(p.Subs, categoryCard{Category: sub, Total: tree.Total(sub.ID), Subs: tree.Children[sub.ID]})
	}
	f := helpportal.ArticleFilter{Viewer: v, CategoryID: c.ID, Limit: categoryPageSize, Offset: (page - 1) * categoryPageSize}
	if p.Articles, p.Total, err = s.store.Articles(r.Context(), f); err != nil {
		return nil, err
	}
	p.Pager = pager{Page: page, Total: p.Total, Pages: max(1, (p.Total+categoryPageSize-1)/categoryPageSize), Base: r.URL.Path + "?"}
	if page > p.Pager.Pages {
		return nil, helpportal.Errorf(helpportal.ENOTFOUND, "This category has only %d pages.", p.Pager.Pages)
	}
	desc := c.Description
	if desc == "" {
		desc = c.Name + " articles in the " + s.site.Name + " knowledge base."
	}
	p.layout = s.layout(r, c.Name, desc)
	if page > 1 {
		p.Title = c.Name + " (page " + strconv.Itoa(page) + ")"
		p.Canonical += "?page=" + strconv.Itoa(page)
	}
	p.JSONLD = jsonLD(breadcrumbLD(s.site.BaseURL, p.Path, nil))
	return s.html("category", http.StatusOK, p)
}

// breadcrumbLD is schema.org BreadcrumbList for Home › All topics › categories › article.
func breadcrumbLD(base string, path []*helpportal.Category, a *helpportal.Article) map[string]any {
	items := []map[string]any{
		{"@type": "ListItem", "position": 1, "name": "Home", "item": base + "/"},
		{"@type": "ListItem", "position": 2, "name": "All topics", "item": base + "/topics"},
	}
	for _, c := range path {
		items = append(items, map[string]any{"@type": "ListItem", "position": len(items) + 1, "name": c.Name, "item": base + "/categories/" + c.Slug})
	}
	if a != nil {
		items = append(items, map[string]any{"@type": "ListItem", "position": len(items) + 1, "name": a.Title, "item": base + "/articles/" + a.Slug})
	}
	return map[string]any{"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": items}
}
