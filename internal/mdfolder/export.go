package mdfolder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"helpportal"
)

// categoryMeta is what Export writes to _category.yaml; the slug is the folder's name.
type categoryMeta struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Position    int    `yaml:"position"`
}

// articleMeta is the front matter Export writes. Every field is explicit, so the file does
// not depend on defaults; the category is the folder.
type articleMeta struct {
	Title      string   `yaml:"title"`
	Slug       string   `yaml:"slug"`
	Type       string   `yaml:"type"`
	Tags       []string `yaml:"tags,flow"`
	Summary    string   `yaml:"summary"`
	Status     string   `yaml:"status"`
	Visibility string   `yaml:"visibility"`
}

// Export writes every category and article (drafts and all visibilities) to dir in the
// folder format: a folder per category path, each with a _category.yaml, and a <slug>.md per
// article. It creates dir if needed and refuses a non-empty one with EINVALID.
func Export(ctx context.Context, st Store, dir string) error {
	if err := emptyDir(dir); err != nil {
		return err
	}
	cats, err := st.Categories(ctx, staff)
	if err != nil {
		return err
	}
	tree := helpportal.NewCategoryTree(cats)
	dirs := make(map[int64]string, len(cats))
	for _, c := range cats {
		d := dir
		for _, p := range tree.Path(c.ID) {
			d = filepath.Join(d, p.Slug)
		}
		meta, err := yaml.Marshal(categoryMeta{Name: c.Name, Description: c.Description, Position: c.Position})
		if err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, categoryFile), meta, 0o644); err != nil {
			return err
		}
		dirs[c.ID] = d
	}
	return st.EachArticle(ctx, func(a *helpportal.Article) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, ok := dirs[a.CategoryID]
		if !ok { // only if a category appeared while exporting
			return fmt.Errorf("mdfolder: export: article %q is in category %d, which was not listed", a.Slug, a.CategoryID)
		}
		src, err := formatArticle(a)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(d, a.Slug+".md"), src, 0o644)
	})
}

// emptyDir makes sure dir exists and is empty, so an export never mixes with old files.
func emptyDir(dir string) error {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return err
	} else if !fi.IsDir() {
		return helpportal.Errorf(helpportal.EINVALID, "%s is a file, not a folder.", dir)
	}
	if names, _ := f.Readdirnames(1); len(names) > 0 {
		return helpportal.Errorf(helpportal.EINVALID, "The folder %s is not empty; export into a new or empty folder.", dir)
	}
	return nil
}

// formatArticle writes a in the folder format; ParseArticle reads it back to the same fields.
func formatArticle(a *helpportal.Article) ([]byte, error) {
	fm, err := yaml.Marshal(articleMeta{Title: a.Title, Slug: a.Slug, Type: string(a.Type), Tags: a.Tags,
		Summary: a.Summary, Status: string(a.Status), Visibility: string(a.Visibility)})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(fm) + len(a.Body) + 16)
	b.WriteString("---\n")
	b.Write(fm)
	b.WriteString("---\n")
	// The body is written as import would store it: LF line ends, no surrounding blank lines.
	if body := trimBody(dropCR(a.Body)); body != "" {
		b.WriteString("\n")
		b.WriteString(body)
		b.WriteString("\n")
	}
	return b.Bytes(), nil
}
