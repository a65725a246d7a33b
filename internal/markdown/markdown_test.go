package markdown

import (
	"reflect"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"

	"helpportal"
)

func render(t testing.TB, src string) (Result, *html.Node) {
	t.Helper()
	res, err := Render(src)
	if err != nil {
		t.Fatalf("Render(%q): %v", src, err)
	}
	doc, err := html.Parse(strings.NewReader(res.HTML))
	if err != nil {
		t.Fatalf("parse output: %v", err)
	}
	return res, doc
}

// find returns the elements named tag under n, in document order.
func find(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	if n.Type == html.ElementNode && n.Data == tag {
		out = append(out, n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, find(c, tag)...)
	}
	return out
}

func one(t *testing.T, n *html.Node, tag string) *html.Node {
	t.Helper()
	all := find(n, tag)
	if len(all) != 1 {
		t.Fatalf("want one <%s>, got %d", tag, len(all))
	}
	return all[0]
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, r Result, doc *html.Node)
	}{
		{"table", "| Plan | Price |\n|:-----|------:|\n| Pro | $10 |\n", func(t *testing.T, _ Result, doc *html.Node) {
			ths, tds := find(doc, "th"), find(doc, "td")
			if len(ths) != 2 || len(tds) != 2 {
				t.Fatalf("got %d th, %d td", len(ths), len(tds))
			}
			want(t, "th text", textOf(ths[0]), "Plan")
			want(t, "td align", attrOf(tds[1], "align"), "right")
		}},
		{"task list", "- [x] Back up\n- [ ] Upgrade\n", func(t *testing.T, _ Result, doc *html.Node) {
			boxes := find(doc, "input")
			if len(boxes) != 2 {
				t.Fatalf("got %d checkboxes", len(boxes))
			}
			for i, b := range boxes {
				want(t, "type", attrOf(b, "type"), "checkbox")
				want(t, "disabled", hasAttr(b, "disabled"), true)
				want(t, "checked", hasAttr(b, "checked"), i == 0)
				want(t, "li class", attrOf(b.Parent, "class"), "task-list-item")
			}
			want(t, "ul class", attrOf(one(t, doc, "ul"), "class"), "contains-task-list")
		}},
		{"strikethrough", "~~old~~ new", func(t *testing.T, _ Result, doc *html.Node) {
			want(t, "del", textOf(one(t, doc, "del")), "old")
		}},
		{"autolink external", "See https://example.com/help now", func(t *testing.T, _ Result, doc *html.Node) {
			a := one(t, doc, "a")
			want(t, "href", attrOf(a, "href"), "https://example.com/help")
			want(t, "rel", attrOf(a, "rel"), "nofollow noopener")
		}},
		{"relative and fragment links stay followed", "[a](/billing) [b](#top) [c](mailto:help@example.com)", func(t *testing.T, _ Result, doc *html.Node) {
			for i, a := range find(doc, "a") {
				want(t, "href", attrOf(a, "href"), []string{"/billing", "#top", "mailto:help@example.com"}[i])
				want(t, "has rel", hasAttr(a, "rel"), false)
			}
		}},
		{"image", `![Step 2: click "Save"](/img/save.png "Save button")`, func(t *testing.T, _ Result, doc *html.Node) {
			img := one(t, doc, "img")
			want(t, "src", attrOf(img, "src"), "/img/save.png")
			want(t, "alt", attrOf(img, "alt"), `Step 2: click "Save"`)
			want(t, "title", attrOf(img, "title"), "Save button")
		}},
		{"fenced code language", "```go\nfmt.Println(\"<hi>\")\n```\n", func(t *testing.T, _ Result, doc *html.Node) {
			code := one(t, doc, "code")
			want(t, "class", attrOf(code, "class"), "language-go")
			want(t, "parent", code.Parent.Data, "pre")
			want(t, "text", textOf(code), `fmt.Println("<hi>")`)
		}},
		{"harmless inline html kept", "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>.\n\n<details><summary>More</summary>\n\nHidden *text*\n\n</details>\n", func(t *testing.T, _ Result, doc *html.Node) {
			want(t, "kbd", len(find(doc, "kbd")), 2)
			want(t, "summary", textOf(one(t, one(t, doc, "details"), "summary")), "More")
			want(t, "em", textOf(one(t, doc, "em")), "text")
		}},
		{"ordered list start", "3. third\n4. fourth\n", func(t *testing.T, _ Result, doc *html.Node) {
			want(t, "start", attrOf(one(t, doc, "ol"), "start"), "3")
		}},
		{"duplicate headings get unique ids", "## Setup\n\n## Setup\n\n### Setup\n", func(t *testing.T, _ Result, doc *html.Node) {
			var ids []string
			for _, tag := range []string{"h2", "h3"} {
				for _, h := range find(doc, tag) {
					ids = append(ids, attrOf(h, "id"))
				}
			}
			want(t, "ids", strings.Join(ids, ","), "setup,setup-1,setup-2")
		}},
		{"anchor links on h2 to h4 only", "# T\n\n## Two\n\n### Three\n\n#### Four `x`\n\n##### Five\n", func(t *testing.T, _ Result, doc *html.Node) {
			for _, tag := range []string{"h2", "h3", "h4"} {
				h := one(t, doc, tag)
				a := one(t, h, "a")
				want(t, tag+" anchor href", attrOf(a, "href"), "#"+attrOf(h, "id"))
				want(t, tag+" anchor class", attrOf(a, "class"), "anchor")
				want(t, tag+" anchor text", textOf(a), "#")
				want(t, tag+" is last child", h.LastChild, a)
			}
			want(t, "h4 aria-label", attrOf(one(t, one(t, doc, "h4"), "a"), "aria-label"), "Link to section: Four x")
			want(t, "h1 anchors", len(find(one(t, doc, "h1"), "a")), 0)
			want(t, "h5 anchors", len(find(one(t, doc, "h5"), "a")), 0)
		}},
		{"table of contents", "# Title\n\n## Sign in\n\n### With *SSO*\n\n##### Deep\n\nSetext\n------\n\n## Sign in\n", func(t *testing.T, r Result, _ *html.Node) {
			wantTOC := []helpportal.Heading{
				{Level: 2, ID: "sign-in", Text: "Sign in"},
				{Level: 3, ID: "with-sso", Text: "With SSO"},
				{Level: 2, ID: "setext", Text: "Setext"},
				{Level: 2, ID: "sign-in-1", Text: "Sign in"},
			}
			if !reflect.DeepEqual(r.Headings, wantTOC) {
				t.Errorf("Headings = %+v", r.Headings)
			}
		}},
		{"plain blockquote", "> Quoted text\n> [!NOTE]\n", func(t *testing.T, _ Result, doc *html.Node) {
			want(t, "blockquote", textOf(one(t, doc, "blockquote")), "Quoted text [!NOTE]")
			want(t, "divs", len(find(doc, "div")), 0)
		}},
		{"marker with text on its line is a quote", "> [!NOTE] not alone\n", func(t *testing.T, _ Result, doc *html.Node) {
			one(t, doc, "blockquote")
		}},
		{"unknown marker is a quote", "> [!DANGER]\n> text\n", func(t *testing.T, _ Result, doc *html.Node) {
			one(t, doc, "blockquote")
		}},
		{"steps from first top-level ordered list", "- intro\n  1. nested, not a step\n\n1. Open **Settings**.\n2. Choose `Security`\n   1. sub-step\n3. Save\n\nDone.\n\n1. other list\n", func(t *testing.T, r Result, _ *html.Node) {
			wantSteps := []string{"Open Settings.", "Choose Security sub-step", "Save"}
			if !reflect.DeepEqual(r.Steps, wantSteps) {
				t.Errorf("Steps = %q", r.Steps)
			}
		}},
		{"no steps", "- a\n- b\n\n> 1. quoted\n", func(t *testing.T, r Result, _ *html.Node) {
			if r.Steps != nil {
				t.Errorf("Steps = %q, want nil", r.Steps)
			}
		}},
		{"words and text", "## Reset it\n\nType  the **new**\npassword &amp; save.\n\n```\nrun --now\n```\n\n> [!TIP]\n> Short <b>one</b>.\n", func(t *testing.T, r Result, _ *html.Node) {
			want(t, "Text", r.Text, "Reset it Type the new password & save. run --now Short one.")
			want(t, "Words", r.Words, 12)
		}},
		{"youtube and vimeo iframes kept", `<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?start=30" title="Demo" width="560" height="315" allowfullscreen loading="lazy" style="x" onload="x"></iframe>

<iframe src="https://player.vimeo.com/video/76979871" title="Tour"></iframe>`, func(t *testing.T, _ Result, doc *html.Node) {
			frames := find(doc, "iframe")
			if len(frames) != 2 {
				t.Fatalf("got %d iframes", len(frames))
			}
			yt := frames[0]
			want(t, "src", attrOf(yt, "src"), "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?start=30")
			for _, k := range []string{"title", "width", "height", "allowfullscreen", "loading"} {
				want(t, k, hasAttr(yt, k), true)
			}
			want(t, "attrs", len(yt.Attr), 6)
		}},
		{"other iframes dropped", `<iframe src="https://evil.example/embed/x" title="t"></iframe>
<iframe src="https://www.youtube.com/embed/x"></iframe>
<iframe src="http://www.youtube-nocookie.com/embed/x"></iframe>
<iframe src="https://www.youtube-nocookie.com/embed/../../watch"></iframe>
<iframe src="https://player.vimeo.com.evil.example/video/1"></iframe>
<iframe srcdoc="<script>alert(1)</script>" title="t"></iframe>
<iframe title="t"></iframe>`, func(t *testing.T, _ Result, doc *html.Node) {
			want(t, "iframes", len(find(doc, "iframe")), 0)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, doc := render(t, tt.src)
			if why := unsafeReason(doc); why != "" {
				t.Errorf("unsafe: %s", why)
			}
			tt.check(t, r, doc)
			if t.Failed() {
				t.Logf("HTML:\n%s", r.HTML)
			}
		})
	}
}

func TestCallouts(t *testing.T) {
	for _, tt := range []struct{ marker, class, title string }{
		{"[!NOTE]", "callout callout-note", "Note"},
		{"[!TIP]", "callout callout-tip", "Tip"},
		{"[!WARNING]", "callout callout-warning", "Warning"},
		{"[!IMPORTANT]", "callout callout-important", "Important"},
		{"[!CAUTION]", "callout callout-caution", "Caution"},
		{"[!caution]", "callout callout-caution", "Caution"},
		{" [!Tip]  ", "callout callout-tip", "Tip"},
	} {
		t.Run(tt.marker, func(t *testing.T) {
			r, doc := render(t, "> "+tt.marker+"\n> Back up **first**.\n>\n> - one\n")
			div := one(t, doc, "div")
			want(t, "class", attrOf(div, "class"), tt.class)
			want(t, "role", attrOf(div, "role"), "note")
			title := find(div, "p")[0]
			want(t, "title class", attrOf(title, "class"), "callout-title")
			want(t, "title", textOf(title), tt.title)
			want(t, "content", textOf(div), tt.title+" Back up first. one")
			want(t, "blockquotes", len(find(doc, "blockquote")), 0)
			if t.Failed() {
				t.Logf("HTML:\n%s", r.HTML)
			}
		})
	}
	// A marker on its own, followed by a blank quoted line, must not leave an empty <p>.
	_, doc := render(t, "> [!NOTE]\n>\n> Text\n")
	want(t, "paragraphs", len(find(one(t, doc, "div"), "p")), 2)
}

// hostile inputs, each with visible text that must survive sanitising.
var hostile = []struct{ name, src, keep string }{
	{"script tag", "Hi <script>alert(1)</script> there", "Hi there"},
	{"script block", "<script>\nalert(1)\n</script>\n\nafter", "after"},
	{"img onerror", `<img src="x.png" onerror="alert(1)" alt="pic"> ok`, "ok"},
	{"markdown javascript link", "[click](javascript:alert(1))", "click"},
	{"mixed-case javascript href", `<a href="JaVaScRiPt:alert(1)">click</a>`, "click"},
	{"javascript with tab", "<a href=\"java\tscript:alert(1)\">click</a>", "click"},
	{"entity-encoded javascript href", `<a href="&#106;&#97;vascript&#58;alert(1)">click</a>`, "click"},
	{"entity-encoded markdown link", "[click](&#106;avascript:alert(1))", "click"},
	{"hex entities with leading space", `<a href=" &#x6A;avascript:alert(1)">click</a>`, "click"},
	{"vbscript", `<a href="vbscript:msgbox(1)">click</a>`, "click"},
	{"svg onload", `<svg onload="alert(1)"><circle r="1"/></svg>fine`, "fine"},
	{"style element", "<style>body{display:none}</style>\n\nvisible", "visible"},
	{"style attribute", `<p style="position:fixed;top:0">boxed</p>`, "boxed"},
	{"iframe elsewhere", `<iframe src="https://evil.example"></iframe>still here`, "still here"},
	{"iframe javascript", `<iframe src="javascript:alert(1)" title="x"></iframe>`, ""},
	{"data url link", `[open](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`, "open"},
	{"data url image", `![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=) shown`, "shown"},
	{"form", `<form action="https://evil.example"><input type="password" name="p"><button>Go</button></form>`, "Go"},
	{"object and embed", `<object data="x.swf"></object><embed src="x.swf">gone`, "gone"},
	{"event handler on allowed element", `<b onclick="alert(1)" onmouseover=x>bold</b>`, "bold"},
	{"text input", `<input type="text" checked> <input value="x">`, ""},
	{"meta refresh", `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">meta`, "meta"},
	{"base href", `<base href="https://evil.example/">base`, "base"},
	{"math mxss", `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`, ""},
	{"noscript mxss", `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`, ""},
	{"heading with handler", "## <span onclick=x>Title</span>", "Title #"},
	{"class and id injection", `<div class="admin-only" id="x">div</div>`, "div"},
}

func TestHostile(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			r, doc := render(t, h.src)
			if why := unsafeReason(doc); why != "" {
				t.Errorf("unsafe: %s\nHTML: %s", why, r.HTML)
			}
			if got := textOf(doc); !strings.Contains(got, h.keep) {
				t.Errorf("text %q lost %q", got, h.keep)
			}
			for _, n := range find(doc, "div") {
				if c := attrOf(n, "class"); c != "" && !strings.HasPrefix(c, "callout") {
					t.Errorf("class %q kept", c)
				}
			}
		})
	}
}

func TestConcurrent(t *testing.T) {
	first, _ := render(t, article)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if r, err := Render(article); err != nil || r.HTML != first.HTML {
					t.Error("concurrent render differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkRender(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(article)))
	for b.Loop() {
		if _, err := Render(article); err != nil {
			b.Fatal(err)
		}
	}
}

func TestArticle(t *testing.T) {
	r, doc := render(t, article)
	if r.Words < 550 || r.Words > 700 {
		t.Errorf("benchmark article has %d words, want about 600", r.Words)
	}
	want(t, "steps", len(r.Steps), 6)
	want(t, "callouts", len(find(doc, "div")), 2)
	want(t, "tables", len(find(doc, "table")), 1)
}

// article is a realistic help article: numbered steps, a table, a code block and callouts.
const article = `# Set up two-factor authentication

Two-factor authentication (2FA) protects your account even if someone learns your password. After you turn it on, signing in needs both your password and a six-digit code from an authenticator app on your phone. This article explains how to turn it on, which apps work, what to do when you change phones, and how administrators can require it for everyone in a workspace.

> [!NOTE]
> Two-factor authentication is available on every plan. Administrators on the **Business** and **Enterprise** plans can make it mandatory; see [Require 2FA for your team](/articles/require-2fa).

## Before you start

You need a phone with an authenticator app installed and about five minutes. Any app that supports time-based one-time passwords (TOTP) works. We have tested the apps in the table below; others that follow the standard should work too.

| App | Platforms | Cloud backup | Notes |
|:----|:----------|:------------:|------:|
| Google Authenticator | Android, iOS | Yes | Free |
| Microsoft Authenticator | Android, iOS | Yes | Free |
| 1Password | All | Yes | Paid plan |
| Authy | Android, iOS, desktop | Yes | Free |
| Aegis | Android | Encrypted export | Open source |

If you cannot use a phone, ask your administrator about hardware security keys, which we support on the Enterprise plan.

## Turn on two-factor authentication

1. Sign in and open **Settings** from the menu under your name in the top-right corner.
2. Select **Security**, then **Two-factor authentication**.
3. Select **Set up authenticator app**. A QR code appears on the screen.
4. Open your authenticator app, add a new account, and scan the QR code. If you cannot scan it, choose to enter a key manually and type the setup key shown under the code.
5. Enter the six-digit code that the app shows and select **Verify**. Codes change every thirty seconds, so type the current one.
6. Download or print your recovery codes and keep them somewhere safe, away from your phone.

From now on, whenever you sign in on a new device or browser, we ask for a code after your password. You can tick **Trust this browser for 30 days** so that you are not asked every time on your own computer.

> [!WARNING]
> Each recovery code works only once. If you lose your phone *and* your recovery codes, our support team must verify your identity before removing 2FA, which can take up to three working days.

## Use the API with two-factor authentication

Two-factor authentication does not apply to API tokens, because scripts cannot type codes. Create a personal token under **Settings → API tokens** and keep it secret: anyone with the token can act as you. For example, to list your projects with a token:

` + "```bash" + `
curl -H "Authorization: Bearer $HELP_TOKEN" \
  https://api.example.com/v2/projects?limit=20
` + "```" + `

Revoke a token immediately if you think it has leaked. Revoking takes effect within a minute everywhere.

## Change phones

If you are moving to a new phone and still have the old one, open **Settings → Security** on a computer, select **Replace device**, and scan the new QR code with the app on your new phone. Most authenticator apps with cloud backup can also move your accounts for you; check that the codes match before you wipe the old phone.

If you no longer have the old phone, sign in with one of your recovery codes, then set up 2FA again as described above. Your old codes stop working as soon as you finish.

## Troubleshooting

### The code is always rejected

Codes depend on the time. Make sure the clock on your phone is set automatically from the network; even a difference of two minutes is enough to make every code fail. In Google Authenticator on Android you can also use **Time correction for codes** in the app settings.

### I am locked out

Use a recovery code in place of the six-digit code. If you have none left, contact support from the email address on your account and we will guide you through identity checks. For security reasons we cannot remove 2FA over the phone or through chat.
`
