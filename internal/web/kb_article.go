package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"helpportal"
)

type articlePage struct {
	layout
	Article  *helpportal.Article
	Path     []*helpportal.Category
	Related  []*helpportal.Article
	Sidebar  []categoryCard
	ShowTOC  bool
	Voted    string // "yes" or "no" right after a vote
	PrintURL string
	URL      string
	tree     *helpportal.CategoryTree
}

// article loads the article for the article and print pages; an old slug redirects.
func (s *Server) article(r *http.Request, suffix string) (*articlePage, *response, error) {
	v := s.viewer(r)
	slug := r.PathValue("slug")
	a, err := s.store.ArticleBySlug(r.Context(), v, slug)
	if helpportal.ErrorCode(err) == helpportal.ENOTFOUND {
		if to, merr := s.store.MovedTo(r.Context(), slug); merr == nil {
			return nil, &response{status: http.StatusMovedPermanently, ctype: "text/plain; charset=utf-8",
				location: "/articles/" + url.PathEscape(to) + suffix, body: []byte("Moved to /articles/" + to + suffix + "\n")}, nil
		}
		// A published article for clients sends anonymous readers to sign in and back,
		// showing nothing of it; drafts and staff articles stay plain 404s.
		if v.Role == helpportal.RoleAnonymous && s.accounts != nil {
			if _, cerr := s.store.ArticleBySlug(r.Context(), helpportal.Viewer{Role: helpportal.RoleClient}, slug); cerr == nil {
				next := "/articles/" + url.PathEscape(slug) + suffix
				return nil, &response{status: http.StatusSeeOther, ctype: "text/plain; charset=utf-8",
					location: "/login?next=" + url.QueryEscape(next), body: []byte("Sign in to read this article.\n")}, nil
			}
		}
	}
	if err != nil {
		return nil, nil, err
	}
	tree, err := s.categoryTree(r, v)
	if err != nil {
		return nil, nil, err
	}
	desc := a.Summary
	if desc == "" {
		desc = a.Title
	}
	p := &articlePage{
		layout:   s.layout(r, a.Title, desc),
		Article:  a,
		Path:     tree.Path(a.CategoryID),
		ShowTOC:  len(a.TOC) >= 3,
		PrintURL: "/articles/" + a.Slug + "/print",
		tree:     tree,
		URL:      s.site.BaseURL + "/articles/" + a.Slug,
	}
	p.Canonical = p.URL
	p.OGType = "article"
	return p, nil, nil
}

func (s *Server) handleArticle(r *http.Request) (*response, error) {
	p, redirect, err := s.article(r, "")
	if redirect != nil || err != nil {
		return redirect, err
	}
	if v := r.URL.Query().Get("voted"); v == "yes" || v == "no" {
		p.Voted = v
		p.NoIndex = true
	}
	for _, c := range p.tree.Roots {
		p.Sidebar = append(p.Sidebar, categoryCard{Category: c, Total: p.tree.Total(c.ID), Subs: p.tree.Children[c.ID]})
	}
	if p.Related, err = s.store.RelatedArticles(r.Context(), s.viewer(r), p.Article, 5); err != nil {
		return nil, err
	}
	p.JSONLD = jsonLD([]any{s.articleLD(p.Article, p.URL), breadcrumbLD(s.site.BaseURL, p.Path, p.Article)})
	res, err := s.html("article", http.StatusOK, p)
	if res != nil {
		res.articleID = p.Article.ID
	}
	return res, err
}

// articleLD is schema.org Article, or HowTo with its steps for step-by-step articles.
func (s *Server) articleLD(a *helpportal.Article, u string) map[string]any {
	ld := map[string]any{
		"@context": "https://schema.org", "@type": "Article", "headline": a.Title, "description": a.Summary,
		"url": u, "mainEntityOfPage": u, "dateModified": a.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z"),
		"publisher": map[string]any{"@type": "Organization", "name": s.site.Name},
	}
	if !a.PublishedAt.IsZero() {
		ld["datePublished"] = a.PublishedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	if (a.Type == helpportal.TypeHowTo || a.Type == helpportal.TypeWalkthrough) && len(a.Steps) > 0 {
		ld["@type"] = "HowTo"
		ld["name"] = a.Title
		steps := make([]map[string]any, len(a.Steps))
		for i, st := range a.Steps {
			steps[i] = map[string]any{"@type": "HowToStep", "position": i + 1, "text": st}
		}
		ld["step"] = steps
	}
	return ld
}

func (s *Server) handleArticlePrint(r *http.Request) (*response, error) {
	p, redirect, err := s.article(r, "/print")
	if redirect != nil || err != nil {
		return redirect, err
	}
	p.Print = true
	p.NoIndex = true
	p.Canonical = p.URL
	return s.html("print", http.StatusOK, p)
}

// visitorCookie identifies a browser for one-vote-per-visitor; only its hash is stored.
const visitorCookie = "hp_visitor"

func (s *Server) handleArticleVote(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var helpful bool
	switch r.PostForm.Get("helpful") {
	case "yes":
		helpful = true
	case "no":
	default:
		s.fail(w, r, helpportal.Errorf(helpportal.EINVALID, "Choose Yes or No."))
		return
	}
	a, err := s.store.ArticleBySlug(r.Context(), s.viewer(r), r.PathValue("slug"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	visitor := ""
	if c, err := r.Cookie(visitorCookie); err == nil && len(c.Value) == 32 && isHex(c.Value) {
		visitor = c.Value
	} else {
		var b [16]byte
		rand.Read(b[:])
		visitor = hex.EncodeToString(b[:])
		http.SetCookie(w, &http.Cookie{Name: visitorCookie, Value: visitor, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(s.site.BaseURL, "https://")})
	}
	sum := sha256.Sum256([]byte(visitor))
	if err := s.store.Vote(r.Context(), a.ID, hex.EncodeToString(sum[:]), helpful); err != nil {
		s.fail(w, r, err)
		return
	}
	answer := "no"
	if helpful {
		answer = "yes"
	}
	http.Redirect(w, r, "/articles/"+url.PathEscape(a.Slug)+"?voted="+answer+"#feedback", http.StatusSeeOther)
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// Body is the article's stored HTML, sanitised when it was saved.
func (p *articlePage) Body() template.HTML { return template.HTML(p.Article.HTML) }

// Body is the announcement's stored HTML, sanitised when it was saved.
func (p announcementPage) Body() template.HTML { return template.HTML(p.Announcement.HTML) }
