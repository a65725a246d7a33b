// Package web serves the portal over HTTP: pages rendered from embedded templates, the JSON
// API, feeds and operations endpoints. Handlers are thin: parse, call the store, render.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"helpportal"
	"helpportal/internal/auth"
)

//go:embed templates static
var assets embed.FS

// Store is what the web layer needs of the store.
type Store interface {
	helpportal.ArticleService
	helpportal.CategoryService
	helpportal.AnnouncementService
	// ChangeSeq is the newest content change number known; cached pages older than it are stale.
	ChangeSeq() int64
	// PollChanges refreshes ChangeSeq from the store (writes by other processes).
	PollChanges(ctx context.Context) (int64, error)
	// Changes signals when the change log may have grown: at once for this process's writes
	// and, on PostgreSQL, for every instance's (see store.DB.Changes).
	Changes(ctx context.Context) <-chan struct{}
	Ping(ctx context.Context) error
	// SearchArticles finds visible articles whose title or summary contain every word.
	SearchArticles(ctx context.Context, v helpportal.Viewer, q string, limit, offset int) ([]*helpportal.Article, int, error)
}

// Config is what the server needs to know.
type Config struct {
	Site   helpportal.Site
	Store  Store
	Logger *slog.Logger
	Now    func() time.Time // nil: time.Now
	// The client area; with Accounts nil the portal has no sign-in.
	Accounts Accounts
	Hasher   *auth.Hasher
	Policy   auth.Policy
	Mailer   interface{ Wake() } // woken when a request queued mail; may be nil
	// Metrics turns on request instrumentation and /metrics (it costs a few per cent of the
	// cached-page path, so it is opt-in).
	Metrics bool
	// NoRequestLog leaves out the one line per request (errors are still logged, with the
	// request's ID).
	NoRequestLog bool
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Search is the full-text search engine; nil falls back to the store's simple search.
	Search Searcher
}

// Server is the HTTP side of the portal.
type Server struct {
	site     helpportal.Site
	store    Store
	log      *slog.Logger
	now      func() time.Time
	pages    map[string]*template.Template
	static   map[string]staticFile // by hashed name
	assetURL map[string]string     // logical name → hashed URL
	cache    *pageCache
	views    *viewCounter
	handler  http.Handler
	accounts Accounts
	hasher   *auth.Hasher
	policy   auth.Policy
	mailer   interface{ Wake() }
	search   Searcher
	bg       sync.WaitGroup // work that outlives its request
	gate     chan struct{}  // requests that may hash a password at once
	trusted  []netip.Prefix
	metrics  *metrics
	noReqLog bool
	// unavailableLogged is when (Unix nanoseconds) an "unavailable" error was last logged:
	// during an outage every request fails the same way, and one line in a while says so.
	unavailableLogged atomic.Int64
	annMu             sync.Mutex
	ann               cachedAnnouncements
	treesMu           sync.Mutex
	trees             map[helpportal.Role]cachedTree
}

type staticFile struct {
	body        []byte
	contentType string
}

// New builds the server: parses every template and hashes every static file, so a broken
// template stops the start rather than a request.
func New(cfg Config) (*Server, error) {
	s := &Server{
		site:  cfg.Site,
		store: cfg.Store,
		log:   cfg.Logger,
		now:   cfg.Now,
		cache: newPageCache(64 << 20),
		trees: map[helpportal.Role]cachedTree{},

		accounts: cfg.Accounts,
		hasher:   cfg.Hasher,
		policy:   cfg.Policy,
		mailer:   cfg.Mailer,
		search:   cfg.Search,
		noReqLog: cfg.NoRequestLog,
		gate:     make(chan struct{}, 16),
		trusted:  cfg.TrustedProxies,
	}
	if s.accounts != nil && s.hasher == nil {
		return nil, fmt.Errorf("web: the client area needs a password hasher")
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = slog.New(requestIDHandler{s.log.Handler()}) // errors logged while serving carry request_id
	if s.now == nil {
		s.now = time.Now
	}
	s.site.BaseURL = strings.TrimRight(s.site.BaseURL, "/")
	if err := s.loadStatic(); err != nil {
		return nil, err
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.views = newViewCounter(cfg.Store, s.log)
	if cfg.Metrics {
		s.metrics = s.newMetrics()
	}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Run runs the background work (view-count flushing, following the change log so that
// cached pages go stale when any instance or command writes) until ctx ends, then flushes
// what is left. The store's change signal makes that immediate; polling every second is the
// fallback (another process on SQLite, a lost PostgreSQL listener).
func (s *Server) Run(ctx context.Context) {
	changed := s.store.Changes(ctx)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	flush := time.NewTicker(5 * time.Second)
	defer flush.Stop()
	failing := false // said once per outage, not every second
	poll := func() {
		_, err := s.store.PollChanges(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			s.log.Warn("poll changes: the store does not answer; cached pages may be stale until it does", "err", err)
		case err == nil && failing:
			failing = false
			s.log.Info("poll changes: the store answers again")
		}
	}
	for {
		select {
		case <-ctx.Done():
			s.views.flush(context.WithoutCancel(ctx))
			s.bg.Wait()
			return
		case <-changed:
			poll()
		case <-tick.C:
			poll()
		case <-flush.C:
			s.views.flush(ctx)
		}
	}
}

func (s *Server) loadStatic() error {
	s.static = map[string]staticFile{}
	s.assetURL = map[string]string{}
	return fs.WalkDir(assets, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		name := strings.TrimPrefix(p, "static/")
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		s.static[hashed] = staticFile{body: body, contentType: contentTypes[ext]}
		s.assetURL[name] = "/static/" + hashed
		return nil
	})
}

var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
	".png": "image/png",
	".ico": "image/x-icon",
}

func (s *Server) parseTemplates() error {
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			u, ok := s.assetURL[name]
			if !ok {
				return "", fmt.Errorf("unknown asset %q", name)
			}
			return u, nil
		},
		"date":     func(t time.Time) string { return t.Format("2 January 2006") },
		"isodate":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"datetime": func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") },
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return fmt.Sprintf("%d %s", n, one)
			}
			return fmt.Sprintf("%d %s", n, many)
		},
		"add": func(a, b int) int { return a + b },
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return fmt.Errorf("parse layout: %w", err)
	}
	pages, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return err
	}
	s.pages = map[string]*template.Template{}
	for _, p := range pages {
		name := path.Base(p)
		if name == "layout.html" || name == "partials.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(assets, p)
		if err != nil {
			return fmt.Errorf("parse %s: %w", name, err)
		}
		s.pages[strings.TrimSuffix(name, ".html")] = t
	}
	return nil
}

// bufPool recycles render buffers; pages are rendered whole before a byte is sent so a
// template error can still become an error page.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (s *Server) renderBytes(name string, data any) ([]byte, error) {
	t, ok := s.pages[name]
	if !ok {
		return nil, fmt.Errorf("no template %q", name)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := t.ExecuteTemplate(buf, "layout.html", data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return bytes.Clone(buf.Bytes()), nil
}
