package browsertest_test

import (
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"helpportal"
	"helpportal/internal/browsertest"
	"helpportal/internal/demo"
	"helpportal/internal/mdfolder"
	"helpportal/internal/search"
	"helpportal/internal/store/storetest"
	"helpportal/internal/web"
)

// serveDemoWithSearch serves the demo content with the full-text search engine.
func serveDemoWithSearch(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	db := storetest.MustOpen(t)
	if _, err := mdfolder.Import(ctx, db, demo.Content()); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	eng, err := search.Open(ctx, db, search.Options{Dir: filepath.Join(t.TempDir(), "index"), Language: "en", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if err := eng.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	srv, err := web.New(web.Config{Site: helpportal.Site{Name: "Northwind Help", Language: "en", BaseURL: base},
		Store: db, Logger: log, Search: eng})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	return base
}

// The header and home search boxes follow the WAI-ARIA combobox pattern: suggestions as
// you type, arrow keys move through them, Enter opens one, Escape closes the list.
func TestInstantSearch(t *testing.T) {
	base := serveDemoWithSearch(t)
	h := browsertest.New(t)
	for _, box := range []string{"home-q", "header-q"} {
		h.Run(box, func(h *browsertest.Harness) {
			h.Open(base + "/")
			var role string
			h.Eval(`document.getElementById("`+box+`").getAttribute("role")`, &role)
			if role != "combobox" {
				t.Fatalf("role = %q", role)
			}
			h.Eval(`document.getElementById("`+box+`").focus()`, nil)
			h.Press("passw")
			var n int
			for deadline := time.Now().Add(5 * time.Second); n == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				h.Eval(`(() => { const l = document.getElementById("`+box+`-listbox"); return l && !l.hidden ? l.children.length : 0 })()`, &n)
			}
			if n == 0 {
				t.Fatal("no suggestions appeared")
			}
			var state struct{ Expanded, Active, Selected string }
			h.Press(kb.ArrowDown)
			h.Eval(`(() => { const i = document.getElementById("`+box+`"); const a = i.getAttribute("aria-activedescendant");
				return {expanded: i.getAttribute("aria-expanded"), active: a, selected: a ? document.getElementById(a).getAttribute("aria-selected") : ""} })()`, &state)
			if state.Expanded != "true" || state.Active == "" || state.Selected != "true" {
				t.Errorf("after ArrowDown: %+v", state)
			}
			h.Axe(box + " with suggestions open")
			h.Press(kb.Escape)
			h.Eval(`document.getElementById("`+box+`").getAttribute("aria-expanded")`, &state.Expanded)
			if state.Expanded != "false" {
				t.Errorf("Escape left the list open")
			}
			h.Press(kb.ArrowDown)
			h.Press(kb.Enter)
			var href string
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(href, "/articles/") && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				h.Eval(`location.href`, &href)
			}
			if !strings.Contains(href, "/articles/") {
				t.Errorf("Enter on a suggestion went to %s", href)
			}
			if errs := h.ConsoleErrors(); len(errs) > 0 {
				t.Errorf("console errors (CSP?): %v", errs)
			}
		})
	}
	h.Run("results page", func(h *browsertest.Harness) {
		h.Open(base + "/search?q=pasword+reset")
		h.Axe("search results")
		if errs := h.ConsoleErrors(); len(errs) > 0 {
			t.Errorf("console errors: %v", errs)
		}
	})
}
