package helpportal

import (
	"context"
	"strings"
	"unicode/utf8"
)

// Category groups articles; categories nest (a parent may have sub-categories).
type Category struct {
	ID          int64
	Slug        string
	Name        string
	Description string
	ParentID    int64 // 0 for a top-level category
	Position    int
	// Articles is the number of articles in this category alone that the reader may see;
	// filled by Categories.
	Articles int
}

// Validate returns an EINVALID error naming the first wrong field.
func (c *Category) Validate() error {
	c.Name = strings.TrimSpace(c.Name)
	c.Description = strings.TrimSpace(c.Description)
	switch {
	case !ValidSlug(c.Slug):
		return Errorf(EINVALID, "The category slug %q must be lowercase letters, digits and single hyphens.", truncate(c.Slug, 60))
	case c.Name == "":
		return Errorf(EINVALID, "The category %q needs a name.", c.Slug)
	case utf8.RuneCountInString(c.Name) > 100:
		return Errorf(EINVALID, "The category name is longer than 100 characters.")
	case utf8.RuneCountInString(c.Description) > 1000:
		return Errorf(EINVALID, "The category description is longer than 1000 characters.")
	case c.ParentID != 0 && c.ParentID == c.ID:
		return Errorf(EINVALID, "A category cannot be its own parent.")
	}
	return nil
}

// CategoryService reads and writes categories.
type CategoryService interface {
	// Categories returns every category ordered by parent, position and name, each with the
	// count of articles v may see.
	Categories(ctx context.Context, v Viewer) ([]*Category, error)
	// CategoryBySlug returns the category or ENOTFOUND.
	CategoryBySlug(ctx context.Context, slug string) (*Category, error)
	// SaveCategory creates the category or updates the one with the same slug. It returns
	// EINVALID for bad fields or an unknown parent.
	SaveCategory(ctx context.Context, c *Category) error
}

// CategoryTree is categories arranged as a tree, for navigation.
type CategoryTree struct {
	Roots    []*Category
	Children map[int64][]*Category
	ByID     map[int64]*Category
}

// NewCategoryTree arranges cats (already ordered) into a tree.
func NewCategoryTree(cats []*Category) *CategoryTree {
	t := &CategoryTree{Children: map[int64][]*Category{}, ByID: map[int64]*Category{}}
	for _, c := range cats {
		t.ByID[c.ID] = c
	}
	for _, c := range cats {
		if c.ParentID == 0 || t.ByID[c.ParentID] == nil {
			t.Roots = append(t.Roots, c)
		} else {
			t.Children[c.ParentID] = append(t.Children[c.ParentID], c)
		}
	}
	return t
}

// Path returns the chain of categories from the root down to id.
func (t *CategoryTree) Path(id int64) []*Category {
	var path []*Category
	for c := t.ByID[id]; c != nil && len(path) < 16; c = t.ByID[c.ParentID] {
		path = append([]*Category{c}, path...)
	}
	return path
}

// Total returns the visible article count of id and all its descendants.
func (t *CategoryTree) Total(id int64) int {
	c := t.ByID[id]
	if c == nil {
		return 0
	}
	n := c.Articles
	for _, ch := range t.Children[id] {
		n += t.Total(ch.ID)
	}
	return n
}

// Descendants returns id and the IDs of all categories below it.
func (t *CategoryTree) Descendants(id int64) []int64 {
	ids := []int64{id}
	for _, ch := range t.Children[id] {
		ids = append(ids, t.Descendants(ch.ID)...)
	}
	return ids
}
