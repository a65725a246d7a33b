package markdown

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// embedRE is the iframe allow-list. The path is limited to an ID (no dots or percent signs) so
// that "../" or "%2e%2e/" cannot walk off the player onto another page of the same host.
var embedRE = regexp.MustCompile(`^https://(?:www\.youtube-nocookie\.com/embed|player\.vimeo\.com/video)/[A-Za-z0-9_-]+(?:\?[A-Za-z0-9_\-=&%.;]*)?(?:#[A-Za-z0-9_\-=&.]*)?$`)

// policy is safe for concurrent use once built.
var policy = newPolicy()

func newPolicy() *bluemonday.Policy {
	re := regexp.MustCompile
	p := bluemonday.UGCPolicy()
	// UGCPolicy marks every link nofollow, including our own heading anchors and links between
	// articles; only links off-site should be. target=_blank is how bluemonday is made to add
	// rel="noopener", which stops the opened page reaching back through window.opener.
	p.RequireNoFollowOnLinks(false)
	p.RequireNoFollowOnFullyQualifiedLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	// UGCPolicy only accepts alt and title made of a few punctuation marks; values are escaped
	// on output anyway, and dropping "Step 2: click Save" from an alt hurts screen readers.
	p.AllowAttrs("alt", "title").OnElements("img")
	p.AllowAttrs("title", "aria-label").OnElements("a")
	p.AllowElements("kbd") // keyboard shortcuts are the bread and butter of help articles
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	// Classes only with values our stylesheet owns, so authors cannot restyle the page.
	p.AllowAttrs("class").Matching(re(`^language-[A-Za-z0-9_+#.-]+$`)).OnElements("code")
	p.AllowAttrs("class").Matching(re(`^anchor$`)).OnElements("a")
	p.AllowAttrs("class").Matching(re(`^callout callout-(?:note|tip|important|warning|caution)$`)).OnElements("div")
	p.AllowAttrs("role").Matching(re(`^note$`)).OnElements("div")
	p.AllowAttrs("class").Matching(re(`^callout-title$`)).OnElements("p")
	p.AllowAttrs("class").Matching(re(`^task-list-item$`)).OnElements("li")
	p.AllowAttrs("class").Matching(re(`^contains-task-list$`)).OnElements("ul", "ol")
	p.AllowAttrs("type").Matching(re(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(re(`^(?:|checked|disabled)$`)).OnElements("input")
	p.AllowAttrs("src").Matching(embedRE).OnElements("iframe")
	p.AllowAttrs("width", "height").Matching(bluemonday.NumberOrPercent).OnElements("iframe")
	p.AllowAttrs("title").OnElements("iframe")
	p.AllowAttrs("allowfullscreen").Matching(re(`^(?:|true|allowfullscreen)$`)).OnElements("iframe")
	p.AllowAttrs("loading").Matching(re(`^(?:lazy|eager)$`)).OnElements("iframe")
	return p
}

func sanitize(b *bytes.Buffer) string {
	return dropIncomplete(policy.SanitizeReader(b))
}

// dropIncomplete removes the iframes and inputs that bluemonday kept without the attribute that
// made them acceptable. Bluemonday judges attributes one by one, so <iframe src=evil title=x>
// survives as an empty frame and <input type=text checked> as a text box; neither is wanted.
func dropIncomplete(b *bytes.Buffer) string {
	s := b.Bytes()
	if !bytes.Contains(s, []byte("<iframe")) && !bytes.Contains(s, []byte("<input")) {
		return b.String()
	}
	var out bytes.Buffer
	out.Grow(len(s))
	z := html.NewTokenizer(bytes.NewReader(s))
	inDropped := false // inside an iframe being removed, up to its end tag
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out.String()
		}
		mark := out.Len()
		out.Write(z.Raw())
		switch tok := z.Token(); tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			switch {
			case tok.Data == "iframe" && !strings.HasPrefix(attr(tok, "src"), "https://www.youtube-nocookie.com/embed/") &&
				!strings.HasPrefix(attr(tok, "src"), "https://player.vimeo.com/video/"):
				inDropped = tt == html.StartTagToken
				out.Truncate(mark)
			case tok.Data == "input" && attr(tok, "type") != "checkbox":
				out.Truncate(mark)
			}
		case html.EndTagToken:
			if inDropped && tok.Data == "iframe" {
				inDropped = false
				out.Truncate(mark)
			}
		default:
			if inDropped {
				out.Truncate(mark)
			}
		}
	}
}

func attr(t html.Token, key string) string {
	for _, a := range t.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
