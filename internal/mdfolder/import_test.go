package mdfolder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"helpportal"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
)

var _ Store = (*store.DB)(nil)

// good is a folder that imports without problems and exercises every feature of the format.
var good = map[string]string{
	"getting-started/_category.yaml":       "name: Getting started\ndescription: First steps.\nposition: 1\n",
	"getting-started/welcome.md":           "---\ntitle: Welcome\ntags: [intro, start]\nsummary: \"Hello: start here.\"\n---\n\n## Hi\n\n1. Sign in.\n",
	"domains/_category.yaml":               "name: \"Domains & DNS\"\ndescription: Register and point domains.\nposition: 2\n",
	"domains/transfer-in.md":               "# Transfer a domain in\n\nAsk your old registrar for the code.\n",
	"domains/dns-records/_category.yaml":   "# comments are fine\nname: DNS records\nposition: 1\n",
	"domains/dns-records/a-record.md":      "---\ntitle: The A record\ntype: reference\nvisibility: clients\ntags: dns, records\n---\nAn A record points a name at an IPv4 address.\n",
	"domains/dns-records/mx.md":            "\uFEFF---\r\ntitle: MX records\r\ntype: faq\r\n---\r\n\r\nWhere mail goes.\r\n\r\n```\r\n# not a title\r\n```\r\n",
	"domains/domain-transfers/outgoing.md": "---\ntitle: Transfer a domain out\ntype: troubleshooting\n---\nUnlock it first.\n",
	"billing-stuff/invoice.md":             "---\ntitle: Read your invoice\ncategory: dns-records\n---\nLines and totals.\n",
	"email/_category.yaml":                 "name: Email\nslug: mail\nposition: 3\n",
	"email/setup.md":                       "---\ntitle: Set up email\nstatus: draft\nvisibility: staff\nsummary: |\n  Two lines\n  of summary.\n---\nIMAP and SMTP.\n",
	"faq.md":                               "---\ncategory: general-questions\n---\n# Frequently asked\n\nAnswers.\n",
	".hidden/secret.md":                    "---\ntitle: Hidden\n---\n",
	"email/.draft.md":                      "---\ntitle: Hidden\n---\n",
	"email/notes.txt":                      "not an article",
}

// bad adds files that must be reported while the good ones import.
var bad = map[string]string{
	"orphan.md":                "---\ntitle: Orphan\n---\nNo category.\n",
	"domains/typo.md":          "---\ntitel: Typo\n---\n",
	"domains/bad-type.md":      "---\ntype: tutorial\n---\n",
	"domains/dup.md":           "---\nslug: a-record\n---\n",
	"binary.md":                "\x89PNG\r\n\x1a\n\x00",
	"broken/_category.yaml":    "naem: Broken\n",
	"broken/in-broken.md":      "Text.\n",
	"broken/sub/deeper.md":     "Text.\n",
	"broken/sub/elsewhere.md":  "---\ncategory: mail\n---\nIts category is fine.\n",
	"more/mail/_x.md":          "x", // the folder mail's slug is taken by email
	"_category.yaml":           "name: Root\n",
	"domains/unterminated.md":  "---\ntitle: T\n",
	"getting-started/empty.md": "---\ntitle: \"\"\nslug: \"!\"\n---\n",
}

func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mapFS(sets ...map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for _, set := range sets {
		for name, content := range set {
			m[name] = &fstest.MapFile{Data: []byte(content)}
		}
	}
	return m
}

// dump describes the store's categories and articles as sorted lines, for comparisons.
func dump(t testing.TB, st Store) (cats, articles []string) {
	t.Helper()
	ctx := context.Background()
	list, err := st.Categories(ctx, staff)
	if err != nil {
		t.Fatal(err)
	}
	slug := map[int64]string{}
	for _, c := range list {
		slug[c.ID] = c.Slug
	}
	for _, c := range list {
		cats = append(cats, fmt.Sprintf("%s name=%q desc=%q pos=%d parent=%s", c.Slug, c.Name, c.Description, c.Position, slug[c.ParentID]))
	}
	err = st.EachArticle(ctx, func(a *helpportal.Article) error {
		articles = append(articles, fmt.Sprintf("%s title=%q summary=%q type=%s body=%q tags=%q status=%s vis=%s cat=%s parent=%s",
			a.Slug, a.Title, a.Summary, a.Type, a.Body, a.Tags, a.Status, a.Visibility, a.Category.Slug, slug[a.Category.ParentID]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(cats)
	slices.Sort(articles)
	return cats, articles
}

func updatedAt(t testing.TB, st Store) map[string]time.Time {
	t.Helper()
	m := map[string]time.Time{}
	if err := st.EachArticle(context.Background(), func(a *helpportal.Article) error {
		m[a.Slug] = a.UpdatedAt
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	rep, err := Import(ctx, db, mapFS(good, bad))
	if err != nil {
		t.Fatal(err)
	}
	// getting-started, domains, dns-records, domain-transfers, billing-stuff, mail, more, general-questions
	if rep.Categories != 8 || rep.Articles != 9 {
		t.Errorf("report: %d categories, %d articles; want 8, 9", rep.Categories, rep.Articles)
	}
	wantProblems := []Problem{
		{"_category.yaml", "not a category itself"},
		{"binary.md", "NUL byte on line 3"},
		{"broken/_category.yaml", `unknown key "naem" on line 1`},
		{"broken/in-broken.md", "see the problem with broken/_category.yaml"},
		{"broken/sub/deeper.md", "see the problem with broken/_category.yaml"},
		{"domains/bad-type.md", `type "tutorial"`},
		{"domains/dup.md", `slug "a-record" is also used by domains/dns-records/a-record.md`},
		{"domains/typo.md", `unknown key "titel"`},
		{"domains/unterminated.md", "no closing --- line"},
		{"getting-started/empty.md", `slug "!"`},
		{"more/mail", `slug "mail" is also used by the folder email`},
		{"more/mail/_x.md", "see the problem with more/mail"},
		{"orphan.md", "not in a category folder"},
	}
	if len(rep.Problems) != len(wantProblems) {
		t.Errorf("%d problems, want %d:\n%v", len(rep.Problems), len(wantProblems), rep.Problems)
	}
	for i := range min(len(rep.Problems), len(wantProblems)) {
		got, want := rep.Problems[i], wantProblems[i]
		if got.Path != want.Path || !strings.Contains(got.Reason, want.Reason) {
			t.Errorf("problem %d: %s: %s\nwant %s: …%s…", i, got.Path, got.Reason, want.Path, want.Reason)
		}
	}

	cats, articles := dump(t, db)
	wantCats := []string{
		`billing-stuff name="Billing stuff" desc="" pos=0 parent=`,
		`dns-records name="DNS records" desc="" pos=1 parent=domains`,
		`domain-transfers name="Domain transfers" desc="" pos=0 parent=domains`,
		`domains name="Domains & DNS" desc="Register and point domains." pos=2 parent=`,
		`general-questions name="General questions" desc="" pos=0 parent=`,
		`getting-started name="Getting started" desc="First steps." pos=1 parent=`,
		`mail name="Email" desc="" pos=3 parent=`,
		`more name="More" desc="" pos=0 parent=`,
	}
	if !slices.Equal(cats, wantCats) {
		t.Errorf("categories:\n%s\nwant\n%s", strings.Join(cats, "\n"), strings.Join(wantCats, "\n"))
	}
	wantArticles := []string{
		`a-record title="The A record" summary="" type=reference body="An A record points a name at an IPv4 address." tags=["dns" "records"] status=published vis=clients cat=dns-records parent=domains`,
		`elsewhere title="Elsewhere" summary="" type=how-to body="Its category is fine." tags=[] status=published vis=public cat=mail parent=`,
		`faq title="Frequently asked" summary="" type=how-to body="Answers." tags=[] status=published vis=public cat=general-questions parent=`,
		`invoice title="Read your invoice" summary="" type=how-to body="Lines and totals." tags=[] status=published vis=public cat=dns-records parent=domains`,
		"mx title=\"MX records\" summary=\"\" type=faq body=\"Where mail goes.\\n\\n```\\n# not a title\\n```\" tags=[] status=published vis=public cat=dns-records parent=domains",
		`outgoing title="Transfer a domain out" summary="" type=troubleshooting body="Unlock it first." tags=[] status=published vis=public cat=domain-transfers parent=domains`,
		`setup title="Set up email" summary="Two lines\nof summary." type=how-to body="IMAP and SMTP." tags=[] status=draft vis=staff cat=mail parent=`,
		`transfer-in title="Transfer a domain in" summary="" type=how-to body="Ask your old registrar for the code." tags=[] status=published vis=public cat=domains parent=`,
		`welcome title="Welcome" summary="Hello: start here." type=how-to body="## Hi\n\n1. Sign in." tags=["intro" "start"] status=published vis=public cat=getting-started parent=`,
	}
	if !slices.Equal(articles, wantArticles) {
		t.Errorf("articles:\n%s\nwant\n%s", strings.Join(articles, "\n"), strings.Join(wantArticles, "\n"))
	}
}

func TestImportIdempotent(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	dir := t.TempDir()
	writeTree(t, dir, good)
	writeTree(t, dir, bad)
	first, err := Import(ctx, db, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	before, seq := updatedAt(t, db), db.ChangeSeq()
	cats, articles := dump(t, db)

	// A later clock would show in UpdatedAt if anything were written again.
	later := time.Now().Add(time.Hour)
	db.SetClock(func() time.Time { return later })
	second, err := Import(ctx, db, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("second import reported\n%+v\nfirst\n%+v", second, first)
	}
	if got := db.ChangeSeq(); got != seq {
		t.Errorf("second import wrote %d changes", got-seq)
	}
	if after := updatedAt(t, db); !reflect.DeepEqual(before, after) {
		t.Errorf("UpdatedAt changed: %v → %v", before, after)
	}
	if c, a := dump(t, db); !slices.Equal(c, cats) || !slices.Equal(a, articles) {
		t.Errorf("store changed by the second import")
	}

	// Editing one file updates that article and nothing else.
	writeTree(t, dir, map[string]string{"domains/transfer-in.md": "# Transfer a domain in\n\nNew text.\n"})
	if _, err := Import(ctx, db, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	after := updatedAt(t, db)
	for slug, at := range after {
		if changed := !at.Equal(before[slug]); changed != (slug == "transfer-in") {
			t.Errorf("%s: UpdatedAt %v → %v", slug, before[slug], at)
		}
	}
	if _, a := dump(t, db); !slices.ContainsFunc(a, func(s string) bool {
		return strings.HasPrefix(s, "transfer-in") && strings.Contains(s, `body="New text."`)
	}) {
		t.Errorf("edited article not updated:\n%s", strings.Join(a, "\n"))
	}
}

// tree reads every file under dir by slash path.
func tree(t testing.TB, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(src)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	db1, db2 := storetest.MustOpen(t), storetest.MustOpen(t)
	if _, err := Import(ctx, db1, mapFS(good)); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b", "nested") // Export creates both
	if err := Export(ctx, db1, a); err != nil {
		t.Fatal(err)
	}
	rep, err := Import(ctx, db2, os.DirFS(a))
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("import of the export: %+v, %v", rep, err)
	}
	if err := Export(ctx, db2, b); err != nil {
		t.Fatal(err)
	}
	ta, tb := tree(t, a), tree(t, b)
	if !reflect.DeepEqual(ta, tb) {
		t.Errorf("exports differ:\n%v\n%v", ta, tb)
	}
	if len(ta) != 8+7 {
		t.Errorf("export has %d files, want 8 articles and 7 _category.yaml", len(ta))
	}
	for _, name := range []string{"domains/dns-records/invoice.md", "mail/setup.md", "general-questions/_category.yaml"} {
		if _, ok := ta[name]; !ok {
			t.Errorf("export has no %s", name)
		}
	}
	want := "---\ntitle: Set up email\nslug: setup\ntype: how-to\ntags: []\nsummary: |-\n    Two lines\n    of summary.\nstatus: draft\nvisibility: staff\n---\n\nIMAP and SMTP.\n"
	if got := ta["mail/setup.md"]; got != want {
		t.Errorf("mail/setup.md:\n%s\nwant\n%s", got, want)
	}
	c1, a1 := dump(t, db1)
	c2, a2 := dump(t, db2)
	if !slices.Equal(c1, c2) || !slices.Equal(a1, a2) {
		t.Errorf("stores differ:\n%s\n%s\n---\n%s\n%s", strings.Join(c1, "\n"), strings.Join(a1, "\n"), strings.Join(c2, "\n"), strings.Join(a2, "\n"))
	}
}

func TestExportRefuses(t *testing.T) {
	db := storetest.MustOpen(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"old.md": "x"})
	for _, d := range []string{dir, filepath.Join(dir, "old.md")} {
		if err := Export(context.Background(), db, d); helpportal.ErrorCode(err) != helpportal.EINVALID {
			t.Errorf("Export(%s) = %v, want EINVALID", d, err)
		}
	}
}

// faulty wraps a store: it refuses the article with slug poison as the store refuses a bad
// article (leaving IDs set on the batch, as a rolled-back SaveArticles does), or fails every
// batch with down.
type faulty struct {
	*store.DB
	poison string
	down   error
}

func (f *faulty) SaveArticles(ctx context.Context, list []*helpportal.Article) error {
	if f.down != nil {
		return f.down
	}
	if !slices.ContainsFunc(list, func(a *helpportal.Article) bool { return a.Slug == f.poison }) {
		return f.DB.SaveArticles(ctx, list)
	}
	for i, a := range list {
		a.ID = int64(1_000_000 + i)
	}
	return helpportal.Errorf(helpportal.EINVALID, "The body of %q could not be rendered.", f.poison)
}

func (f *faulty) SaveArticle(ctx context.Context, a *helpportal.Article) error {
	if a.Slug == f.poison {
		return helpportal.Errorf(helpportal.EINVALID, "The body of %q could not be rendered.", a.Slug)
	}
	return f.DB.SaveArticle(ctx, a)
}

func TestImportBatches(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{}
	const n = 2*batchSize + 37
	for i := range n {
		files[fmt.Sprintf("cat/a%04d.md", i)] = fmt.Sprintf("# Article %d\n\nBody %d.\n", i, i)
	}
	st := &faulty{DB: storetest.MustOpen(t), poison: "a0600"}
	rep, err := Import(ctx, st, mapFS(files))
	if err != nil {
		t.Fatal(err)
	}
	want := []Problem{{"cat/a0600.md", `The body of "a0600" could not be rendered.`}}
	if rep.Articles != n-1 || !reflect.DeepEqual(rep.Problems, want) {
		t.Errorf("report %d articles, problems %v", rep.Articles, rep.Problems)
	}
	if got := len(updatedAt(t, st)); got != n-1 {
		t.Errorf("%d articles in the store, want %d", got, n-1)
	}

	// Failures that are not a file's fault end the import with an error.
	st.down = errors.New("disk on fire")
	if _, err := Import(ctx, st, mapFS(files)); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("store failure: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Import(cancelled, st.DB, mapFS(files)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestImportLarge times an import of MDFOLDER_BIG generated articles of about 600 words,
// e.g. MDFOLDER_BIG=100000 go test -run TestImportLarge -v ./internal/mdfolder/
func TestImportLarge(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("MDFOLDER_BIG"))
	if n <= 0 {
		t.Skip("set MDFOLDER_BIG to the number of articles")
	}
	dir := t.TempDir()
	words := strings.Fields("account domain record server mail password invoice renew transfer backup restore site plugin cache error the a to of and in for with your")
	var b strings.Builder
	for i := range n {
		b.Reset()
		fmt.Fprintf(&b, "---\ntitle: Article %d\ntags: [t%d, t%d]\nsummary: Summary %d.\n---\n\n", i, i%97, i%13, i)
		for w := range 600 {
			switch {
			case w%150 == 0:
				fmt.Fprintf(&b, "\n\n## Section %d\n\n", w/150)
			case w%40 == 0:
				b.WriteString("\n\n1. ")
			}
			b.WriteString(words[(i*7+w*13)%len(words)])
			b.WriteByte(' ')
		}
		p := filepath.Join(dir, fmt.Sprintf("cat-%02d", i%50), fmt.Sprintf("article-%06d.md", i))
		if i < 50 {
			os.MkdirAll(filepath.Dir(p), 0o755)
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := storetest.MustOpen(t)
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	start := time.Now()
	rep, err := Import(context.Background(), db, os.DirFS(dir))
	took := time.Since(start)
	close(done)
	if err != nil || rep.Articles != n || len(rep.Problems) > 0 {
		t.Fatalf("%d articles, problems %v, %v", rep.Articles, rep.Problems[:min(len(rep.Problems), 5)], err)
	}
	t.Logf("imported %d articles in %v (%.0f/s), peak heap %d MiB, GOMAXPROCS %d", n, took, float64(n)/took.Seconds(), peak.Load()>>20, runtime.GOMAXPROCS(0))
	if took > 2*time.Minute {
		t.Errorf("import took %v, want well under 2 minutes", took)
	}
	start = time.Now()
	if err := Export(context.Background(), db, filepath.Join(t.TempDir(), "export")); err != nil {
		t.Fatal(err)
	}
	t.Logf("exported in %v", time.Since(start))
}
