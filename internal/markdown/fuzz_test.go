package markdown

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func FuzzRender(f *testing.F) {
	for _, h := range hostile {
		f.Add(h.src)
	}
	f.Add(article)
	f.Add("> [!WARNING]\n> <iframe src=\"https://player.vimeo.com/video/1\" onload=x></iframe>\n")
	f.Add("## <img src=x onerror=alert(1)> heading\n\n1. [a](javascript:b)\n")
	f.Fuzz(func(t *testing.T, src string) {
		res, err := Render(src)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		doc, err := html.Parse(strings.NewReader(res.HTML))
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		if why := unsafeReason(doc); why != "" {
			t.Fatalf("unsafe output: %s\ninput: %q\nHTML: %s", why, src, res.HTML)
		}
		if res.Words != len(strings.Fields(res.Text)) {
			t.Fatalf("Words = %d, Text has %d words", res.Words, len(strings.Fields(res.Text)))
		}
		seen := map[string]bool{}
		for _, h := range res.Headings {
			if seen[h.ID] {
				t.Fatalf("duplicate heading ID %q", h.ID)
			}
			seen[h.ID] = true
		}
	})
}

// bannedElements can run code, load plugins, restyle the page or submit data elsewhere.
var bannedElements = map[string]bool{
	"script": true, "style": true, "object": true, "embed": true, "form": true, "base": true,
	"link": true, "meta": true, "frame": true, "frameset": true, "applet": true,
	"button": true, "textarea": true, "select": true,
}

// urlAttrs are the attributes a browser resolves as URLs.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "poster": true,
	"background": true, "cite": true, "data": true, "srcset": true, "longdesc": true,
}

// unsafeReason returns why the parsed document is unsafe, or "" if it is not. It is written
// independently of the policy so that a mistake in one is caught by the other.
func unsafeReason(n *html.Node) string {
	if n.Type == html.ElementNode {
		name := strings.ToLower(n.Data)
		if bannedElements[name] {
			return fmt.Sprintf("<%s> element", name)
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			switch {
			case strings.HasPrefix(key, "on"):
				return fmt.Sprintf("event handler %s on <%s>", key, name)
			case key == "style":
				return fmt.Sprintf("style attribute on <%s>", name)
			case urlAttrs[key] && badScheme(a.Val):
				return fmt.Sprintf("%s=%q on <%s>", key, a.Val, name)
			}
		}
		if src := attrOf(n, "src"); name == "iframe" &&
			!strings.HasPrefix(src, "https://www.youtube-nocookie.com/embed/") &&
			!strings.HasPrefix(src, "https://player.vimeo.com/video/") {
			return fmt.Sprintf("iframe with src %q", src)
		}
		if name == "input" && attrOf(n, "type") != "checkbox" {
			return fmt.Sprintf("input of type %q", attrOf(n, "type"))
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if why := unsafeReason(c); why != "" {
			return why
		}
	}
	return ""
}

// badScheme mimics how browsers read a URL's scheme: surrounding space and control characters
// are ignored, tabs and newlines anywhere are dropped, and case does not matter.
func badScheme(v string) bool {
	v = strings.Map(func(r rune) rune {
		if r < 0x21 || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToLower(v))
	return strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:")
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
