package web

import "net/http"

// routes is the whole URL space, read top to bottom.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	// Knowledge base pages.
	mux.HandleFunc("GET /{$}", s.cachedPage(s.handleHome))
	mux.HandleFunc("GET /topics", s.cachedPage(s.handleTopics))
	mux.HandleFunc("GET /categories/{slug}", s.cachedPage(s.handleCategory))
	mux.HandleFunc("GET /articles/{slug}", s.cachedPage(s.handleArticle))
	mux.HandleFunc("GET /articles/{slug}/print", s.cachedPage(s.handleArticlePrint))
	mux.HandleFunc("POST /articles/{slug}/vote", s.handleArticleVote)
	mux.HandleFunc("GET /search", s.handleSearch)
	mux.HandleFunc("GET /search/click", s.handleSearchClick)
	mux.HandleFunc("GET /announcements", s.cachedPage(s.handleAnnouncements))
	mux.HandleFunc("GET /announcements/{slug}", s.cachedPage(s.handleAnnouncement))
	mux.HandleFunc("GET /announcements.atom", s.cachedPage(s.handleAnnouncementsFeed))
	// For crawlers and browsers.
	mux.HandleFunc("GET /sitemap.xml", s.cachedPage(s.handleSitemap))
	mux.HandleFunc("GET /robots.txt", s.handleRobots)
	mux.HandleFunc("GET /opensearch.xml", s.handleOpenSearch)
	mux.HandleFunc("GET /static/{name}", s.handleStatic)
	mux.HandleFunc("GET /favicon.ico", s.handleFavicon)
	// The client area.
	if s.accounts != nil {
		mux.HandleFunc("GET /login", s.handleLoginForm)
		mux.HandleFunc("POST /login", s.hashGate(s.handleLogin))
		mux.HandleFunc("POST /logout", s.handleLogout)
		mux.HandleFunc("GET /forgot-password", s.handleForgotForm)
		mux.HandleFunc("POST /forgot-password", s.handleForgot)
		mux.HandleFunc("GET /reset-password/{token}", s.handleResetForm)
		mux.HandleFunc("POST /reset-password/{token}", s.hashGate(s.handleReset))
		mux.HandleFunc("GET /invite/{token}", s.handleInviteForm)
		mux.HandleFunc("POST /invite/{token}", s.hashGate(s.handleInvite))
		mux.HandleFunc("GET /account", s.handleAccount)
		mux.HandleFunc("POST /account/name", s.handleAccountName)
		mux.HandleFunc("POST /account/email", s.hashGate(s.handleAccountEmail))
		mux.HandleFunc("GET /account/email/{token}", s.handleEmailConfirmForm)
		mux.HandleFunc("POST /account/email/{token}", s.handleEmailConfirm)
		mux.HandleFunc("GET /account/security", s.handleSecurity)
		mux.HandleFunc("POST /account/password", s.hashGate(s.handlePasswordChange))
		mux.HandleFunc("POST /account/sessions/{id}/revoke", s.handleSessionRevoke)
		mux.HandleFunc("POST /account/sessions/revoke-others", s.handleSessionsRevokeOthers)
		mux.HandleFunc("POST /api/v1/password/strength", s.hashGate(s.handlePasswordStrength))
	}
	// JSON API (read-only for now).
	mux.HandleFunc("GET /api/v1/articles", s.handleAPIArticles)
	mux.HandleFunc("GET /api/v1/articles/{slug}", s.handleAPIArticle)
	mux.HandleFunc("GET /api/v1/categories", s.handleAPICategories)
	mux.HandleFunc("GET /api/v1/search", s.handleAPISearch)
	mux.HandleFunc("GET /api/v1/search/suggest", s.handleAPISuggest)
	mux.HandleFunc("GET /api/v1/analytics/search", s.handleAPISearchAnalytics)
	mux.HandleFunc("/api/", s.handleAPINotFound)
	// Operations.
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	if s.metrics != nil {
		mux.Handle("GET /metrics", s.handleMetrics())
	}
	// Everything else is the friendly 404 page.
	mux.HandleFunc("/", s.handleNotFound)

	h := s.noteRoute(mux)
	h = s.sessions(h)
	h = http.NewCrossOriginProtection().Handler(h)
	h = s.checkInput(h)
	h = s.recoverer(h)
	if len(s.trusted) > 0 {
		h = s.realIP(h)
	}
	h = securityHeaders(h, s.secure())
	h = s.accessLog(h) // outermost: it times and logs everything, refusals included
	return h
}
