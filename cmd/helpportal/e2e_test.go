package main_test

import (
	"bufio"
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "helpportal-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "helpportal")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the binary to completion and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv()
	cmd.Dir = t.TempDir() // a default ./data must never land in the source tree
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// cleanEnv drops HELPPORTAL_* variables so the tests see only their own flags.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HELPPORTAL_") {
			env = append(env, kv)
		}
	}
	return env
}

var readyRE = regexp.MustCompile(`ready on (https?://\S+)`)

// serve starts `helpportal serve` on a free port and returns its base URL and output so far.
func serve(t *testing.T, args ...string) (string, *bytes.Buffer) {
	base, out, _ := serveLogs(t, args...)
	return base, out
}

// serveLogs is serve that also returns the server's log (standard error).
func serveLogs(t *testing.T, args ...string) (string, *bytes.Buffer, *syncBuffer) {
	t.Helper()
	i := startInstance(t, args...)
	return i.base, i.out, i.log
}

// instance is a `helpportal serve` process the test may kill.
type instance struct {
	base   string
	cmd    *exec.Cmd
	out    *bytes.Buffer // standard output up to "ready"
	log    *syncBuffer   // standard error
	killed bool
}

// startInstance starts `helpportal serve` on a free port; at the end of the test it is
// stopped with an interrupt (and must exit cleanly) unless the test killed it.
func startInstance(t *testing.T, args ...string) *instance {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = cleanEnv()
	cmd.Dir = t.TempDir()
	inst := &instance{cmd: cmd, log: &syncBuffer{}, out: &bytes.Buffer{}}
	cmd.Stderr = inst.log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if inst.killed {
			return
		}
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve exited: %v\n%s", err, inst.log.String())
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Errorf("serve did not stop on an interrupt\n%s", inst.log.String())
		}
	})
	lines := bufio.NewScanner(stdout)
	timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	for lines.Scan() {
		inst.out.WriteString(lines.Text() + "\n")
		if m := readyRE.FindStringSubmatch(lines.Text()); m != nil {
			go io.Copy(io.Discard, stdout)
			inst.base = m[1]
			return inst
		}
	}
	t.Fatalf("serve never became ready:\n%s\n%s", inst.out.String(), inst.log.String())
	return nil
}

// kill ends the process with SIGKILL: no shutdown, no lease released.
func (i *instance) kill(t *testing.T) {
	t.Helper()
	i.killed = true
	if err := i.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	i.cmd.Wait() //nolint:errcheck // "signal: killed" is the point
}

// syncBuffer is a bytes.Buffer safe to read while the process writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestServeWalksTheDemoPortal starts the binary on demo content and follows every internal
// link from the home page, as a visitor clicking through would.
func TestServeWalksTheDemoPortal(t *testing.T) {
	data := t.TempDir()
	base, out := serve(t, "--data", data)
	if !strings.Contains(out.String(), "Seeded the demo content") {
		t.Errorf("first start did not seed the demo:\n%s", out)
	}
	// The one demo article only signed-in clients may read.
	notYet := map[string]bool{"/articles/request-a-server-migration": true}
	seen := map[string]bool{"/": true}
	queue := []string{"/"}
	articles := 0
	for len(queue) > 0 && len(seen) < 400 {
		path := queue[0]
		queue = queue[1:]
		status, body := get(t, base+path)
		if status != http.StatusOK {
			t.Errorf("GET %s = %d", path, status)
			continue
		}
		if strings.HasPrefix(path, "/articles/") {
			articles++
		}
		if !strings.HasSuffix(path, ".xml") && !strings.HasSuffix(path, ".atom") {
			for _, link := range links(t, body) {
				if !seen[link] && !notYet[link] {
					seen[link] = true
					queue = append(queue, link)
				}
			}
		}
	}
	if status, body := get(t, base+"/readyz"); status != 200 || !strings.Contains(body, "ready") {
		t.Errorf("readyz = %d %q", status, body)
	}
	if articles < 30 {
		t.Errorf("reached %d article pages, want at least 30", articles)
	}
	if status, body := get(t, base+"/no-such-page"); status != http.StatusNotFound || !strings.Contains(body, "find that page") {
		t.Errorf("GET /no-such-page = %d", status)
	}
	// The clients-only article sends anonymous readers to sign in, and shows nothing of it.
	if status, body := get(t, base+"/articles/request-a-server-migration"); status != 200 || !strings.Contains(body, `name="next" value="/articles/request-a-server-migration"`) ||
		strings.Contains(body, "Request a server migration") {
		t.Errorf("clients-only article for anonymous = %d", status)
	}
}

// links returns the internal links of a page, without fragments, queries to search or
// static files.
func links(t *testing.T, body string) []string {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "a" {
			continue
		}
		for _, a := range n.Attr {
			if a.Key != "href" || !strings.HasPrefix(a.Val, "/") || strings.HasPrefix(a.Val, "//") {
				continue
			}
			href, _, _ := strings.Cut(a.Val, "#")
			if href != "" && !strings.HasPrefix(href, "/static/") {
				out = append(out, href)
			}
		}
	}
	return out
}

func TestServeReusesDataAndNoDemo(t *testing.T) {
	data := t.TempDir()
	_, out := serve(t, "--data", data, "--no-demo")
	if strings.Contains(out.String(), "Seeded") {
		t.Errorf("--no-demo seeded:\n%s", out)
	}
	base, out := serve(t, "--data", data)
	if strings.Contains(out.String(), "Seeded") {
		t.Errorf("second start seeded again:\n%s", out)
	}
	if _, body := get(t, base+"/"); !strings.Contains(body, "There are no articles yet") {
		t.Error("an empty portal does not say it is empty")
	}
}

func TestImportBeforeFirstServeKeepsContent(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "billing"), 0o755)
	os.WriteFile(filepath.Join(dir, "billing", "pay.md"), []byte("---\ntitle: Pay an invoice\n---\nPay it.\n"), 0o644)
	data := t.TempDir()
	if code, out, errOut := run(t, "import", "--data", data, dir); code != 0 {
		t.Fatalf("import = %d\n%s%s", code, out, errOut)
	}
	base, out := serve(t, "--data", data)
	if strings.Contains(out.String(), "Seeded") {
		t.Errorf("demo content seeded over imported content:\n%s", out)
	}
	if status, body := get(t, base+"/"); status != 200 || !strings.Contains(body, "Pay an invoice") {
		t.Errorf("home = %d without the imported article", status)
	}
}

func TestImportExportRoundTrip(t *testing.T) {
	demo := t.TempDir()
	serve(t, "--data", demo) // seeds the demo, then stops at the end of the test
	first := filepath.Join(t.TempDir(), "first")
	if code, out, errOut := run(t, "export", "--data", demo, first); code != 0 {
		t.Fatalf("export = %d\n%s%s", code, out, errOut)
	}
	fresh := t.TempDir()
	code, out, errOut := run(t, "import", "--data", fresh, first)
	if code != 0 || !strings.Contains(out, "Imported 38 articles") {
		t.Fatalf("import = %d\n%s%s", code, out, errOut)
	}
	second := filepath.Join(t.TempDir(), "second")
	if code, _, errOut := run(t, "export", "--data", fresh, second); code != 0 {
		t.Fatalf("second export failed: %s", errOut)
	}
	a, b := readTree(t, first), readTree(t, second)
	if len(a) < 38 || len(a) != len(b) {
		t.Fatalf("exports have %d and %d files", len(a), len(b))
	}
	for name, content := range a {
		if b[name] != content {
			t.Errorf("%s differs after the round trip", name)
		}
	}
	// Importing again is idempotent.
	if code, out, _ := run(t, "import", "--data", fresh, first); code != 0 || !strings.Contains(out, "Imported 38 articles") {
		t.Errorf("re-import = %d %s", code, out)
	}
	// Exporting into a non-empty folder is refused.
	if code, _, errOut := run(t, "export", "--data", fresh, first); code != 1 || errOut == "" {
		t.Errorf("export into a non-empty folder = %d %q", code, errOut)
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestBackupWhileServing(t *testing.T) {
	data := t.TempDir()
	base, _ := serve(t, "--data", data)
	file := filepath.Join(t.TempDir(), "copy.db")
	if code, out, errOut := run(t, "backup", "--data", data, file); code != 0 || !strings.Contains(out, "Backed up") {
		t.Fatalf("backup = %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := run(t, "backup", "--data", data, file); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("backup over an existing file = %d %s", code, errOut)
	}
	if status, _ := get(t, base+"/"); status != 200 {
		t.Errorf("the portal stopped answering during the backup: %d", status)
	}
	// The copy is a whole portal: export from it.
	restored := t.TempDir()
	if err := os.Rename(file, filepath.Join(restored, "helpportal.db")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "export")
	if code, _, errOut := run(t, "export", "--data", restored, out); code != 0 {
		t.Fatalf("export from the backup = %d %s", code, errOut)
	}
	if n := len(readTree(t, out)); n < 38 {
		t.Errorf("the backup exported %d files", n)
	}
}

func TestImportReportsBadFiles(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "billing"), 0o755)
	os.WriteFile(filepath.Join(dir, "billing", "good.md"), []byte("---\ntitle: Good\n---\nFine.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "billing", "bad.md"), []byte("---\ntitle: Bad\ntype: blog\n---\nNo.\n"), 0o644)
	code, out, errOut := run(t, "import", "--data", t.TempDir(), dir)
	if code != 1 || !strings.Contains(errOut, filepath.Join("billing", "bad.md")) || !strings.Contains(out, "Imported 1 articles") {
		t.Errorf("import = %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

func TestCommandLineErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"serve", "--addr", "nonsense"}, 1, "--addr"},
		{[]string{"serve", "--base-url", "ftp://x"}, 1, "--base-url"},
		{[]string{"serve", "--database-url", "mysql://x"}, 1, "--database-url"},
		{[]string{"serve", "--database-url", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}, 1, "127.0.0.1"},
		{[]string{"migrate", "--database-url", "postgres://nobody@no-such-host.invalid/x?connect_timeout=2"}, 1, "no-such-host.invalid"},
		{[]string{"serve", "--header-links", "Prices"}, 1, "--header-links"},
		{[]string{"import"}, 2, "Usage: helpportal import"},
		{[]string{"import", "/no/such/folder"}, 1, "/no/such/folder is not a folder"},
		{[]string{"export"}, 2, "Usage: helpportal export"},
		{[]string{"serve", "--trusted-proxies", "10.0.0.0/99"}, 1, "--trusted-proxies"},
		{[]string{"user"}, 2, "helpportal user add"},
		{[]string{"user", "add", "--email", "not-an-email", "--name", "N"}, 1, "--email"},
		{[]string{"user", "add", "--email", "a@example.com", "--name", " "}, 1, "--name"},
		{[]string{"user", "add", "--email", "a@example.com", "--name", "N", "--role", "wizard"}, 1, "--role"},
		{[]string{"user", "add", "--email", "a@example.com", "--name", "N", "--password-stdin"}, 1, "password was refused"},
		{[]string{"backup"}, 2, "needs one file"},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("helpportal %v = %d, want %d with %q\n%s%s", tc.args, code, tc.code, tc.want, out, errOut)
		}
	}
	for _, cmd := range []string{"serve", "migrate", "import", "export", "backup", "reindex", "user add", "user invite"} {
		if code, out, errOut := run(t, append(strings.Fields(cmd), "--help")...); code != 0 || !strings.Contains(out+errOut, "Usage: helpportal "+cmd) {
			t.Errorf("%s --help = %d\n%s%s", cmd, code, out, errOut)
		}
	}
}

func TestMetricsAreOptIn(t *testing.T) {
	data := t.TempDir()
	base, _ := serve(t, "--data", data, "--no-demo")
	if status, _ := get(t, base+"/metrics"); status != 404 {
		t.Errorf("/metrics without --metrics = %d", status)
	}
	base, _ = serve(t, "--data", data, "--metrics")
	get(t, base+"/")
	if status, body := get(t, base+"/metrics"); status != 200 || !strings.Contains(body, `helpportal_http_requests_total{code="200",route="GET /{$}"}`) {
		t.Errorf("/metrics with --metrics = %d", status)
	}
}

var setupRE = regexp.MustCompile(`/invite/[A-Za-z0-9_-]{43}`)

// setupLink is the path of the one-time set-up link serve printed in out.
func setupLink(t *testing.T, out string) string {
	t.Helper()
	link := setupRE.FindString(out)
	if link == "" {
		t.Fatalf("serve printed no set-up link:\n%s", out)
	}
	return link
}
