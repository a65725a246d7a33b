package web

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"time"

	"helpportal"
	"helpportal/internal/search"
)

// sitemapLimit is the protocol's cap on URLs per sitemap file.
const sitemapLimit = 50000

func (s *Server) handleSitemap(r *http.Request) (*response, error) {
	ctx, v := r.Context(), helpportal.Anonymous
	var buf bytes.Buffer
	buf.WriteString(xml.Header + `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	n := 0
	add := func(path string, mod time.Time) {
		if n >= sitemapLimit {
			return
		}
		n++
		buf.WriteString("<url><loc>")
		xml.EscapeText(&buf, []byte(s.site.BaseURL+path))
		buf.WriteString("</loc>")
		if !mod.IsZero() {
			fmt.Fprintf(&buf, "<lastmod>%s</lastmod>", mod.UTC().Format("2006-01-02"))
		}
		buf.WriteString("</url>\n")
	}
	add("/", time.Time{})
	add("/topics", time.Time{})
	cats, err := s.store.Categories(ctx, v)
	if err != nil {
		return nil, err
	}
	for _, c := range cats {
		add("/categories/"+c.Slug, time.Time{})
	}
	for offset := 0; n < sitemapLimit; offset += 500 {
		list, _, err := s.store.Articles(ctx, helpportal.ArticleFilter{Viewer: v, Order: helpportal.OrderUpdated, Limit: 500, Offset: offset})
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			add("/articles/"+a.Slug, a.UpdatedAt)
		}
		if len(list) < 500 {
			break
		}
	}
	buf.WriteString("</urlset>\n")
	return &response{status: http.StatusOK, ctype: "application/xml; charset=utf-8", body: buf.Bytes()}, nil
}

func (s *Server) handleRobots(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "User-agent: *\nDisallow: /account\nDisallow: /admin\nDisallow: /api/\nDisallow: /search\nDisallow: /*/print\n\nSitemap: %s/sitemap.xml\n", s.site.BaseURL)
}

func (s *Server) handleOpenSearch(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/opensearchdescription+xml; charset=utf-8")
	var name bytes.Buffer
	xml.EscapeText(&name, []byte(s.site.Name))
	var base bytes.Buffer
	xml.EscapeText(&base, []byte(s.site.BaseURL))
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">
  <ShortName>%s</ShortName>
  <Description>Search the %s help centre</Description>
  <InputEncoding>UTF-8</InputEncoding>
  <Url type="text/html" method="get" template="%s/search?q={searchTerms}"/>
</OpenSearchDescription>
`, name.String(), name.String(), base.String())
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := s.static[r.PathValue("name")]
	if !ok {
		s.handleNotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(f.body)
}

func (s *Server) handleFavicon(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, s.assetURL["favicon.svg"], http.StatusMovedPermanently)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// handleReadyz says whether this instance should get traffic: the store answers, its
// schema is the one this binary expects, and the search index has been built (afterwards it
// follows the change log within a second, so a small lag is not a reason to drop out).
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := s.store.Ping(r.Context()); err != nil {
		s.log.Warn("readyz", "err", err)
		http.Error(w, "store unreachable", http.StatusServiceUnavailable)
		return
	}
	if sc, ok := s.store.(interface {
		SchemaCurrent(context.Context) (bool, error)
	}); ok {
		if current, err := sc.SchemaCurrent(r.Context()); err != nil || !current {
			http.Error(w, "database schema is not current: run helpportal migrate", http.StatusServiceUnavailable)
			return
		}
	}
	// An engine that has not loaded its index yet answers searches from the store's simple
	// (and, at 100,000 articles, slow) fallback: a load balancer should wait for it.
	if rd, ok := s.search.(interface{ Ready() bool }); ok && !rd.Ready() {
		http.Error(w, "search index is still loading", http.StatusServiceUnavailable)
		return
	}
	lag := int64(0)
	if st, ok := s.search.(interface{ Stats() search.Stats }); ok {
		applied, seq := st.Stats().Applied, s.store.ChangeSeq()
		if applied == 0 && seq > 0 {
			http.Error(w, "search index is still being built", http.StatusServiceUnavailable)
			return
		}
		lag = max(seq-applied, 0)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "ready\nsearch index lag: %d changes\n", lag)
}
