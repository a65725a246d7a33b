package search_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"helpportal"
	"helpportal/internal/search"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
)

// fixture is a store with a small help centre and an engine over it.
type fixture struct {
	t    *testing.T
	db   *store.DB
	eng  *search.Engine
	dir  string
	cats map[string]*helpportal.Category
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, db: storetest.MustOpen(t), dir: filepath.Join(t.TempDir(), "index"), cats: map[string]*helpportal.Category{}}
	f.category("account", "Account & security", "")
	f.category("hosting", "Web hosting", "")
	f.category("dns", "DNS records", "hosting")
	f.category("billing", "Billing", "")
	homes := map[string]string{"email-setup": "hosting", "dns-record-types": "dns", "dns-propagation": "dns", "wordpress-backup": "hosting", "smtp-ports": "hosting", "invoice-explained": "billing", "draft-zebra": "billing", "clients-zebra": "billing", "staff-zebra": "dns"}
	for _, a := range []*helpportal.Article{
		{Slug: "reset-password", Title: "Reset your password", Summary: "Forgot it? Set a new one.", Type: helpportal.TypeHowTo,
			Tags: []string{"password", "security"}, Body: "Open the sign-in page and choose **Forgot password**. We send a reset link by email.\n"},
		{Slug: "two-factor", Title: "Turn on two-factor authentication", Type: helpportal.TypeHowTo, Tags: []string{"security"},
			Body: "Two-factor sign-in protects your account with a code from an app.\n"},
		{Slug: "login-trouble", Title: "You cannot log in", Type: helpportal.TypeTroubleshooting,
			Body: "If you cannot log in, check caps lock first, then reset the password.\n"},
		{Slug: "email-setup", Title: "Set up your mailbox", Type: helpportal.TypeWalkthrough,
			Body: "Add the e-mail account to your phone. Use IMAP for incoming mail.\n"},
		{Slug: "dns-record-types", Title: "DNS record types", Type: helpportal.TypeReference, Tags: []string{"dns"},
			Body: "Change the DNS record now: an A record points a name at an address; an MX record routes mail.\n"},
		{Slug: "dns-propagation", Title: "DNS changes are slow to show", Type: helpportal.TypeTroubleshooting, Tags: []string{"dns"},
			Body: "Record the DNS change time and wait: caches keep old answers for up to a day.\n"},
		{Slug: "wordpress-backup", Title: "Back up a WordPress site", Type: helpportal.TypeHowTo,
			Body: "Export the database from the control panel, then download the wordpress folder. Keep nginx logs too.\n"},
		{Slug: "smtp-ports", Title: "SMTP ports", Type: helpportal.TypeReference,
			Body: "Use port 587 with STARTTLS for SMTP.\n"},
		{Slug: "invoice-explained", Title: "Understanding your invoice", Type: helpportal.TypeFAQ, Tags: []string{"invoices"},
			Body: "Each invoice lists the period, the plan and the tax. Use <b>bold</b> claims & 5 < 6 maths.\n\n    <script>alert(1)</script>\n"},
		// Not for everyone.
		{Slug: "draft-zebra", Title: "Zebra migration draft", Status: helpportal.StatusDraft, Type: helpportal.TypeFAQ,
			Body: "Zebra plans are coming.\n"},
		{Slug: "clients-zebra", Title: "Zebra pricing for clients", Visibility: helpportal.VisibilityClients, Type: helpportal.TypeFAQ,
			Body: "Zebra discounts.\n"},
		{Slug: "staff-zebra", Title: "Zebra escalation runbook", Visibility: helpportal.VisibilityStaff, Type: helpportal.TypeWalkthrough,
			Body: "Internal zebra steps.\n"},
	} {
		f.save(a, homes[a.Slug])
	}
	f.open()
	return f
}

func (f *fixture) category(slug, name, parent string) {
	f.t.Helper()
	c := &helpportal.Category{Slug: slug, Name: name}
	if parent != "" {
		c.ParentID = f.cats[parent].ID
	}
	if err := f.db.SaveCategory(context.Background(), c); err != nil {
		f.t.Fatal(err)
	}
	f.cats[slug] = c
}

// save stores a in the category with slug cat ("account" when empty).
func (f *fixture) save(a *helpportal.Article, cat string) *helpportal.Article {
	f.t.Helper()
	if cat == "" {
		cat = "account"
	}
	a.CategoryID = f.cats[cat].ID
	if err := f.db.SaveArticle(context.Background(), a); err != nil {
		f.t.Fatalf("save %s: %v", a.Slug, err)
	}
	return a
}

func (f *fixture) open() {
	f.t.Helper()
	eng, err := search.Open(context.Background(), f.db, search.Options{Dir: f.dir, Language: "en", Logger: quiet})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { eng.Close() })
	if err := eng.Sync(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	f.eng = eng
}

func (f *fixture) sync() {
	f.t.Helper()
	if err := f.eng.Sync(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

// search runs q for v and returns the result.
func (f *fixture) search(v helpportal.Viewer, q string) *search.Result {
	f.t.Helper()
	return f.searchReq(search.Request{Query: q, Viewer: v, Limit: 20, Facets: true, Snippets: true})
}

func (f *fixture) searchReq(r search.Request) *search.Result {
	f.t.Helper()
	res, err := f.eng.Search(context.Background(), r)
	if err != nil {
		f.t.Fatalf("search %q: %v", r.Query, err)
	}
	return res
}

func slugs(res *search.Result) []string {
	out := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = h.Slug
	}
	return out
}

var (
	anon   = helpportal.Anonymous
	client = helpportal.Viewer{UserID: 2, Role: helpportal.RoleClient}
	staff  = helpportal.Viewer{UserID: 1, Role: helpportal.RoleEditor}
)
