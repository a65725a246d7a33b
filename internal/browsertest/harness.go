// Package browsertest drives the portal's pages in a real headless Chromium: console and CSP
// errors, axe-core accessibility rules, the Nu HTML Checker, layout and print checks.
//
// The tools are not Go modules, so each is found at run time and a missing one skips only
// the checks that need it; CI (.ci/run) installs all of them. Lookup order:
//   - Chromium: $HELPPORTAL_CHROMIUM, else chromium, chromium-browser or google-chrome on PATH.
//   - axe-core: $HELPPORTAL_AXE_JS, else .ci/tools/node_modules/axe-core/axe.min.js.
//   - Nu checker: $HELPPORTAL_VNU_JAR, else .ci/tools/node_modules/vnu-jar/build/dist/vnu.jar,
//     run with java from PATH.
//
// The .ci/tools paths are searched from the working directory up to the module root.
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// actionTimeout bounds each browser step, so a wedged browser fails the test instead of
// hanging it until go test's global timeout.
const actionTimeout = 60 * time.Second

// Harness is one headless Chromium with one tab, bound to a test.
type Harness struct {
	t       *testing.T
	tab     context.Context
	console *consoleLog // shared with the copies Run makes
}

// New starts a headless Chromium for t and stops it when t ends. It skips t when no
// Chromium is installed.
func New(t *testing.T) *Harness {
	t.Helper()
	bin := findChromium()
	if bin == "" {
		t.Skip("browser tests skipped: no Chromium found (install Debian's chromium or set HELPPORTAL_CHROMIUM)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox, // containers and CI runners often forbid the user namespaces the sandbox needs
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), // fresh profile: no localStorage or cache from earlier runs
		chromedp.WindowSize(1280, 900),
	)
	// t.Context ends before the cleanups run, which stops the browser; cancel then waits
	// for the process, before TempDir's cleanup removes the profile.
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	tab, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	h := &Harness{t: t, tab: tab, console: &consoleLog{}}
	// The first Run starts the browser and binds it to tab, so it must have no timeout.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start Chromium %s: %v", bin, err)
	}
	if err := chromedp.Listen(tab, h.console.record); err != nil {
		t.Fatalf("listen to the console: %v", err)
	}
	return h
}

// findChromium returns the browser to run, or "" when there is none. An explicit
// HELPPORTAL_CHROMIUM that does not exist is not replaced by a PATH lookup, so a
// misconfigured path skips rather than silently testing another browser.
func findChromium() string {
	if p := os.Getenv("HELPPORTAL_CHROMIUM"); p != "" {
		if p, err := exec.LookPath(p); err == nil {
			return p
		}
		return ""
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Run runs f as a subtest that shares this browser and tab, so a failure or skip names the
// page it belongs to.
func (h *Harness) Run(name string, f func(h *Harness)) bool {
	return h.t.Run(name, func(t *testing.T) {
		sub := *h
		sub.t = t
		f(&sub)
	})
}

// T is the test the harness reports to.
func (h *Harness) T() *testing.T { return h.t }

// do runs the steps with a timeout and fails the test on error.
func (h *Harness) do(steps ...chromedp.Action[chromedp.Void]) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.tab, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		h.t.Fatal(err)
	}
}

// Open loads url, waits for the load event and starts a fresh console record for it.
func (h *Harness) Open(url string) {
	h.t.Helper()
	h.console.reset(url)
	h.do(chromedp.Navigate(url))
}

// Reload reloads the page, keeping the console record.
func (h *Harness) Reload() {
	h.t.Helper()
	h.do(chromedp.Reload())
}

// Eval evaluates js, awaiting a promise, and decodes its JSON value into out (nil: ignore).
func (h *Harness) Eval(js string, out any) {
	h.t.Helper()
	var raw []byte
	h.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
		raw, err = chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise)(ctx, tg)
		return err
	}))
	if out != nil && raw != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			h.t.Fatalf("decode result of %.60q: %v", js, err)
		}
	}
}

// Click clicks the first visible element matching the CSS selector.
func (h *Harness) Click(sel string) {
	h.t.Helper()
	h.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// Press types keys into the focused element; see chromedp/kb for named keys such as kb.Tab.
func (h *Harness) Press(keys string) {
	h.t.Helper()
	h.do(chromedp.KeyEvent(keys))
}

// WaitURL waits up to 10 s for the page to be at url (after a form submission).
func (h *Harness) WaitURL(url string) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		h.Eval(`location.href`, &got)
		if got == url {
			h.Eval(`new Promise(r => document.readyState === "complete" ? r(true) : addEventListener("load", () => r(true)))`, nil)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("page is at %s, want %s", got, url)
}

// SetViewport resizes the page's viewport (CSS pixels).
func (h *Harness) SetViewport(w, ht int) {
	h.t.Helper()
	h.do(chromedp.EmulateViewport(int64(w), int64(ht)))
}

// EmulateMedia sets the CSS media type, such as "print"; "" restores the default.
func (h *Harness) EmulateMedia(media string) {
	h.t.Helper()
	h.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return err
	}))
}

// Screenshot writes a PNG of the whole page, beyond the viewport, to path.
func (h *Harness) Screenshot(path string) {
	h.t.Helper()
	var png []byte
	h.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
		png, err = chromedp.FullScreenshot(100)(ctx, tg) // quality 100 means PNG
		return err
	}))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// ConsoleErrors returns the console errors, uncaught exceptions, error log entries and CSP
// violations since the last Open.
func (h *Harness) ConsoleErrors() []string { return h.console.errors() }

// consoleLog collects error messages. Chromium reports a CSP violation as an error entry of
// the browser log (source "security"), so it lands here too. Listen calls record on the
// browser's read loop, so an event that arrives before a command's reply is recorded before
// that command returns.
type consoleLog struct {
	mu   sync.Mutex
	page string
	msgs []string
}

func (c *consoleLog) reset(page string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.page, c.msgs = page, nil
}

func (c *consoleLog) errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

func (c *consoleLog) record(ev any) {
	var msg string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg = fmt.Sprintf("uncaught exception: %s (%s:%d)", d.Text, d.URL, d.LineNumber+1)
		if d.Exception != nil {
			msg += ": " + d.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type != runtime.ConsoleAPICalledTypeError && e.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range e.Args {
			var s string
			if json.Unmarshal(a.Value, &s) != nil {
				s = a.Description
			}
			parts = append(parts, s)
		}
		msg = "console." + string(e.Type) + ": " + strings.Join(parts, " ")
	case *cdplog.EventEntryAdded:
		en := e.Entry
		if en.Level != cdplog.EntryLevelError {
			return
		}
		c.mu.Lock()
		page := c.page
		c.mu.Unlock()
		// An error page is meant to answer 404; the test checks its status itself, so the
		// browser's "failed to load resource" for the document is not a finding.
		if en.Source == cdplog.EntrySourceNetwork && en.URL == page {
			return
		}
		msg = fmt.Sprintf("%s log: %s (%s)", en.Source, en.Text, en.URL)
	default:
		return
	}
	c.mu.Lock()
	c.msgs = append(c.msgs, msg)
	c.mu.Unlock()
}

// axeTags are the rule sets the portal promises: WCAG 2.1 A and AA, and axe's best practices.
const axeTags = `['wcag2a','wcag2aa','wcag21a','wcag21aa','best-practice']`

// Axe runs axe-core on the current page and fails the test with each violation; name
// labels the page in messages. It skips the test when axe-core is not installed.
func (h *Harness) Axe(name string) {
	h.t.Helper()
	path := findTool("HELPPORTAL_AXE_JS", ".ci/tools/node_modules/axe-core/axe.min.js")
	if path == "" {
		h.t.Skip("axe-core not found: run .ci/run's tool install or set HELPPORTAL_AXE_JS")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatal(err)
	}
	var loaded bool
	// Injected with Runtime.evaluate rather than a <script> tag: the page's CSP allows only
	// its own scripts, and DevTools evaluation is not subject to it.
	h.Eval(string(src)+"\n;typeof axe === 'object'", &loaded)
	if !loaded {
		h.t.Fatalf("%s: axe-core did not load from %s", name, path)
	}
	var res struct {
		Violations []struct {
			ID, Impact, Help, HelpURL string
			Nodes                     []struct {
				Target         []any
				FailureSummary string
			}
		}
	}
	h.Eval(`axe.run(document, {runOnly: {type: 'tag', values: `+axeTags+`}}).then(r => ({violations: r.violations}))`, &res)
	for _, v := range res.Violations {
		var targets []string
		for _, n := range v.Nodes[:min(3, len(v.Nodes))] {
			var sel []string // more than one part: a path through iframes or shadow roots
			for _, part := range n.Target {
				sel = append(sel, fmt.Sprint(part))
			}
			targets = append(targets, strings.Join(sel, " >> "))
		}
		var why string // axe's own words for the first element, e.g. the contrast ratio found
		if len(v.Nodes) > 0 {
			why = strings.Join(strings.Fields(v.Nodes[0].FailureSummary), " ")
		}
		h.t.Errorf("%s: axe %s (%s, %d element(s)): %s; e.g. %s; %s — %s",
			name, v.ID, v.Impact, len(v.Nodes), v.Help, strings.Join(targets, " | "), why, v.HelpURL)
	}
}

// ValidateHTML checks the documents (name → served HTML) with the Nu HTML Checker in one
// Java run, since the JVM's start dominates, and fails t on every error. It skips t when
// Java or vnu.jar is missing; call it in its own subtest so only that part is skipped.
func ValidateHTML(t *testing.T, docs map[string][]byte) {
	t.Helper()
	jar := findTool("HELPPORTAL_VNU_JAR", ".ci/tools/node_modules/vnu-jar/build/dist/vnu.jar")
	java, err := exec.LookPath("java")
	if jar == "" || err != nil {
		t.Skip("HTML validation skipped: needs java on PATH and vnu.jar (run .ci/run's tool install or set HELPPORTAL_VNU_JAR)")
	}
	dir := t.TempDir()
	// The checker recurses deeply; a big stack lets it run on the C1 compiler alone, which
	// halves the JVM's start-up cost for a one-shot run.
	args := []string{"-Xss16m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", jar, "--errors-only", "--format", "json"}
	for name, body := range docs {
		p := filepath.Join(dir, safeName.ReplaceAllString(name, "-")+".html")
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, java, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run() // exits 1 when it finds errors; the report says which
	var report struct {
		Messages []struct {
			Type, URL, Message, Extract string
			LastLine, FirstColumn       int
		}
	}
	// vnu writes the JSON report to stderr; the JVM may add lines to either stream.
	if json.Unmarshal(stderr.Bytes(), &report) != nil && json.Unmarshal(stdout.Bytes(), &report) != nil {
		t.Fatalf("vnu: %v\nstdout: %s\nstderr: %s", runErr, stdout.Bytes(), stderr.Bytes())
	}
	for _, m := range report.Messages {
		t.Errorf("%s:%d:%d: %s: %s (near %q)", filepath.Base(m.URL), m.LastLine, m.FirstColumn, m.Type, m.Message, strings.TrimSpace(m.Extract))
	}
	if len(report.Messages) == 0 && runErr != nil {
		t.Fatalf("vnu failed without messages: %v\n%s", runErr, stderr.Bytes())
	}
}

var safeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// findTool returns $env when set (and existing), else rel under the working directory or
// one of its parents up to the module root, else "".
func findTool(env, rel string) string {
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		return ""
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil || errors.Is(err, os.ErrPermission) {
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
