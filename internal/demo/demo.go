// Package demo holds the demo content that a fresh portal is seeded with: the help centre of
// "Northwind Hosting", a fictional web-hosting company. The articles are a Markdown folder in
// the import format (see Content); the announcements are built relative to the current time.
package demo

import (
	"embed"
	"io/fs"
	"time"

	"helpportal"
)

//go:embed all:content
var content embed.FS

// Content returns the demo Markdown folder, rooted at the folder that holds the category folders.
func Content() fs.FS {
	sub, err := fs.Sub(content, "content")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "content" is a constant valid one.
		panic(err)
	}
	return sub
}

// Announcements returns the demo announcements relative to now: one active "breaking" one and
// one that has ended.
func Announcements(now time.Time) []*helpportal.Announcement {
	return []*helpportal.Announcement{
		{
			Slug:     "mail-cluster-maintenance",
			Title:    "Scheduled maintenance of the mail cluster",
			Severity: helpportal.SeverityWarning,
			StartsAt: now.Add(-2 * time.Hour),
			EndsAt:   now.Add(14 * 24 * time.Hour),
			Body: `We are moving every mailbox to new storage servers over the next two weeks. ` +
				`Each mailbox is moved once, during the night (01:00–05:00 CET), and is read-only ` +
				`for up to 15 minutes while it moves. Incoming mail is queued, not lost, and is ` +
				`delivered as soon as the move finishes.

You do not need to change any settings in your email client. If your client shows a ` +
				`connection error during the maintenance window, wait a few minutes and try again. ` +
				`If mail still is not arriving afterwards, follow ` +
				`[Emails are not arriving](/articles/emails-are-not-arriving) or open a ticket.`,
		},
		{
			Slug:     "new-region-stockholm",
			Title:    "New data-centre region: Stockholm",
			Severity: helpportal.SeverityInfo,
			StartsAt: now.Add(-30 * 24 * time.Hour),
			EndsAt:   now.Add(-20 * 24 * time.Hour),
			Body: `Our Stockholm region is now open alongside Amsterdam and Frankfurt. It runs on ` +
				`renewable power and gives visitors in the Nordic and Baltic countries noticeably ` +
				`faster page loads.

New hosting plans can choose Stockholm at checkout. To move an existing site, ` +
				`sign in and [request a server migration](/articles/request-a-server-migration); ` +
				`moves between our own regions are free of charge.`,
		},
	}
}

// Settings are the demo portal's site settings, stored on first start; flags override them.
func Settings() map[string]string {
	return map[string]string{
		"site.name":         "Northwind Hosting Help",
		"site.tagline":      "Guides, fixes and answers for your hosting, domains, email and billing.",
		"site.header_links": "Get prices=/articles/choose-the-right-hosting-plan, Learn more=/articles/welcome-to-the-northwind-help-centre",
		"site.support":      "Still stuck? Our support team answers around the clock at support@northwindhosting.example.",
		"site.footer":       "© Northwind Hosting (demo content). Powered by Helpportal.",
	}
}
