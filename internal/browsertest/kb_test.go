package browsertest_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"helpportal/internal/browsertest"
)

const articlePath = "/articles/create-or-update-your-client-area-password"

// kbPages are the knowledge-base pages every change must keep clean: one of each template.
var kbPages = []struct {
	name, path string
	status     int
}{
	{"home", "/", http.StatusOK},
	{"topics", "/topics", http.StatusOK},
	{"category", "/categories/domains", http.StatusOK}, // has sub-categories
	{"article", articlePath, http.StatusOK},
	{"print", articlePath + "/print", http.StatusOK},
	{"announcements", "/announcements", http.StatusOK},
	{"announcement", "/announcements/mail-cluster-maintenance", http.StatusOK},
	{"search", "/search?q=password", http.StatusOK},
	{"not-found", "/no-such-page", http.StatusNotFound},
}

func TestKnowledgeBasePages(t *testing.T) {
	h := browsertest.New(t)
	base := browsertest.ServeDemo(t)
	shots := os.Getenv("HELPPORTAL_SCREENSHOTS")
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	docs := map[string][]byte{}
	for _, p := range kbPages {
		// The validator gets the HTML as served; the browser's DOM is already repaired.
		docs[p.name] = get(t, base+p.path, p.status)
		h.Run(p.name, func(h *browsertest.Harness) {
			h.Open(base + p.path)
			for _, e := range h.ConsoleErrors() {
				h.T().Errorf("%s: %s", p.path, e)
			}
			if shots != "" && (p.name == "home" || p.name == "article") {
				h.Screenshot(filepath.Join(shots, p.name+".png"))
			}
			h.Axe(p.path)
		})
	}
	t.Run("html", func(t *testing.T) { browsertest.ValidateHTML(t, docs) })

	h.Run("narrow", func(h *browsertest.Harness) {
		// 320 CSS px is WCAG 1.4.10 reflow: no sideways scrolling at 400% zoom.
		h.SetViewport(320, 800)
		defer h.SetViewport(1280, 900)
		for _, path := range []string{"/", articlePath} {
			h.Open(base + path)
			var r struct {
				ScrollWidth, InnerWidth int
				Over                    []string
			}
			h.Eval(`(() => {
				const w = window.innerWidth;
				const over = [...document.querySelectorAll("body *")]
					.filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 5)
					.map(e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).trim().split(/\s+/).join(".") : ""));
				return {scrollWidth: document.documentElement.scrollWidth, innerWidth: w, over};
			})()`, &r)
			if r.ScrollWidth > r.InnerWidth {
				h.T().Errorf("%s at 320px scrolls sideways: scrollWidth %d > innerWidth %d; wide elements: %v",
					path, r.ScrollWidth, r.InnerWidth, r.Over)
			}
		}
	})

	h.Run("dismiss-announcement", func(h *browsertest.Harness) {
		const state = `(() => {
			const item = document.querySelector("[data-announcement]"), b = item && item.querySelector(".breaking-dismiss");
			return {item: !!item, shown: !!item && item.getClientRects().length > 0,
				button: !!b && !b.hidden && b.getClientRects().length > 0};
		})()`
		var s struct{ Item, Shown, Button bool }
		h.Open(base + "/")
		defer h.Eval(`localStorage.clear()`, nil) // later subtests expect the bar
		h.Eval(state, &s)
		if !s.Item || !s.Shown || !s.Button {
			h.T().Fatalf("before dismissing: want the announcement and its dismiss button shown, got %+v", s)
		}
		h.Click(".breaking-dismiss")
		h.Eval(state, &s)
		if s.Shown {
			h.T().Error("the announcement is still shown after clicking dismiss")
		}
		h.Reload()
		h.Eval(state, &s)
		if s.Shown {
			h.T().Error("the dismissed announcement is shown again after a reload")
		}
	})

	h.Run("print-media", func(h *browsertest.Harness) {
		// display of each selector under print media, and any hidden element of the article
		// body other than the heading self-links, which are meaningless on paper.
		const probe = `(() => {
			const d = {};
			for (const s of [".site-header", ".sidebar", ".print-url", ".prose", "h1"]) {
				const e = document.querySelector(s);
				d[s] = e ? getComputedStyle(e).display : "missing";
			}
			const hidden = [...document.querySelectorAll(".prose *")]
				.filter(e => !e.closest(".anchor") && getComputedStyle(e).display === "none")
				.map(e => e.outerHTML.slice(0, 80));
			return {display: d, hidden};
		})()`
		for _, path := range []string{articlePath, articlePath + "/print"} {
			h.Open(base + path)
			h.EmulateMedia("print")
			var r struct {
				Display map[string]string
				Hidden  []string
			}
			h.Eval(probe, &r)
			h.EmulateMedia("")
			want := map[string]bool{".print-url": true, ".prose": true, "h1": true}
			if path == articlePath { // the print view has no header or sidebar at all
				want[".site-header"], want[".sidebar"] = false, false
			}
			for sel, shown := range want {
				if d := r.Display[sel]; d == "missing" || (d != "none") != shown {
					h.T().Errorf("%s in print: %s has display %q, want shown=%v", path, sel, d, shown)
				}
			}
			for _, e := range r.Hidden {
				h.T().Errorf("%s in print: article content hidden: %s", path, e)
			}
		}
	})
}

// get fetches url with a plain HTTP client and checks the status.
func get(t *testing.T, url string, status int) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != status {
		t.Errorf("GET %s: status %d, want %d", url, res.StatusCode, status)
	}
	return body
}
