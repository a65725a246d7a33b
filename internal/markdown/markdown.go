// Package markdown turns article Markdown into the sanitised HTML and derived data (table of
// contents, HowTo steps, word count, plain text) that the store saves with each article.
package markdown

import (
	"bytes"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"helpportal"
)

// Result is what rendering one document produces.
type Result struct {
	HTML     string               // sanitised HTML
	Headings []helpportal.Heading // h2..h4 in order, with their unique IDs, for a table of contents
	Steps    []string             // plain text of the items of the first top-level ordered list (HowTo steps)
	Words    int                  // word count of the visible text
	Text     string               // plain text of the document (for search and meta descriptions), whitespace-collapsed
}

// md is shared: goldmark parsers and renderers keep no per-document state, and our
// transformer and node renderers are stateless too.
var md = goldmark.New(
	goldmark.WithExtensions(extension.GFM, helpExtension{}),
	goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	goldmark.WithRendererOptions(
		// Raw HTML is passed through so that bluemonday is the one place that decides what is
		// safe; goldmark's own filter only knows about URLs and would give false comfort.
		html.WithUnsafe(),
		// The sanitiser strips style attributes, so alignment must travel as align="…".
		extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute),
	),
)

// Render converts Markdown to sanitised HTML. It is safe for concurrent use.
func Render(src string) (Result, error) {
	source := []byte(src)
	doc := md.Parser().Parse(text.NewReader(source))
	var buf bytes.Buffer
	if err := md.Renderer().Render(&buf, source, doc); err != nil {
		return Result{}, err
	}
	res := Result{HTML: sanitize(&buf)}

	var all strings.Builder
	res.Headings = plainText(&all, doc, source)
	res.Text, res.Words = collapse(all.String())

	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if l, ok := n.(*ast.List); ok && l.IsOrdered() {
			for item := l.FirstChild(); item != nil; item = item.NextSibling() {
				var b strings.Builder
				plainText(&b, item, source)
				if s, _ := collapse(b.String()); s != "" {
					res.Steps = append(res.Steps, s)
				}
			}
			break
		}
	}
	return res, nil
}

// plainText writes the reader-visible text under n to b and returns the h2–h4 headings met on
// the way. Blocks end with a space so that words in adjacent cells or paragraphs never fuse.
func plainText(b *strings.Builder, n ast.Node, src []byte) []helpportal.Heading {
	var heads []helpportal.Heading
	_ = ast.Walk(n, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			if n.Type() == ast.TypeBlock {
				b.WriteByte(' ')
			}
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Text:
			b.Write(unescape(n.Value(src)))
			if n.SoftLineBreak() || n.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(n.Value)
		case *ast.CodeSpan:
			// Code is literal: backslashes and entities in it are what the reader sees.
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				if t, ok := c.(*ast.Text); ok {
					b.Write(t.Value(src))
				}
			}
			return ast.WalkSkipChildren, nil
		case *ast.AutoLink:
			b.Write(n.Label(src))
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			for i, lines := 0, n.Lines(); i < lines.Len(); i++ {
				seg := lines.At(i)
				b.Write(seg.Value(src))
			}
		case *ast.RawHTML, *ast.HTMLBlock, *ast.Image:
			// Markup is not prose, and alt text is not shown beside the image.
			return ast.WalkSkipChildren, nil
		case *anchor:
			if h, ok := n.Parent().(*ast.Heading); ok && n.text != "" {
				heads = append(heads, helpportal.Heading{Level: h.Level, ID: n.id, Text: n.text})
			}
		}
		return ast.WalkContinue, nil
	})
	return heads
}

// collapse trims s, squeezes each run of white space into one space and counts the words. It
// does in one pass what strings.Fields plus Join would do with a slice per document.
func collapse(s string) (string, int) {
	var b strings.Builder
	b.Grow(len(s))
	words, space := 0, true
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			if words > 0 {
				b.WriteByte(' ')
			}
			words++
			space = false
		}
		b.WriteRune(r)
	}
	return b.String(), words
}

// unescape resolves what goldmark leaves in text segments for the renderer to resolve:
// backslash escapes and character references.
func unescape(v []byte) []byte {
	if bytes.IndexByte(v, '\\') >= 0 {
		v = util.UnescapePunctuations(v)
	}
	if bytes.IndexByte(v, '&') >= 0 {
		v = util.ResolveEntityNames(util.ResolveNumericReferences(v))
	}
	return v
}
