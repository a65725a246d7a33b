package web

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"helpportal"
)

// layout is what every page's layout needs; page structs embed it.
type layout struct {
	Site          *helpportal.Site
	Title         string // the page's own title; the site name is appended
	Description   string
	Canonical     string
	OGType        string
	Query         string // the search box's value
	Announcements []*helpportal.Announcement
	JSONLD        template.JS      // structured data, already JSON-encoded
	Account       *helpportal.User // the signed-in user, for the header
	NoIndex       bool
	Print         bool // the print view: no navigation
}

func (s *Server) layout(r *http.Request, title, description string) layout {
	l := layout{
		Site:        &s.site,
		Title:       title,
		Description: description,
		Canonical:   s.site.BaseURL + r.URL.Path,
		OGType:      "website",
	}
	if description == "" {
		l.Description = s.site.Tagline
	}
	if si := current(r); si != nil {
		l.Account = si.user
	}
	l.Announcements = s.activeAnnouncements(r)
	return l
}

type cachedAnnouncements struct {
	seq  int64
	at   time.Time
	list []*helpportal.Announcement
}

// activeAnnouncements is the breaking bar's content, which every uncached page shows: kept
// until content changes, and at most 10 s so that starts and ends by the clock show soon.
func (s *Server) activeAnnouncements(r *http.Request) []*helpportal.Announcement {
	seq, now := s.store.ChangeSeq(), s.now()
	s.annMu.Lock()
	c := s.ann
	s.annMu.Unlock()
	if c.at.IsZero() || c.seq != seq || now.Sub(c.at) > 10*time.Second {
		list, err := s.store.ActiveAnnouncements(r.Context(), now)
		if err != nil {
			s.log.Warn("active announcements", "err", err)
			return c.list
		}
		c = cachedAnnouncements{seq: seq, at: now, list: list}
		s.annMu.Lock()
		s.ann = c
		s.annMu.Unlock()
	}
	return c.list
}

func jsonLD(v any) template.JS {
	b, err := json.Marshal(v) // escapes <, > and & so the block cannot end the script early
	if err != nil {
		return ""
	}
	return template.JS(b)
}

// response is a rendered page ready to send or cache.
type response struct {
	status    int
	ctype     string
	body      []byte
	articleID int64
	location  string // for redirects
}

func (s *Server) html(name string, status int, data any) (*response, error) {
	b, err := s.renderBytes(name, data)
	if err != nil {
		return nil, err
	}
	return &response{status: status, ctype: "text/html; charset=utf-8", body: b}, nil
}

// cachedPage wraps a page handler: anonymous GET and HEAD requests are served from the page
// cache while the content has not changed; everything else renders. A page past its TTL is
// served as it is while one background render replaces it.
func (s *Server) cachedPage(build func(r *http.Request) (*response, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.viewer(r).Role != helpportal.RoleAnonymous {
			// Signed-in readers may see more than the cached anonymous page shows.
			res, err := build(r)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			p := newCachedPage(res, 0, s.now())
			p.header["Cache-Control"] = []string{"private, no-store"}
			p.write(w, r)
			return
		}
		key := r.URL.Path
		if r.URL.RawQuery != "" {
			key += "?" + r.URL.RawQuery
		}
		seq := s.store.ChangeSeq()
		now := s.now()
		render := func(r *http.Request) (*cachedPage, error) {
			return s.cache.render(key, func() (*cachedPage, error) {
				res, err := build(r)
				if err != nil {
					return nil, err
				}
				return newCachedPage(res, seq, now), nil
			})
		}
		p := s.cache.get(key)
		switch {
		case p != nil && p.seq == seq:
			if now.Sub(p.at) > cacheTTL && !s.cache.refreshing(key) {
				bg := r.Clone(context.WithoutCancel(r.Context()))
				go func() {
					if _, err := render(bg); err != nil {
						s.logError(bg, err)
					}
				}()
			}
		default:
			var err error
			if p, err = render(r); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if p.articleID != 0 {
			s.views.add(p.articleID)
		}
		p.write(w, r)
	}
}

type errorPage struct {
	layout
	Status  int
	Heading string
	Message string
	// Reference is the request's ID on a server error: what a person quotes to support,
	// and what finds the error's log line.
	Reference string
}

// fail answers with the error's status: JSON for the API, an HTML page otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		// The client went away (or the server is stopping) while the request was being
		// served: nobody reads an answer, and it is not a failure of ours to log. The
		// request's line says 499, nginx's "client closed request".
		if l := reqLogOf(r.Context()); l != nil && l.code == 0 {
			l.code = statusClientClosed
		}
		return
	}
	s.logError(r, err)
	status := statusOf(err)
	if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "5")
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, status, map[string]any{"error": map[string]string{"code": codeOf(err), "message": messageOf(err)}})
		return
	}
	p := errorPage{layout: s.layout(r, "", ""), Status: status, Message: messageOf(err)}
	if status >= 500 {
		p.Reference = requestID(r.Context())
	}
	p.NoIndex = true
	switch status {
	case http.StatusNotFound:
		p.Heading = "We couldn't find that page"
		p.Message = "The page may have moved, or the link may be mistyped. Try a search, or browse all topics."
	case http.StatusInternalServerError:
		p.Heading = "Something went wrong"
	default:
		p.Heading = http.StatusText(status)
	}
	p.Title = p.Heading
	b, rerr := s.renderBytes("error", p)
	if rerr != nil {
		s.log.ErrorContext(r.Context(), "render error page", "err", rerr)
		http.Error(w, p.Message, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, helpportal.Errorf(helpportal.ENOTFOUND, "Page not found."))
}

// parseForm reads a posted form; a body over the limit stays a 413, anything unreadable is
// a 400 with a message.
func parseForm(r *http.Request) error {
	err := r.ParseForm()
	var mbe *http.MaxBytesError
	if err == nil || errors.As(err, &mbe) {
		return err
	}
	return helpportal.Errorf(helpportal.EINVALID, "The form could not be read.")
}
