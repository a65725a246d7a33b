package mdfolder

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"helpportal"
)

const (
	batchSize    = 500 // articles per SaveArticles transaction
	parseWorkers = 4   // reading is partly I/O, so a few more than the 2 cores we plan for
	savers       = 2   // batches saved at once; see articles
)

// target is where an article can go: a category, or why it cannot go there.
type target struct {
	dir string // the folder that defines the category, "" for a front-matter category
	id  int64
	why string // set when the category could not be imported
}

type importer struct {
	ctx      context.Context
	st       Store
	fsys     fs.FS
	mu       sync.Mutex // guards rep.Problems and rep.Articles, which the savers update
	rep      Report
	existing map[string]*helpportal.Category // the store's categories by slug, kept current
	folders  map[string]*target              // by folder path
	bySlug   map[string]*target              // by category slug: folders, then front-matter names
	slugs    map[string]string               // article slug → the file that claimed it
}

// Import reads the folder fsys and saves its categories, then its articles in batches.
// Importing is idempotent by slug: a second import of the same folder writes nothing. Bad
// files are reported in the Report and skipped; err is only for failures that are not a
// file's fault (store down, ctx cancelled).
func Import(ctx context.Context, st Store, fsys fs.FS) (Report, error) {
	im := &importer{ctx: ctx, st: st, fsys: fsys, existing: map[string]*helpportal.Category{},
		folders: map[string]*target{}, bySlug: map[string]*target{}, slugs: map[string]string{}}
	err := im.run()
	slices.SortStableFunc(im.rep.Problems, func(a, b Problem) int { return cmp.Compare(a.Path, b.Path) })
	return im.rep, err
}

func (im *importer) run() error {
	dirs, files, meta, err := im.walk()
	if err != nil {
		return err
	}
	cats, err := im.st.Categories(im.ctx, staff)
	if err != nil {
		return err
	}
	for _, c := range cats {
		im.existing[c.Slug] = c
	}
	for _, dir := range dirs { // walk order puts parents first
		if err := im.folder(dir, meta[dir]); err != nil {
			return err
		}
	}
	return im.articles(files)
}

func (im *importer) problem(p, reason string) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.rep.Problems = append(im.rep.Problems, Problem{Path: p, Reason: reason})
}

func (im *importer) saved(n int) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.rep.Articles += n
}

// walk lists the category folders and article files in lexical order, and which folders
// have a _category.yaml. Names starting with "." are skipped.
func (im *importer) walk() (dirs, files []string, meta map[string]bool, err error) {
	meta = map[string]bool{}
	err = fs.WalkDir(im.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil && p == ".":
			return err
		case err != nil:
			im.problem(p, fmt.Sprintf("The folder could not be read: %v.", err))
			return fs.SkipDir
		case p != "." && strings.HasPrefix(d.Name(), "."):
			if d.IsDir() {
				return fs.SkipDir
			}
		case d.IsDir():
			if p != "." {
				dirs = append(dirs, p)
			}
			return im.ctx.Err()
		case d.Name() == categoryFile && path.Dir(p) == ".":
			im.problem(p, "The top folder holds category folders and is not a category itself; this file describes nothing.")
		case d.Name() == categoryFile:
			meta[path.Dir(p)] = true
		case strings.EqualFold(path.Ext(p), ".md"):
			files = append(files, p)
		}
		return nil
	})
	return dirs, files, meta, err
}

// folder saves the category of the folder dir, or records why its articles cannot go there.
func (im *importer) folder(dir string, hasMeta bool) error {
	t := &target{dir: dir}
	im.folders[dir] = t
	base := path.Base(dir)
	c := &helpportal.Category{Slug: helpportal.Slugify(base), Name: humanize(base, maxCategoryLen)}
	if parent := path.Dir(dir); parent != "." {
		p := im.folders[parent]
		if p.why != "" {
			t.why = p.why // the parent's problem is reported already
			return nil
		}
		c.ParentID = p.id
	}
	fail := func(at, reason string) {
		im.problem(at, reason)
		t.why = fmt.Sprintf("The category of its folder could not be imported (see the problem with %s).", at)
	}
	if hasMeta {
		name := path.Join(dir, categoryFile)
		if err := readCategoryFile(im.fsys, name, c); err != nil {
			fail(name, helpportal.ErrorMessage(err))
			return nil
		}
	}
	if c.Slug == "" {
		fail(dir, "The folder name gives no category slug; add slug: to its "+categoryFile+".")
		return nil
	}
	if other := im.bySlug[c.Slug]; other != nil {
		fail(dir, fmt.Sprintf("The category slug %q is also used by the folder %s; set another slug in %s.", c.Slug, other.dir, categoryFile))
		return nil
	}
	im.bySlug[c.Slug] = t
	if err := im.saveCategory(c); err != nil {
		if !fileFault(err) {
			return err
		}
		fail(dir, helpportal.ErrorMessage(err))
		return nil
	}
	t.id = c.ID
	im.rep.Categories++
	return nil
}

// readCategoryFile applies the _category.yaml at name to c.
func readCategoryFile(fsys fs.FS, name string, c *helpportal.Category) error {
	src, err := readLimited(fsys, name, maxMetaLen)
	if err != nil {
		return err
	}
	vals, err := yamlMapping(categoryFile, string(src), 0, "name", "description", "position", "slug")
	if err != nil {
		return err
	}
	var texts [3]string
	for i, key := range []string{"name", "description", "slug"} {
		if texts[i], err = yamlText(categoryFile, vals, key, 0); err != nil {
			return err
		}
	}
	if v := vals["position"]; v != nil && v.Decode(&c.Position) != nil {
		return invalid("The %s key \"position\" on line %d must be a whole number.", categoryFile, v.Line)
	}
	if texts[0] != "" {
		c.Name = texts[0]
	}
	c.Description = texts[1]
	if slug := strings.TrimSpace(texts[2]); slug != "" {
		if !helpportal.ValidSlug(slug) {
			return invalid("The slug %q in %s must be lowercase letters, digits and single hyphens.", truncate(slug, 60), categoryFile)
		}
		c.Slug = slug
	}
	return nil
}

// saveCategory saves c unless the store already holds it unchanged: skipping the write keeps
// a re-import from touching anything.
func (im *importer) saveCategory(c *helpportal.Category) error {
	if err := c.Validate(); err != nil { // Validate also trims, so the comparison is fair
		return err
	}
	if old := im.existing[c.Slug]; old != nil && old.Name == c.Name && old.Description == c.Description &&
		old.ParentID == c.ParentID && old.Position == c.Position {
		c.ID = old.ID
		return nil
	}
	if err := im.st.SaveCategory(im.ctx, c); err != nil {
		return err
	}
	im.existing[c.Slug] = c
	return nil
}

// resolve returns the category ID for the article file p whose front matter names the
// category slug cat ("" for none), or why the article cannot be saved.
func (im *importer) resolve(p, cat string) (id int64, why string, err error) {
	if cat == "" {
		if path.Dir(p) == "." {
			return 0, "The article is not in a category folder and its front matter names no category; move it into a folder or add category: to its front matter.", nil
		}
		t := im.folders[path.Dir(p)]
		return t.id, t.why, nil
	}
	if t := im.bySlug[cat]; t != nil {
		return t.id, t.why, nil
	}
	// A category no folder defines: use the store's, or create a top-level one. An existing
	// category is left as it is, since this folder does not describe it.
	t := &target{}
	im.bySlug[cat] = t
	c := im.existing[cat]
	if c == nil {
		c = &helpportal.Category{Slug: cat, Name: humanize(cat, maxCategoryLen)}
		if err := im.saveCategory(c); err != nil {
			if !fileFault(err) {
				return 0, "", err
			}
			t.why = fmt.Sprintf("The category %q could not be created: %s", cat, helpportal.ErrorMessage(err))
			return 0, t.why, nil
		}
	}
	t.id = c.ID
	im.rep.Categories++
	return t.id, "", nil
}

// parsed is one article file after reading and parsing.
type parsed struct {
	path string
	a    *helpportal.Article
	cat  string
	err  error
}

// articles runs a pipeline: one goroutine parses a batch of files (a few files at once),
// this one resolves the batch's categories and slugs, and two savers save batches. Two, so
// that one batch renders its Markdown while the other holds the store's single write
// connection. At most five batches are in memory.
func (im *importer) articles(files []string) error {
	ctx, cancel := context.WithCancelCause(im.ctx)
	defer cancel(nil)
	parsedc, batches := make(chan []parsed, 1), make(chan batch)
	go func() {
		defer close(parsedc)
		for i := 0; i < len(files) && ctx.Err() == nil; i += batchSize {
			select {
			case parsedc <- parseAll(im.fsys, files[i:min(i+batchSize, len(files))]):
			case <-ctx.Done():
			}
		}
	}()
	var wg sync.WaitGroup
	for range savers {
		wg.Go(func() {
			for b := range batches {
				if err := im.save(ctx, b); err != nil {
					cancel(err)
				}
			}
		})
	}
	for ps := range parsedc {
		b, err := im.resolveBatch(ps)
		if err != nil {
			cancel(err)
			break
		}
		select {
		case batches <- b:
		case <-ctx.Done():
		}
	}
	close(batches)
	wg.Wait()
	for range parsedc { // let the parser stop, so that nothing outlives Import
	}
	return context.Cause(ctx)
}

func parseAll(fsys fs.FS, paths []string) []parsed {
	out := make([]parsed, len(paths))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(parseWorkers, len(paths)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(paths); i = int(next.Add(1) - 1) {
				p := &out[i]
				p.path = paths[i]
				var src []byte
				if src, p.err = readLimited(fsys, p.path, maxFileLen); p.err == nil {
					p.a, p.cat, p.err = ParseArticle(p.path, src)
				}
			}
		})
	}
	wg.Wait()
	return out
}

// readLimited reads the file name, refusing one over limit bytes without reading it all.
func readLimited(fsys fs.FS, name string, limit int) ([]byte, error) {
	tooLarge := helpportal.Errorf(helpportal.ETOOLARGE, "The file is larger than %d KiB.", limit>>10)
	f, err := fsys.Open(name)
	if err != nil {
		return nil, invalid("The file could not be read: %v.", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > int64(limit) {
		return nil, tooLarge
	}
	src, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	switch {
	case err != nil:
		return nil, invalid("The file could not be read: %v.", err)
	case len(src) > limit:
		return nil, tooLarge
	}
	return src, nil
}

// batch is articles ready to save, with their files.
type batch struct {
	list  []*helpportal.Article
	paths []string
}

// resolveBatch reports the batch's bad files and gives the others their category. It runs
// on one goroutine: it owns the slug and category maps.
func (im *importer) resolveBatch(ps []parsed) (batch, error) {
	b := batch{make([]*helpportal.Article, 0, len(ps)), make([]string, 0, len(ps))}
	for _, p := range ps {
		if p.err != nil {
			im.problem(p.path, helpportal.ErrorMessage(p.err))
			continue
		}
		if other, dup := im.slugs[p.a.Slug]; dup {
			im.problem(p.path, fmt.Sprintf("The slug %q is also used by %s.", p.a.Slug, other))
			continue
		}
		id, why, err := im.resolve(p.path, p.cat)
		if err != nil {
			return b, err
		}
		if why != "" {
			im.problem(p.path, why)
			continue
		}
		p.a.CategoryID = id
		im.slugs[p.a.Slug] = p.path
		b.list, b.paths = append(b.list, p.a), append(b.paths, p.path)
	}
	return b, nil
}

// save saves a batch in one transaction. When that fails because of an article, it saves
// the articles one by one, so that each bad one is reported and the rest are saved.
func (im *importer) save(ctx context.Context, b batch) error {
	if len(b.list) == 0 {
		return nil
	}
	err := im.st.SaveArticles(ctx, b.list)
	if err == nil {
		im.saved(len(b.list))
		return nil
	}
	if !fileFault(err) {
		return err
	}
	for i, a := range b.list {
		// SaveArticles gave new articles IDs inside the transaction it rolled back; with
		// them SaveArticle would look for articles that do not exist.
		a.ID = 0
		if err := im.st.SaveArticle(ctx, a); err != nil {
			if !fileFault(err) {
				return err
			}
			im.problem(b.paths[i], helpportal.ErrorMessage(err))
			continue
		}
		im.saved(1)
	}
	return nil
}
