package web

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"helpportal"
)

// maxQueryRunes cuts long queries instead of refusing them.
const maxQueryRunes = 256

const searchPageSize = 20

type searchPage struct {
	layout
	Results []*helpportal.Article
	Total   int
	Pager   pager
	Popular []*helpportal.Article
}

func cleanQuery(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if utf8.RuneCountInString(q) > maxQueryRunes {
		q = string([]rune(q)[:maxQueryRunes])
	}
	return q
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	v := s.viewer(r)
	page, err := pageParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := cleanQuery(r.URL.Query().Get("q"))
	p := searchPage{layout: s.layout(r, "Search", "Search the "+s.site.Name+" knowledge base.")}
	p.NoIndex = true
	p.Query = q
	if q == "" {
		if p.Popular, _, err = s.store.Articles(r.Context(), helpportal.ArticleFilter{Viewer: v, Order: helpportal.OrderPopular, Limit: 10}); err != nil {
			s.fail(w, r, err)
			return
		}
	} else {
		p.Title = "Search results for “" + q + "”"
		p.Results, p.Total, err = s.store.SearchArticles(r.Context(), v, q, searchPageSize, (page-1)*searchPageSize)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pages := max(1, (p.Total+searchPageSize-1)/searchPageSize)
		if page > pages {
			http.Redirect(w, r, "/search?q="+url.QueryEscape(q)+"&page="+itoa(pages), http.StatusSeeOther)
			return
		}
		p.Pager = pager{Page: page, Pages: pages, Total: p.Total, Base: "/search?q=" + url.QueryEscape(q) + "&"}
	}
	res, err := s.html("search", http.StatusOK, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", res.ctype)
	w.Write(res.body)
}
