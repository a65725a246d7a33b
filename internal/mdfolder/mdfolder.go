// Package mdfolder imports and exports the portal's Markdown folder format, a public
// contract: each folder is a category (a nested folder is a sub-category, described by an
// optional _category.yaml) and each .md file is an article with optional YAML front matter.
// Files written by Export import back unchanged.
package mdfolder

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"helpportal"
)

// Store is the part of the store that Import and Export use; *store.DB satisfies it.
type Store interface {
	Categories(ctx context.Context, v helpportal.Viewer) ([]*helpportal.Category, error)
	SaveCategory(ctx context.Context, c *helpportal.Category) error
	SaveArticle(ctx context.Context, a *helpportal.Article) error
	SaveArticles(ctx context.Context, list []*helpportal.Article) error
	EachArticle(ctx context.Context, fn func(*helpportal.Article) error) error
}

// Problem is one bad file (or folder) that Import skipped.
type Problem struct{ Path, Reason string }

// Report says what Import did.
type Report struct {
	// Categories counts the categories the folder defines or names: created, updated or
	// already up to date, so that re-importing the same folder reports the same numbers.
	Categories int
	Articles   int       // articles saved (created, updated or unchanged)
	Problems   []Problem // every bad file, by path relative to the root, sorted by path
}

// staff sees every category and article, which import and export both need.
var staff = helpportal.Viewer{Role: helpportal.RoleAdmin}

const (
	categoryFile   = "_category.yaml"
	maxCategoryLen = 100 // helpportal.Category.Validate's limit on names
	maxMetaLen     = 64 << 10
)

func invalid(format string, args ...any) error {
	return helpportal.Errorf(helpportal.EINVALID, format, args...)
}

// fileFault reports whether err is the content's fault (to be reported as a Problem) rather
// than the store's or the caller's (to abort the import).
func fileFault(err error) bool {
	switch helpportal.ErrorCode(err) {
	case helpportal.EINVALID, helpportal.ECONFLICT, helpportal.ETOOLARGE:
		return true
	}
	return false
}

// yamlLine finds the line number in yaml's messages, which count from the start of the
// YAML, not of the file.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlMapping parses src, which must be a YAML mapping with only the known keys, and
// returns each key's value (aliases resolved). lineOff is the file line before src's first
// line, so messages give file lines; what names the YAML in messages.
func yamlMapping(what, src string, lineOff int, known ...string) (map[string]*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			msg = fmt.Sprintf("line %d: %s", n+lineOff, err.Error()[len(m[0]):])
		}
		return nil, invalid("The %s is not valid YAML: %s.", what, msg)
	}
	vals := map[string]*yaml.Node{}
	if len(doc.Content) == 0 {
		return vals, nil // empty, or only comments
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, invalid("The %s must be “key: value” lines (line %d).", what, root.Line+lineOff)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || !slices.Contains(known, k.Value) {
			return nil, invalid("The %s has an unknown key %q on line %d; the keys are %s.",
				what, truncate(k.Value, 40), k.Line+lineOff, strings.Join(known, ", "))
		}
		if _, dup := vals[k.Value]; dup {
			return nil, invalid("The %s has the key %q twice (again on line %d).", what, k.Value, k.Line+lineOff)
		}
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		vals[k.Value] = v
	}
	return vals, nil
}

// yamlText returns the text value of key, "" when absent or null.
func yamlText(what string, vals map[string]*yaml.Node, key string, lineOff int) (string, error) {
	v := vals[key]
	if v == nil || v.ShortTag() == "!!null" {
		return "", nil
	}
	var s string
	if v.Kind != yaml.ScalarNode || v.Decode(&s) != nil {
		return "", invalid("The %s key %q on line %d must be text.", what, key, v.Line+lineOff)
	}
	return s, nil
}

// humanize turns a file or folder name into a readable one: "domains-dns" → "Domains dns".
func humanize(s string, maxRunes int) string {
	s = strings.Join(strings.FieldsFunc(strings.ToValidUTF8(s, ""), func(r rune) bool {
		return r == '-' || r == '_' || unicode.IsSpace(r)
	}), " ")
	if r, n := utf8.DecodeRuneInString(s); n > 0 {
		s = string(unicode.ToUpper(r)) + s[n:]
	}
	if utf8.RuneCountInString(s) > maxRunes {
		s = strings.TrimSpace(string([]rune(s)[:maxRunes]))
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
