package browsertest

import (
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"helpportal"
	"helpportal/internal/auth"
	"helpportal/internal/config"
	"helpportal/internal/demo"
	"helpportal/internal/mdfolder"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
	"helpportal/internal/web"
)

// ServeDemo serves the demo help centre (articles, announcements, settings) from a fresh
// store and returns its base URL. The server is closed when t ends.
func ServeDemo(t *testing.T) string {
	t.Helper()
	base, _ := ServeDemoStore(t)
	return base
}

// ServeDemoStore is ServeDemo with the client area on, returning the store too so tests can
// create accounts and tokens.
func ServeDemoStore(t *testing.T) (string, *store.DB) {
	t.Helper()
	ctx := t.Context()
	db := storetest.MustOpen(t)
	rep, err := mdfolder.Import(ctx, db, demo.Content())
	if err != nil {
		t.Fatalf("import demo content: %v", err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("demo content has problems: %v", rep.Problems)
	}
	for _, a := range demo.Announcements(time.Now()) {
		if err := db.SaveAnnouncement(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	set := demo.Settings()
	links, err := config.ParseLinks(set["site.header_links"])
	if err != nil {
		t.Fatal(err)
	}
	// The site's BaseURL must be the server's own address (canonical links, print URLs), so
	// the listener is opened before the portal is built and the server started after.
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	srv, err := web.New(web.Config{
		Site: helpportal.Site{Name: set["site.name"], Tagline: set["site.tagline"], Language: "en", BaseURL: base,
			HeaderLinks: links, Support: set["site.support"], Footer: set["site.footer"]},
		Store:    db,
		Logger:   slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		Accounts: db,
		Hasher:   auth.NewHasher(auth.DefaultParams(), 2, 16),
		Policy:   auth.DefaultPolicy(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	if ts.URL != base {
		t.Fatalf("server URL %s, want %s", ts.URL, base)
	}
	return base, db
}
