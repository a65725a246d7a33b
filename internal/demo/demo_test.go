package demo

import (
	"bytes"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"helpportal"
)

// categoryFile is the _category.yaml of a folder.
type categoryFile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Position    *int   `yaml:"position"`
}

// frontMatter is the YAML block at the top of an article. Slug and category are deliberately
// absent: they come from the file and folder names, and decoding rejects unknown keys.
type frontMatter struct {
	Title      string   `yaml:"title"`
	Type       string   `yaml:"type"`
	Tags       []string `yaml:"tags"`
	Summary    string   `yaml:"summary"`
	Status     string   `yaml:"status"`
	Visibility string   `yaml:"visibility"`
}

type category struct {
	dir  string // path inside Content()
	slug string
	cat  categoryFile
	subs []string
}

type article struct {
	file string // path inside Content()
	slug string
	dir  string
	fm   frontMatter
	body string
	line int // lines before the body, to report file line numbers
}

// demo is the parsed content tree; each test loads its own.
type demo struct {
	cats     map[string]*category // by dir
	top      []*category
	articles []*article
	bySlug   map[string]*article
}

func strictYAML(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// splitFrontMatter returns the YAML between the leading "---" lines, the body after them, and
// the number of lines before the body.
func splitFrontMatter(src string) (fm, body string, before int, ok bool) {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	if !strings.HasPrefix(src, "---\n") {
		return "", "", 0, false
	}
	rest := src[len("---\n"):]
	end := strings.Index(rest, "\n---\n")
	if end < 0 {
		return "", "", 0, false
	}
	fm = rest[:end+1]
	return fm, rest[end+len("\n---\n"):], strings.Count(fm, "\n") + 2, true
}

func load(t *testing.T) *demo {
	t.Helper()
	fsys := Content()
	d := &demo{cats: map[string]*category{}, bySlug: map[string]*article{}}
	err := fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case e.IsDir() && p == ".":
		case e.IsDir():
			data, err := fs.ReadFile(fsys, path.Join(p, "_category.yaml"))
			if err != nil {
				t.Errorf("%s: no _category.yaml: %v", p, err)
			}
			c := &category{dir: p, slug: path.Base(p)}
			if err == nil {
				if err := strictYAML(data, &c.cat); err != nil {
					t.Errorf("%s/_category.yaml: %v", p, err)
				}
			}
			d.cats[p] = c
			if parent := path.Dir(p); parent == "." {
				d.top = append(d.top, c)
			} else if pc := d.cats[parent]; pc != nil {
				pc.subs = append(pc.subs, p)
			}
		case e.Name() == "_category.yaml":
			if path.Dir(p) == "." {
				t.Errorf("%s: the root holds category folders, not a category", p)
			}
		case strings.HasSuffix(p, ".md"):
			if path.Dir(p) == "." {
				t.Errorf("%s: an article must be inside a category folder", p)
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			a := &article{file: p, slug: strings.TrimSuffix(e.Name(), ".md"), dir: path.Dir(p)}
			fm, body, before, ok := splitFrontMatter(string(data))
			if !ok {
				t.Errorf("%s: no front matter between --- lines", p)
				return nil
			}
			if err := strictYAML([]byte(fm), &a.fm); err != nil {
				t.Errorf("%s: front matter: %v", p, err)
			}
			a.body, a.line = body, before
			if prev := d.bySlug[a.slug]; prev != nil {
				t.Errorf("%s: slug %q is also used by %s", p, a.slug, prev.file)
			}
			d.bySlug[a.slug] = a
			d.articles = append(d.articles, a)
		default:
			t.Errorf("%s: unexpected file (only .md articles and _category.yaml belong here)", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCategories(t *testing.T) {
	d := load(t)
	slugs := map[string]string{}
	for dir, c := range d.cats {
		if !helpportal.ValidSlug(c.slug) {
			t.Errorf("%s: folder name %q is not a lowercase-hyphen slug", dir, c.slug)
		}
		if other, dup := slugs[c.slug]; dup {
			t.Errorf("%s: category slug %q is also used by %s", dir, c.slug, other)
		}
		slugs[c.slug] = dir
		if a := d.bySlug[c.slug]; a != nil {
			t.Errorf("%s: category slug %q is also an article slug (%s)", dir, c.slug, a.file)
		}
		if strings.TrimSpace(c.cat.Name) == "" {
			t.Errorf("%s/_category.yaml: empty name", dir)
		}
		if strings.TrimSpace(c.cat.Description) == "" {
			t.Errorf("%s/_category.yaml: empty description", dir)
		}
		if c.cat.Position == nil {
			t.Errorf("%s/_category.yaml: no integer position", dir)
		}
		if strings.Count(dir, "/") > 1 {
			t.Errorf("%s: categories nest at most one level", dir)
		}
		if len(c.subs) > 2 {
			t.Errorf("%s: %d sub-categories, want at most 2", dir, len(c.subs))
		}
	}

	// Positions order siblings, so they must not tie.
	siblings := map[string]map[int]string{}
	for dir, c := range d.cats {
		if c.cat.Position == nil {
			continue
		}
		parent := path.Dir(dir)
		if siblings[parent] == nil {
			siblings[parent] = map[int]string{}
		}
		if other, dup := siblings[parent][*c.cat.Position]; dup {
			t.Errorf("%s and %s share position %d", dir, other, *c.cat.Position)
		}
		siblings[parent][*c.cat.Position] = dir
	}

	if len(d.top) < 6 {
		t.Errorf("%d top-level categories, want at least 6", len(d.top))
	}
	names := map[string]bool{}
	withSubs := 0
	for _, c := range d.top {
		names[c.cat.Name] = true
		if len(c.subs) > 0 {
			withSubs++
		}
	}
	for _, want := range []string{"Getting started", "Client area & security", "Billing & invoices", "Domains & DNS", "Email", "Hosting & websites"} {
		if !names[want] {
			t.Errorf("no top-level category named %q", want)
		}
	}
	if withSubs < 3 {
		t.Errorf("%d top-level categories have sub-categories, want at least 3", withSubs)
	}

	// Every category holds at least one article, directly or below.
	used := map[string]bool{}
	for _, a := range d.articles {
		for dir := a.dir; dir != "."; dir = path.Dir(dir) {
			used[dir] = true
		}
	}
	for dir := range d.cats {
		if !used[dir] {
			t.Errorf("%s: category without articles", dir)
		}
	}
}

var (
	tagRE      = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
	linkRE     = regexp.MustCompile(`/articles/([A-Za-z0-9_-]+)`)
	calloutRE  = regexp.MustCompile(`^>\s*\[!([A-Za-z]+)\]`)
	orderedRE  = regexp.MustCompile(`^\d+\.\s`)
	bulletRE   = regexp.MustCompile(`^[-*+]\s`)
	tableSepRE = regexp.MustCompile(`^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$`)
)

// line is one body line outside fenced code blocks.
type line struct {
	n    int
	text string
}

// prose returns the body's lines outside fenced code, and the info strings of its fences. It
// reports unclosed fences through ok.
func prose(body string) (lines []line, fences []string, ok bool) {
	in := false
	for i, l := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "```") {
			if !in {
				fences = append(fences, strings.TrimSpace(strings.TrimPrefix(trimmed, "```")))
			}
			in = !in
			continue
		}
		if !in {
			lines = append(lines, line{i + 1, l})
		}
	}
	return lines, fences, !in
}

func TestArticles(t *testing.T) {
	d := load(t)
	if len(d.articles) < 34 {
		t.Errorf("%d articles, want at least 34", len(d.articles))
	}
	types := map[string]int{}
	status := map[string][]string{}
	visibility := map[string][]string{}
	tagUse := map[string]int{}
	tables, inRange := 0, 0
	for _, a := range d.articles {
		fm := a.fm
		if !helpportal.ValidSlug(a.slug) {
			t.Errorf("%s: file name %q is not a lowercase-hyphen slug", a.file, a.slug)
		}
		if strings.TrimSpace(fm.Title) == "" {
			t.Errorf("%s: no title", a.file)
		}
		if !helpportal.ArticleType(fm.Type).Valid() {
			t.Errorf("%s: type %q is not one of %v", a.file, fm.Type, helpportal.ArticleTypes)
		}
		types[fm.Type]++
		if n := len(fm.Tags); n < 2 || n > 5 {
			t.Errorf("%s: %d tags, want 2 to 5", a.file, n)
		}
		seen := map[string]bool{}
		for _, tag := range fm.Tags {
			if !tagRE.MatchString(tag) {
				t.Errorf("%s: tag %q is not lowercase letters, digits and hyphens", a.file, tag)
			}
			if seen[tag] {
				t.Errorf("%s: tag %q twice", a.file, tag)
			}
			seen[tag] = true
			tagUse[tag]++
		}
		s := strings.TrimSpace(fm.Summary)
		switch {
		case s == "":
			t.Errorf("%s: no summary", a.file)
		case utf8.RuneCountInString(s) > 200:
			t.Errorf("%s: summary is %d characters, want at most 200", a.file, utf8.RuneCountInString(s))
		case strings.Contains(s, "\n"):
			t.Errorf("%s: summary spans lines", a.file)
		}
		switch fm.Status {
		case "", "published", "draft":
			status[fm.Status] = append(status[fm.Status], a.slug)
		default:
			t.Errorf("%s: status %q is not draft or published", a.file, fm.Status)
		}
		switch fm.Visibility {
		case "", "public", "clients", "staff":
			visibility[fm.Visibility] = append(visibility[fm.Visibility], a.slug)
		default:
			t.Errorf("%s: visibility %q is not public, clients or staff", a.file, fm.Visibility)
		}

		lines, fences, closed := prose(a.body)
		if !closed {
			t.Errorf("%s: unclosed code fence", a.file)
		}
		for _, info := range fences {
			if info == "" {
				t.Errorf("%s: a fenced code block has no language", a.file)
			}
		}
		firstList := ""
		for _, l := range lines {
			if strings.HasPrefix(l.text, "# ") {
				t.Errorf("%s:%d: a top-level # heading; the title comes from front matter, use ## and below", a.file, a.line+l.n)
			}
			if m := calloutRE.FindStringSubmatch(l.text); m != nil && m[1] != "NOTE" && m[1] != "TIP" && m[1] != "WARNING" {
				t.Errorf("%s:%d: callout [!%s], want NOTE, TIP or WARNING", a.file, a.line+l.n, m[1])
			}
			if tableSepRE.MatchString(strings.TrimSpace(l.text)) {
				tables++
			}
			if firstList == "" {
				switch {
				case orderedRE.MatchString(l.text):
					firstList = "ordered"
				case bulletRE.MatchString(l.text):
					firstList = "bullet"
				}
			}
		}
		if (fm.Type == "how-to" || fm.Type == "walkthrough") && firstList != "ordered" {
			t.Errorf("%s: a %s's first top-level list must be numbered steps (found %q)", a.file, fm.Type, firstList)
		}
		if fm.Type == "troubleshooting" {
			checkSymptomCauseFix(t, a.file, lines)
		}
		words := len(strings.Fields(a.body))
		if words < 150 || words > 1200 {
			t.Errorf("%s: %d words, want roughly 250 to 700", a.file, words)
		}
		if words >= 250 && words <= 700 {
			inRange++
		}
	}

	for _, typ := range helpportal.ArticleTypes {
		if types[string(typ)] < 4 {
			t.Errorf("type %s: %d articles, want at least 4", typ, types[string(typ)])
		}
	}
	if n := len(status["draft"]); n != 1 {
		t.Errorf("%d draft articles %v, want exactly 1", n, status["draft"])
	}
	if n := len(visibility["clients"]); n != 1 {
		t.Errorf("%d clients-only articles %v, want exactly 1", n, visibility["clients"])
	}
	if n := len(visibility["staff"]); n != 1 {
		t.Errorf("%d staff-only articles %v, want exactly 1", n, visibility["staff"])
	}
	if tables < 6 {
		t.Errorf("%d tables overall, want at least 6", tables)
	}
	if inRange*4 < len(d.articles)*3 {
		t.Errorf("only %d of %d articles are 250 to 700 words, want most", inRange, len(d.articles))
	}
	// Tags connect related articles, so most of them should be shared.
	shared := 0
	for _, n := range tagUse {
		if n > 1 {
			shared++
		}
	}
	if shared*3 < len(tagUse)*2 {
		t.Errorf("only %d of %d tags are used by more than one article", shared, len(tagUse))
	}
}

// checkSymptomCauseFix wants headings naming the symptom, the cause and the fix, in that order.
func checkSymptomCauseFix(t *testing.T, file string, lines []line) {
	t.Helper()
	first := map[string]int{}
	for i, l := range lines {
		if !strings.HasPrefix(l.text, "## ") {
			continue
		}
		h := strings.ToLower(l.text)
		for _, w := range []string{"symptom", "cause", "fix"} {
			if _, ok := first[w]; !ok && strings.Contains(h, w) {
				first[w] = i
			}
		}
	}
	s, okS := first["symptom"]
	c, okC := first["cause"]
	f, okF := first["fix"]
	if !okS || !okC || !okF {
		t.Errorf("%s: troubleshooting needs ## headings for symptoms, causes and fix (found %v)", file, first)
		return
	}
	if !(s <= c && c <= f) {
		t.Errorf("%s: headings must run symptom → cause → fix", file)
	}
}

func TestLinks(t *testing.T) {
	d := load(t)
	for _, a := range d.articles {
		public := a.fm.Status != "draft" && (a.fm.Visibility == "" || a.fm.Visibility == "public")
		for _, m := range linkRE.FindAllStringSubmatch(a.body, -1) {
			target := d.bySlug[m[1]]
			if target == nil {
				t.Errorf("%s: link to /articles/%s, which does not exist", a.file, m[1])
				continue
			}
			if target == a {
				t.Errorf("%s: links to itself", a.file)
			}
			if public && (target.fm.Status == "draft" || target.fm.Visibility == "staff") {
				t.Errorf("%s: public article links to %s, which its readers cannot open", a.file, m[1])
			}
		}
	}
	for _, an := range Announcements(time.Now()) {
		for _, m := range linkRE.FindAllStringSubmatch(an.Body, -1) {
			if d.bySlug[m[1]] == nil {
				t.Errorf("announcement %s: link to /articles/%s, which does not exist", an.Slug, m[1])
			}
		}
	}
}

func TestPasswordArticle(t *testing.T) {
	d := load(t)
	a := d.bySlug["create-or-update-your-client-area-password"]
	if a == nil {
		t.Fatal("no create-or-update-your-client-area-password article")
	}
	if got := path.Dir(a.file); got != "client-area" {
		t.Errorf("password article is in %s, want client-area", got)
	}
	if c := d.cats["client-area"]; c == nil || c.cat.Name != "Client area & security" {
		t.Errorf("client-area is not the Client area & security category")
	}
	if a.fm.Type != "how-to" || a.fm.Title != "Create or update your client area password" {
		t.Errorf("password article: type %q, title %q", a.fm.Type, a.fm.Title)
	}
	if a.fm.Status != "" || a.fm.Visibility != "" {
		t.Errorf("password article must be public and published")
	}
	for _, want := range []string{
		"Current password", "New password", "/forgot-password", "/login", "/account/security",
		"60 minutes", "15 characters", "NIST SP 800-63B", "password manager", "invitation",
	} {
		if !strings.Contains(a.body, want) {
			t.Errorf("password article does not mention %q", want)
		}
	}
	if !strings.Contains(strings.ToLower(a.body), "## troubleshooting") {
		t.Errorf("password article has no troubleshooting section")
	}
}

func TestAnnouncements(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	list := Announcements(now)
	var active, ended []string
	slugs := map[string]bool{}
	for _, a := range list {
		if err := a.Validate(); err != nil {
			t.Errorf("%s: %v", a.Slug, err)
		}
		if slugs[a.Slug] {
			t.Errorf("announcement slug %q twice", a.Slug)
		}
		slugs[a.Slug] = true
		if strings.TrimSpace(a.Body) == "" {
			t.Errorf("%s: empty body", a.Slug)
		}
		switch {
		case a.Active(now):
			active = append(active, a.Slug)
			if a.Severity != helpportal.SeverityWarning {
				t.Errorf("%s: active announcement has severity %q, want warning", a.Slug, a.Severity)
			}
		case !a.EndsAt.IsZero() && !now.Before(a.EndsAt):
			ended = append(ended, a.Slug)
			if a.Severity != helpportal.SeverityInfo {
				t.Errorf("%s: ended announcement has severity %q, want info", a.Slug, a.Severity)
			}
		default:
			t.Errorf("%s: neither active nor ended at now", a.Slug)
		}
	}
	if len(active) != 1 || len(ended) != 1 {
		t.Errorf("active %v, ended %v; want one of each", active, ended)
	}
}
