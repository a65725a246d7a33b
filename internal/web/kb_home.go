package web

import (
	"net/http"

	"helpportal"
)

type typeSection struct {
	Type     helpportal.ArticleType
	Articles []*helpportal.Article
}

type categoryCard struct {
	*helpportal.Category
	Total int
	Subs  []*helpportal.Category
}

type homePage struct {
	layout
	Sections []typeSection
	Cards    []categoryCard
	Popular  []*helpportal.Article
	Recent   []*helpportal.Article
}

// categoryTree returns the categories with the counts v may see. Every uncached page needs
// it and counting is a scan on a large store, so trees are kept per role until content changes.
func (s *Server) categoryTree(r *http.Request, v helpportal.Viewer) (*helpportal.CategoryTree, error) {
	seq := s.store.ChangeSeq()
	s.treesMu.Lock()
	t, ok := s.trees[v.Role]
	s.treesMu.Unlock()
	if ok && t.seq == seq {
		return t.tree, nil
	}
	cats, err := s.store.Categories(r.Context(), v)
	if err != nil {
		return nil, err
	}
	tree := helpportal.NewCategoryTree(cats)
	s.treesMu.Lock()
	s.trees[v.Role] = cachedTree{seq: seq, tree: tree}
	s.treesMu.Unlock()
	return tree, nil
}

type cachedTree struct {
	seq  int64
	tree *helpportal.CategoryTree
}

func (s *Server) handleHome(r *http.Request) (*response, error) {
	ctx, v := r.Context(), s.viewer(r)
	p := homePage{layout: s.layout(r, "", s.site.Tagline)}
	p.Title = s.site.Name
	p.JSONLD = jsonLD(map[string]any{
		"@context": "https://schema.org", "@type": "WebSite", "name": s.site.Name, "url": s.site.BaseURL + "/",
		"potentialAction": map[string]any{
			"@type": "SearchAction", "target": s.site.BaseURL + "/search?q={search_term_string}",
			"query-input": "required name=search_term_string",
		},
	})
	for _, t := range helpportal.ArticleTypes {
		list, _, err := s.store.Articles(ctx, helpportal.ArticleFilter{Viewer: v, Type: t, Order: helpportal.OrderHelpful, Limit: 5, SkipTotal: true})
		if err != nil {
			return nil, err
		}
		if len(list) > 0 {
			p.Sections = append(p.Sections, typeSection{Type: t, Articles: list})
		}
	}
	tree, err := s.categoryTree(r, v)
	if err != nil {
		return nil, err
	}
	for _, c := range tree.Roots {
		p.Cards = append(p.Cards, categoryCard{Category: c, Total: tree.Total(c.ID), Subs: tree.Children[c.ID]})
	}
	if p.Popular, _, err = s.store.Articles(ctx, helpportal.ArticleFilter{Viewer: v, Order: helpportal.OrderPopular, Limit: 6, SkipTotal: true}); err != nil {
		return nil, err
	}
	if p.Recent, _, err = s.store.Articles(ctx, helpportal.ArticleFilter{Viewer: v, Order: helpportal.OrderUpdated, Limit: 6, SkipTotal: true}); err != nil {
		return nil, err
	}
	return s.html("home", http.StatusOK, p)
}

// topicsPerCategory caps how many articles each category lists on All topics, so the page
// stays readable (and fast) however large the knowledge base grows.
const topicsPerCategory = 10

type topicNode struct {
	Category *helpportal.Category
	Articles []*helpportal.Article
	Total    int // visible articles in this category alone
	Children []topicNode
}

type topicsPage struct {
	layout
	Nodes []topicNode
}

func (s *Server) handleTopics(r *http.Request) (*response, error) {
	v := s.viewer(r)
	tree, err := s.categoryTree(r, v)
	if err != nil {
		return nil, err
	}
	var build func(c *helpportal.Category) (topicNode, error)
	build = func(c *helpportal.Category) (topicNode, error) {
		n := topicNode{Category: c, Total: c.Articles}
		if c.Articles > 0 {
			list, _, err := s.store.Articles(r.Context(), helpportal.ArticleFilter{Viewer: v, CategoryID: c.ID, Limit: topicsPerCategory})
			if err != nil {
				return n, err
			}
			n.Articles = list
		}
		for _, ch := range tree.Children[c.ID] {
			cn, err := build(ch)
			if err != nil {
				return n, err
			}
			n.Children = append(n.Children, cn)
		}
		return n, nil
	}
	p := topicsPage{layout: s.layout(r, "All topics", "Every category and article in the "+s.site.Name+" knowledge base.")}
	for _, c := range tree.Roots {
		n, err := build(c)
		if err != nil {
			return nil, err
		}
		p.Nodes = append(p.Nodes, n)
	}
	return s.html("topics", http.StatusOK, p)
}
