package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"helpportal"
	"helpportal/internal/search"
)

// maxQueryRunes cuts long queries instead of refusing them.
const maxQueryRunes = search.MaxQueryRunes

const searchPageSize = 20

// searchMaxPages keeps deep paging bounded: nobody reads page 400 of a search.
const searchMaxPages = 200

type searchPage struct {
	layout
	Results       []searchResult
	Total         int
	About         bool // Total is an estimate (large result sets are not counted one by one)
	Relaxed       bool // some results hold only some of the words
	DidYouMean    string
	DidYouMeanURL string
	Pager         pager
	Popular       []*helpportal.Article
	Categories    []facetLink
	Types         []facetLink
	Filter        string // what the results are narrowed to, for the heading
	ClearURL      string // the same search without filters
}

type searchResult struct {
	Title    string
	URL      string // through /search/click, which counts the click
	Category string
	Type     helpportal.ArticleType
	Snippet  template.HTML
	Updated  time.Time
	Pinned   bool
}

// facetLink narrows (or, when current, widens) the results to one category or type.
type facetLink struct {
	Label   string
	Count   int
	URL     string
	Current bool
	Sub     bool // a sub-category
}

func cleanQuery(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if utf8.RuneCountInString(q) > maxQueryRunes {
		q = string([]rune(q)[:maxQueryRunes])
	}
	return q
}

// searchURL is the search page for q with the given filters and page (1 leaves it out).
func searchURL(q, category, typ string, page int) string {
	v := url.Values{"q": {q}}
	if category != "" {
		v.Set("category", category)
	}
	if typ != "" {
		v.Set("type", typ)
	}
	if page > 1 {
		v.Set("page", itoa(page))
	}
	return "/search?" + v.Encode()
}

// GET /search?q=&category=&type=&page=
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	ctx, v := r.Context(), s.viewer(r)
	page, err := pageParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	qs := r.URL.Query()
	raw := qs.Get("q")
	q := cleanQuery(raw)
	catSlug, typ := qs.Get("category"), qs.Get("type")
	p := searchPage{layout: s.layout(r, "Search", "Search the "+s.site.Name+" knowledge base.")}
	p.NoIndex = true
	p.Query = q
	var cat *helpportal.Category
	if catSlug != "" {
		if cat, err = s.store.CategoryBySlug(ctx, catSlug); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if typ != "" && !helpportal.ArticleType(typ).Valid() {
		s.fail(w, r, helpportal.Errorf(helpportal.EINVALID, "The type must be one of troubleshooting, how-to, walkthrough, faq, reference."))
		return
	}
	if q == "" {
		if p.Popular, _, err = s.store.Articles(ctx, helpportal.ArticleFilter{Viewer: v, Order: helpportal.OrderPopular, Limit: 10, SkipTotal: true}); err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeSearchPage(w, r, p)
		return
	}
	p.Title = "Search results for “" + q + "”"
	req := search.Request{Query: raw, Viewer: v, Type: helpportal.ArticleType(typ), Offset: (page - 1) * searchPageSize,
		Limit: searchPageSize, Facets: true, Snippets: true}
	if cat != nil {
		req.CategoryID = cat.ID
	}
	res, err := s.runSearch(ctx, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pages := min(max(1, (res.Total+searchPageSize-1)/searchPageSize), searchMaxPages)
	if page > pages || page > 1 && len(res.Hits) == 0 {
		last := pages
		if page <= pages { // an estimated total promised more pages than there are
			last = max(1, page-1)
		}
		http.Redirect(w, r, searchURL(q, catSlug, typ, last), http.StatusSeeOther)
		return
	}
	if page == 1 && s.search != nil {
		s.search.RecordSearch(q, res.Total, res.Took)
	}
	p.Total, p.About, p.Relaxed = res.Total, !res.TotalExact, res.Relaxed
	for i, h := range res.Hits {
		p.Results = append(p.Results, searchResult{Title: h.Title, URL: clickURL(q, req.Offset+i+1, h.Slug), Category: h.CategoryName,
			Type: h.Type, Snippet: h.Snippet, Updated: h.UpdatedAt, Pinned: h.Pinned})
	}
	if res.DidYouMean != "" {
		p.DidYouMean, p.DidYouMeanURL = res.DidYouMean, searchURL(res.DidYouMean, catSlug, typ, 1)
	}
	p.Pager = pager{Page: page, Pages: pages, Total: res.Total, Base: searchURL(q, catSlug, typ, 1) + "&"}
	if err := s.searchFacets(r, v, &p, res, q, cat, typ); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeSearchPage(w, r, p)
}

// searchFacets lists the categories (in tree order, sub-categories under their parent)
// and types that hold results, with counts; the current filter is a link that removes it.
func (s *Server) searchFacets(r *http.Request, v helpportal.Viewer, p *searchPage, res *search.Result, q string, cat *helpportal.Category, typ string) error {
	catSlug := ""
	if cat != nil {
		catSlug = cat.Slug
		p.Filter = cat.Name
	}
	if typ != "" {
		p.Filter = strings.TrimPrefix(p.Filter+" · "+helpportal.ArticleType(typ).Section(), " · ")
	}
	if p.Filter != "" {
		p.ClearURL = searchURL(q, "", "", 1)
	}
	tree, err := s.categoryTree(r, v)
	if err != nil {
		return err
	}
	var walk func(cs []*helpportal.Category, sub bool)
	walk = func(cs []*helpportal.Category, sub bool) {
		for _, c := range cs {
			n := res.Categories[c.ID]
			current := c.Slug == catSlug
			if n == 0 && !current {
				continue
			}
			link := facetLink{Label: c.Name, Count: n, URL: searchURL(q, c.Slug, typ, 1), Current: current, Sub: sub}
			if current {
				link.URL = searchURL(q, "", typ, 1)
			}
			p.Categories = append(p.Categories, link)
			walk(tree.Children[c.ID], true)
		}
	}
	walk(tree.Roots, false)
	for _, t := range helpportal.ArticleTypes {
		n := res.Types[t]
		current := string(t) == typ
		if n == 0 && !current {
			continue
		}
		link := facetLink{Label: t.Section(), Count: n, URL: searchURL(q, catSlug, string(t), 1), Current: current}
		if current {
			link.URL = searchURL(q, catSlug, "", 1)
		}
		p.Types = append(p.Types, link)
	}
	return nil
}

func (s *Server) writeSearchPage(w http.ResponseWriter, r *http.Request, p searchPage) {
	res, err := s.html("search", http.StatusOK, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", res.ctype)
	// Results depend on who is searching and on the index, not only on the page cache's
	// change number, so they are not cached anywhere.
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(res.body)
}
