package helpportal

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ArticleType is the section of the portal an article belongs to.
type ArticleType string

const (
	TypeTroubleshooting ArticleType = "troubleshooting"
	TypeHowTo           ArticleType = "how-to"
	TypeWalkthrough     ArticleType = "walkthrough"
	TypeFAQ             ArticleType = "faq"
	TypeReference       ArticleType = "reference"
)

// ArticleTypes lists the types in the order the home page shows their sections.
var ArticleTypes = []ArticleType{TypeTroubleshooting, TypeHowTo, TypeWalkthrough, TypeFAQ, TypeReference}

// Valid reports whether t is one of ArticleTypes.
func (t ArticleType) Valid() bool {
	for _, x := range ArticleTypes {
		if t == x {
			return true
		}
	}
	return false
}

// Label is the singular name shown on badges.
func (t ArticleType) Label() string {
	switch t {
	case TypeTroubleshooting:
		return "Troubleshooting"
	case TypeHowTo:
		return "How-to"
	case TypeWalkthrough:
		return "Walkthrough"
	case TypeFAQ:
		return "FAQ"
	case TypeReference:
		return "Reference"
	}
	return string(t)
}

// Section is the plural heading of the type's home-page section.
func (t ArticleType) Section() string {
	switch t {
	case TypeTroubleshooting:
		return "Troubleshooting"
	case TypeHowTo:
		return "How-tos"
	case TypeWalkthrough:
		return "Walkthroughs"
	case TypeFAQ:
		return "FAQ"
	case TypeReference:
		return "Reference"
	}
	return string(t)
}

// Status is an article's publication state.
type Status string

const (
	StatusDraft     Status = "draft"
	StatusPublished Status = "published"
)

// Visibility says who may read a published article.
type Visibility string

const (
	VisibilityPublic  Visibility = "public"
	VisibilityClients Visibility = "clients"
	VisibilityStaff   Visibility = "staff"
)

// Heading is one entry of an article's table of contents.
type Heading struct {
	Level int    `json:"level"`
	ID    string `json:"id"`
	Text  string `json:"text"`
}

// Article is a knowledge-base article. HTML, TOC, Steps and Words are derived from Body when
// the article is saved, so page views never render Markdown.
type Article struct {
	ID          int64
	Slug        string
	Title       string
	Summary     string
	Type        ArticleType
	Body        string // Markdown source
	HTML        string // sanitised HTML rendered from Body
	TOC         []Heading
	Steps       []string // the first ordered list's items, for HowTo structured data
	Words       int
	CategoryID  int64
	Category    *Category // filled by reads
	Tags        []string
	Status      Status
	Visibility  Visibility
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PublishedAt time.Time // zero while a draft
	Views       int64
	Helpful     int64
	NotHelpful  int64
}

// ReadingMinutes estimates reading time at 200 words a minute, at least one minute.
func (a *Article) ReadingMinutes() int {
	m := (a.Words + 199) / 200
	if m < 1 {
		m = 1
	}
	return m
}

// Limits on article fields; the store and the web layer both rely on them.
const (
	MaxSlugLen    = 120
	MaxTitleLen   = 200
	MaxSummaryLen = 500
	MaxBodyLen    = 512 << 10
	MaxTags       = 20
	MaxTagLen     = 40
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// ValidSlug reports whether s is a lowercase, hyphen-separated slug of allowed length.
func ValidSlug(s string) bool { return len(s) <= MaxSlugLen && slugRE.MatchString(s) }

// Slugify makes a slug from free text: lowercase ASCII letters and digits joined by hyphens.
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			if folded, ok := asciiFold[r]; ok {
				if dash && b.Len() > 0 {
					b.WriteByte('-')
				}
				dash = false
				b.WriteString(folded)
				continue
			}
			dash = true
		}
		if b.Len() >= MaxSlugLen {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > MaxSlugLen {
		out = strings.TrimRight(out[:MaxSlugLen], "-")
	}
	return out
}

var asciiFold = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ä': "a", 'ã': "a", 'å': "a", 'æ': "ae", 'ç': "c",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i",
	'ñ': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'ö': "o", 'õ': "o", 'ø': "o", 'œ': "oe",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ý': "y", 'ÿ': "y", 'ß': "ss",
}

// Normalize trims fields, lowercases tags and fills defaults (type how-to, status published,
// visibility public). Call it before Validate.
func (a *Article) Normalize() {
	a.Slug = strings.TrimSpace(a.Slug)
	a.Title = strings.TrimSpace(a.Title)
	a.Summary = strings.TrimSpace(a.Summary)
	if a.Type == "" {
		a.Type = TypeHowTo
	}
	if a.Status == "" {
		a.Status = StatusPublished
	}
	if a.Visibility == "" {
		a.Visibility = VisibilityPublic
	}
	seen := map[string]bool{}
	tags := a.Tags[:0:0]
	for _, t := range a.Tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	a.Tags = tags
}

// Validate returns an EINVALID error naming the first field that is wrong.
func (a *Article) Validate() error {
	switch {
	case !ValidSlug(a.Slug):
		return Errorf(EINVALID, "The slug %q must be 1 to %d lowercase letters, digits and single hyphens.", truncate(a.Slug, 60), MaxSlugLen)
	case a.Title == "":
		return Errorf(EINVALID, "The title is required.")
	case utf8.RuneCountInString(a.Title) > MaxTitleLen:
		return Errorf(EINVALID, "The title is longer than %d characters.", MaxTitleLen)
	case utf8.RuneCountInString(a.Summary) > MaxSummaryLen:
		return Errorf(EINVALID, "The summary is longer than %d characters.", MaxSummaryLen)
	case len(a.Body) > MaxBodyLen:
		return Errorf(EINVALID, "The body is larger than %d KiB.", MaxBodyLen>>10)
	case !a.Type.Valid():
		return Errorf(EINVALID, "The type %q is not one of troubleshooting, how-to, walkthrough, faq, reference.", truncate(string(a.Type), 40))
	case a.Status != StatusDraft && a.Status != StatusPublished:
		return Errorf(EINVALID, "The status %q is not draft or published.", truncate(string(a.Status), 40))
	case a.Visibility != VisibilityPublic && a.Visibility != VisibilityClients && a.Visibility != VisibilityStaff:
		return Errorf(EINVALID, "The visibility %q is not public, clients or staff.", truncate(string(a.Visibility), 40))
	case a.CategoryID == 0:
		return Errorf(EINVALID, "The category is required.")
	case len(a.Tags) > MaxTags:
		return Errorf(EINVALID, "An article may have at most %d tags.", MaxTags)
	}
	for _, t := range a.Tags {
		if utf8.RuneCountInString(t) > MaxTagLen {
			return Errorf(EINVALID, "The tag %q is longer than %d characters.", truncate(t, 60), MaxTagLen)
		}
		if !utf8.ValidString(t) || strings.ContainsFunc(t, unicode.IsControl) {
			return Errorf(EINVALID, "The tag %q contains invalid UTF-8 or control characters.", truncate(t, 60))
		}
	}
	for _, s := range []string{a.Title, a.Summary, a.Body} {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return Errorf(EINVALID, "The article contains invalid UTF-8 or a NUL byte.")
		}
	}
	return nil
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

// Order is how a list of articles is sorted.
type Order string

const (
	OrderTitle   Order = "title"   // alphabetical
	OrderUpdated Order = "updated" // most recently updated first
	OrderPopular Order = "popular" // most viewed first
	OrderHelpful Order = "helpful" // most helpful votes, then views
)

// ArticleFilter selects articles. Viewer decides which visibilities and statuses show.
type ArticleFilter struct {
	Viewer      Viewer
	CategoryID  int64 // 0 for all
	WithSubcats bool  // include the category's sub-categories
	Type        ArticleType
	Tag         string
	Order       Order
	Limit       int // 0 means 50; at most 500
	Offset      int
	SkipTotal   bool // the caller needs no total; counting costs a scan on large stores
}

// ArticleService reads and writes articles.
type ArticleService interface {
	// ArticleBySlug returns the article visible to v, or ENOTFOUND. When slug is an old slug
	// of a renamed article, it returns ENOTFOUND and MovedTo reports the new one.
	ArticleBySlug(ctx context.Context, v Viewer, slug string) (*Article, error)
	// MovedTo returns the current slug for a renamed article's old slug, or ENOTFOUND.
	MovedTo(ctx context.Context, oldSlug string) (string, error)
	// Articles returns a page of articles and the total matching the filter.
	Articles(ctx context.Context, f ArticleFilter) ([]*Article, int, error)
	// RelatedArticles returns up to limit visible articles sharing the category or tags of a.
	RelatedArticles(ctx context.Context, v Viewer, a *Article, limit int) ([]*Article, error)
	// SaveArticle creates the article or, when one with its slug (or ID) exists, updates it;
	// a changed slug leaves a redirect from the old one. It returns EINVALID or ECONFLICT.
	SaveArticle(ctx context.Context, a *Article) error
	// Vote records one helpful/not-helpful vote per voter and article; a second vote by the
	// same voter changes it. It returns ENOTFOUND for an unknown article.
	Vote(ctx context.Context, articleID int64, voter string, helpful bool) error
	// AddViews adds batched page-view counts.
	AddViews(ctx context.Context, views map[int64]int64) error
}
