package helpportal

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Severity is how loud an announcement is.
type Severity string

const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Label is the word shown before an announcement's title.
func (s Severity) Label() string {
	switch s {
	case SeverityCritical:
		return "Critical"
	case SeverityWarning:
		return "Notice"
	}
	return "News"
}

// Announcement is breaking news; while active (StartsAt ≤ now < EndsAt) it shows in the bar
// across the top of every page.
type Announcement struct {
	ID        int64
	Slug      string
	Title     string
	Body      string // Markdown
	HTML      string // sanitised, rendered on save
	Severity  Severity
	StartsAt  time.Time
	EndsAt    time.Time // zero: no end
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Active reports whether the announcement shows at time now.
func (a *Announcement) Active(now time.Time) bool {
	return !now.Before(a.StartsAt) && (a.EndsAt.IsZero() || now.Before(a.EndsAt))
}

// Validate returns an EINVALID error naming the first wrong field.
func (a *Announcement) Validate() error {
	a.Title = strings.TrimSpace(a.Title)
	if a.Severity == "" {
		a.Severity = SeverityInfo
	}
	switch {
	case !ValidSlug(a.Slug):
		return Errorf(EINVALID, "The announcement slug %q must be lowercase letters, digits and single hyphens.", truncate(a.Slug, 60))
	case a.Title == "" || utf8.RuneCountInString(a.Title) > MaxTitleLen:
		return Errorf(EINVALID, "The announcement title must be 1 to %d characters.", MaxTitleLen)
	case a.Severity != SeverityInfo && a.Severity != SeverityWarning && a.Severity != SeverityCritical:
		return Errorf(EINVALID, "The severity %q is not info, warning or critical.", truncate(string(a.Severity), 40))
	case a.StartsAt.IsZero():
		return Errorf(EINVALID, "The announcement needs a start time.")
	case !a.EndsAt.IsZero() && !a.EndsAt.After(a.StartsAt):
		return Errorf(EINVALID, "The announcement must end after it starts.")
	case len(a.Body) > MaxBodyLen:
		return Errorf(EINVALID, "The announcement body is larger than %d KiB.", MaxBodyLen>>10)
	}
	return nil
}

// AnnouncementService reads and writes announcements.
type AnnouncementService interface {
	// Announcements returns every announcement that has started by now, newest first.
	Announcements(ctx context.Context, now time.Time, limit int) ([]*Announcement, error)
	// ActiveAnnouncements returns those active at now, most severe first.
	ActiveAnnouncements(ctx context.Context, now time.Time) ([]*Announcement, error)
	// AnnouncementBySlug returns a started announcement or ENOTFOUND.
	AnnouncementBySlug(ctx context.Context, now time.Time, slug string) (*Announcement, error)
	// SaveAnnouncement creates or updates (by slug) an announcement; EINVALID on bad fields.
	SaveAnnouncement(ctx context.Context, a *Announcement) error
}
