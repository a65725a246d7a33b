package mdfolder

import (
	"bytes"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"helpportal"
)

// maxFileLen bounds one article file: the body limit plus room for front matter, so an
// exported article whose body is at the limit still imports.
const maxFileLen = helpportal.MaxBodyLen + maxMetaLen

const frontMatter = "front matter"

var articleKeys = []string{"title", "slug", "category", "tags", "summary", "type", "status", "visibility"}

// ParseArticle parses one article file: optional front matter between "---" lines, then the
// Markdown body. name is the file's path (or name); it gives the slug and, failing front
// matter and a "# " heading, the title. categorySlug is the front matter's category, ""
// when it names none (the caller then uses the folder). The article is normalised and valid
// except for its CategoryID, which the caller sets. Errors are EINVALID (ETOOLARGE for an
// oversized file) with a message a person can act on.
func ParseArticle(name string, src []byte) (a *helpportal.Article, categorySlug string, err error) {
	if len(src) > maxFileLen {
		return nil, "", helpportal.Errorf(helpportal.ETOOLARGE, "The file is larger than %d KiB.", maxFileLen>>10)
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		return nil, "", invalid("The file contains a NUL byte on line %d.", lineAt(src, i))
	}
	if !utf8.Valid(src) {
		return nil, "", invalid("The file is not UTF-8 text (line %d); save it as UTF-8.", lineAt(src, badUTF8(src)))
	}
	text := dropCR(strings.TrimPrefix(string(src), "\uFEFF"))
	fm, body, err := splitFrontMatter(text)
	if err != nil {
		return nil, "", err
	}
	vals, err := yamlMapping(frontMatter, fm, 1, articleKeys...)
	if err != nil {
		return nil, "", err
	}
	get := func(key string) string {
		s, e := yamlText(frontMatter, vals, key, 1)
		if err == nil {
			err = e
		}
		return s
	}
	a = &helpportal.Article{Title: get("title"), Slug: get("slug"), Summary: get("summary"),
		Type: helpportal.ArticleType(get("type")), Status: helpportal.Status(get("status")),
		Visibility: helpportal.Visibility(get("visibility"))}
	categorySlug = strings.TrimSpace(get("category"))
	if err == nil {
		a.Tags, err = tagList(vals["tags"])
	}
	if err != nil {
		return nil, "", err
	}

	base := path.Base(name)
	if strings.EqualFold(path.Ext(base), ".md") {
		base = base[:len(base)-3]
	}
	if strings.TrimSpace(a.Title) == "" {
		var ok bool
		if a.Title, body, ok = takeH1(body); !ok {
			a.Title = humanize(base, helpportal.MaxTitleLen)
		}
	}
	a.Body = trimBody(body)
	if strings.TrimSpace(a.Slug) == "" {
		if a.Slug = helpportal.Slugify(base); a.Slug == "" {
			return nil, "", invalid("The file name %q gives no slug; add slug: to the front matter.", truncate(base, 60))
		}
	}
	if categorySlug != "" && !helpportal.ValidSlug(categorySlug) {
		return nil, "", invalid("The category %q is not a category slug (lowercase letters, digits and single hyphens).", truncate(categorySlug, 60))
	}
	for _, t := range a.Tags {
		if !utf8.ValidString(t) || strings.ContainsFunc(t, unicode.IsControl) {
			return nil, "", invalid("The tag %q contains invalid UTF-8 or a control character.", truncate(t, 60))
		}
	}
	a.Normalize()
	// Validate checks every field but the category, which only the caller can resolve; a
	// placeholder ID passes that one check.
	a.CategoryID = -1
	err = a.Validate()
	a.CategoryID = 0
	if err != nil {
		return nil, "", err
	}
	return a, categorySlug, nil
}

// tagList reads tags given as a YAML list or as comma-separated text.
func tagList(v *yaml.Node) ([]string, error) {
	if v == nil || v.ShortTag() == "!!null" {
		return nil, nil
	}
	bad := invalid("The front matter key \"tags\" on line %d must be a list or comma-separated text.", v.Line+1)
	var s string
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Decode(&s) != nil {
			return nil, bad
		}
		return strings.Split(s, ","), nil
	case yaml.SequenceNode:
		tags := make([]string, 0, len(v.Content))
		for _, item := range v.Content {
			if item.Kind == yaml.AliasNode {
				item = item.Alias
			}
			if item.Kind != yaml.ScalarNode || item.Decode(&s) != nil {
				return nil, bad
			}
			tags = append(tags, s)
		}
		return tags, nil
	}
	return nil, bad
}

// splitFrontMatter splits text into the YAML between a first "---" line and the next
// "---" line, and the body after it. Without a first "---" line all of text is the body.
func splitFrontMatter(text string) (fm, body string, err error) {
	first, rest, ok := strings.Cut(text, "\n")
	if !isFence(first) {
		return "", text, nil
	}
	for off := 0; ok; {
		var line string
		line, _, ok = strings.Cut(rest[off:], "\n")
		if isFence(line) {
			return rest[:off], rest[min(off+len(line)+1, len(rest)):], nil
		}
		off += len(line) + 1
	}
	return "", "", invalid("The front matter that starts on line 1 has no closing --- line.")
}

func isFence(line string) bool { return strings.TrimRight(line, " \t") == "---" }

// takeH1 finds the first "# " heading outside fenced code (a "# comment" in a shell block is
// not a title) and returns its text and the body without that line.
func takeH1(body string) (title, rest string, ok bool) {
	fence := "" // the opening fence while inside a fenced code block
	for off := 0; off < len(body); {
		line, end := body[off:], len(body)
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line, end = line[:i], off+i+1
		}
		trimmed := strings.TrimLeft(line, " ")
		code := len(line)-len(trimmed) >= 4 // indented code cannot open or close a fence
		switch {
		case fence != "":
			if !code && strings.HasPrefix(trimmed, fence) && strings.TrimRight(strings.TrimLeft(trimmed, fence[:1]), " \t") == "" {
				fence = ""
			}
		case !code && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, trimmed[:1]))]
		case strings.HasPrefix(line, "# "):
			// An ATX heading may end with a closing run of #s after a space.
			t := strings.TrimSpace(line[2:])
			if u := strings.TrimRight(t, "#"); u == "" || strings.HasSuffix(u, " ") || strings.HasSuffix(u, "\t") {
				t = strings.TrimSpace(u)
			}
			if t != "" {
				return t, body[:off] + body[end:], true
			}
		}
		off = end
	}
	return "", body, false
}

// trimBody drops leading blank lines and trailing white space, so that a body reads back
// the same whatever blank lines surround it in the file. The first line keeps its
// indentation: it may be code.
func trimBody(b string) string {
	b = strings.TrimRight(b, " \t\r\n")
	for {
		line, rest, ok := strings.Cut(b, "\n")
		if !ok || strings.Trim(line, " \t\r") != "" {
			return b
		}
		b = rest
	}
}

// dropCR turns CRLF line ends into LF. It drops every CR before a LF, not just one, so that
// applying it twice changes nothing (a lone "\r\r\n" would otherwise become "\r\n").
func dropCR(s string) string {
	if !strings.Contains(s, "\r\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.Index(s, "\r\n")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(strings.TrimRight(s[:i], "\r"))
		b.WriteByte('\n')
		s = s[i+2:]
	}
}

// badUTF8 returns the offset of the first byte that is not UTF-8 (len(b) if none).
func badUTF8(b []byte) int {
	i := 0
	for i < len(b) {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		i += n
	}
	return i
}

func lineAt(b []byte, off int) int { return bytes.Count(b[:off], []byte("\n")) + 1 }
