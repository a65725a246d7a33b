package web

import (
	"encoding/xml"
	"net/http"
	"time"

	"helpportal"
)

type announcementsPage struct {
	layout
	List []*helpportal.Announcement
	Now  time.Time
}

func (s *Server) handleAnnouncements(r *http.Request) (*response, error) {
	now := s.now()
	list, err := s.store.Announcements(r.Context(), now, 100)
	if err != nil {
		return nil, err
	}
	p := announcementsPage{layout: s.layout(r, "Announcements", "News and service notices from "+s.site.Name+"."), List: list, Now: now}
	return s.html("announcements", http.StatusOK, p)
}

type announcementPage struct {
	layout
	Announcement *helpportal.Announcement
	Active       bool
}

func (s *Server) handleAnnouncement(r *http.Request) (*response, error) {
	now := s.now()
	a, err := s.store.AnnouncementBySlug(r.Context(), now, r.PathValue("slug"))
	if err != nil {
		return nil, err
	}
	p := announcementPage{layout: s.layout(r, a.Title, a.Title), Announcement: a, Active: a.Active(now)}
	p.OGType = "article"
	return s.html("announcement", http.StatusOK, p)
}

// Atom 1.0 (RFC 4287), just the elements feed readers use.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title     string   `xml:"title"`
	ID        string   `xml:"id"`
	Updated   string   `xml:"updated"`
	Published string   `xml:"published"`
	Link      atomLink `xml:"link"`
	Content   atomText `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

func (s *Server) handleAnnouncementsFeed(r *http.Request) (*response, error) {
	list, err := s.store.Announcements(r.Context(), s.now(), 50)
	if err != nil {
		return nil, err
	}
	base := s.site.BaseURL
	f := atomFeed{
		Title: s.site.Name + " announcements", ID: base + "/announcements",
		Links:  []atomLink{{Href: base + "/announcements.atom", Rel: "self", Type: "application/atom+xml"}, {Href: base + "/announcements", Rel: "alternate", Type: "text/html"}},
		Author: atomAuthor{Name: s.site.Name},
	}
	updated := time.Unix(0, 0)
	for _, a := range list {
		u := base + "/announcements/" + a.Slug
		f.Entries = append(f.Entries, atomEntry{
			Title: a.Title, ID: u, Updated: a.UpdatedAt.UTC().Format(time.RFC3339), Published: a.StartsAt.UTC().Format(time.RFC3339),
			Link: atomLink{Href: u, Rel: "alternate", Type: "text/html"}, Content: atomText{Type: "html", Body: a.HTML},
		})
		if a.UpdatedAt.After(updated) {
			updated = a.UpdatedAt
		}
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	b, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return &response{status: http.StatusOK, ctype: "application/atom+xml; charset=utf-8", body: append([]byte(xml.Header), b...)}, nil
}
