package markdown

import (
	"html"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// calloutTitles maps GitHub's alert markers (lowercased) to the title shown above the callout.
var calloutTitles = map[string]string{
	"note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning", "caution": "Caution",
}

var (
	kindCallout = ast.NewNodeKind("Callout")
	kindAnchor  = ast.NewNodeKind("HeadingAnchor")
)

// callout replaces a blockquote that opened with an alert marker such as [!NOTE].
type callout struct {
	ast.BaseBlock
	kind string // a key of calloutTitles
}

func (n *callout) Kind() ast.NodeKind { return kindCallout }
func (n *callout) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"Kind": n.kind}, nil)
}

// anchor is the self-link at the end of an h2–h4. It carries the heading's plain text,
// computed before the "#" was added, so the table of contents can reuse it.
type anchor struct {
	ast.BaseInline
	id, text string
}

func (n *anchor) Kind() ast.NodeKind { return kindAnchor }
func (n *anchor) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"ID": n.id, "Text": n.text}, nil)
}

// helpExtension adds callouts, heading anchors and task-list classes to goldmark.
type helpExtension struct{}

func (helpExtension) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithASTTransformers(util.Prioritized(transformer{}, 500)))
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(nodeRenderer{}, 500)))
}

type transformer struct{}

func (transformer) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	// Collect first, change after: rewriting the tree during ast.Walk would derail it.
	var quotes []*ast.Blockquote
	var heads []*ast.Heading
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Blockquote:
			quotes = append(quotes, n)
		case *ast.Heading:
			if n.Level >= 2 && n.Level <= 4 {
				heads = append(heads, n)
			}
		case *east.TaskCheckBox:
			// GitHub's class names, so stylesheets can drop the bullets of checklists.
			if p := n.Parent(); p != nil {
				if li, ok := p.Parent().(*ast.ListItem); ok {
					li.SetAttributeString("class", []byte("task-list-item"))
					li.Parent().SetAttributeString("class", []byte("contains-task-list"))
				}
			}
		}
		return ast.WalkContinue, nil
	})
	for _, h := range heads {
		var b strings.Builder
		plainText(&b, h, src)
		id, _ := h.AttributeString("id")
		idb, _ := id.([]byte)
		label, _ := collapse(b.String())
		h.AppendChild(h, &anchor{id: string(idb), text: label})
	}
	for _, q := range quotes {
		toCallout(q, src)
	}
}

// toCallout replaces q with a callout when its first line is exactly an alert marker.
func toCallout(q *ast.Blockquote, src []byte) {
	para, ok := q.FirstChild().(*ast.Paragraph)
	if !ok {
		return
	}
	// The marker's inline nodes are plain Text ("[", "!NOTE", "]" or merged); anything else on
	// the first line (a link, emphasis) means this is an ordinary quote.
	var marker []ast.Node
	var label strings.Builder
	for c := para.FirstChild(); c != nil; c = c.NextSibling() {
		t, ok := c.(*ast.Text)
		if !ok {
			return
		}
		marker = append(marker, c)
		label.Write(t.Value(src))
		if t.SoftLineBreak() || t.HardLineBreak() {
			break
		}
	}
	s := strings.TrimSpace(label.String())
	if len(s) < 4 || !strings.HasPrefix(s, "[!") || s[len(s)-1] != ']' {
		return
	}
	kind := strings.ToLower(s[2 : len(s)-1])
	if _, ok := calloutTitles[kind]; !ok {
		return
	}
	for _, c := range marker {
		para.RemoveChild(para, c)
	}
	if para.ChildCount() == 0 {
		q.RemoveChild(q, para)
	}
	c := &callout{kind: kind}
	for n := q.FirstChild(); n != nil; {
		next := n.NextSibling()
		c.AppendChild(c, n)
		n = next
	}
	q.Parent().ReplaceChild(q.Parent(), q, c)
}

type nodeRenderer struct{}

func (nodeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindCallout, renderCallout)
	reg.Register(kindAnchor, renderAnchor)
}

func renderCallout(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		_, _ = w.WriteString("</div>\n")
		return ast.WalkContinue, nil
	}
	k := n.(*callout).kind
	_, _ = w.WriteString(`<div class="callout callout-` + k + `" role="note">` + "\n" +
		`<p class="callout-title">` + calloutTitles[k] + "</p>\n")
	return ast.WalkContinue, nil
}

func renderAnchor(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		a := n.(*anchor)
		_, _ = w.WriteString(` <a class="anchor" href="#` + html.EscapeString(a.id) +
			`" aria-label="Link to section: ` + html.EscapeString(a.text) + `">#</a>`)
	}
	return ast.WalkContinue, nil
}
