package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"helpportal"
	"helpportal/internal/auth"
)

// Session lifetimes: idle and absolute, and both when "Keep me signed in" was ticked.
const (
	sessionIdle     = time.Hour
	sessionAbsolute = 12 * time.Hour
	sessionRemember = 30 * 24 * time.Hour
	// touchEvery limits last-seen writes to one a minute per session.
	touchEvery = time.Minute
)

type ctxKey int

const signedInKey ctxKey = 1

// signedIn is the request's session, when it carries a live one.
type signedIn struct {
	user    *helpportal.User
	session *helpportal.Session
}

// cookieName has the __Host- prefix on https, which pins the cookie to this host and path.
func (s *Server) cookieName() string {
	if s.secure() {
		return "__Host-hp_session"
	}
	return "hp_session"
}

func (s *Server) secure() bool { return strings.HasPrefix(s.site.BaseURL, "https://") }

// sessions resolves the session cookie once per request. Requests without one (almost all
// page views) do no work at all.
func (s *Server) sessions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(s.cookieName())
		if err != nil || s.accounts == nil {
			next.ServeHTTP(w, r)
			return
		}
		if !auth.ValidToken(c.Value) {
			s.clearSessionCookie(w)
			next.ServeHTTP(w, r)
			return
		}
		now := s.now()
		sess, u, err := s.accounts.SessionByToken(r.Context(), auth.HashToken(c.Value), now)
		switch {
		case err == nil:
		case helpportal.ErrorCode(err) == helpportal.EUNAUTHORIZED:
			s.clearSessionCookie(w)
			next.ServeHTTP(w, r)
			return
		case viewerFree(r.URL.Path):
			// The static files that style the error page need no viewer.
			next.ServeHTTP(w, r)
			return
		default:
			// Unknown is not anonymous: serving the request signed out would send the
			// person to the sign-in page, or show them pages meant for visitors, while the
			// store is down. They get the store's error (503 during an outage).
			s.fail(w, r, err)
			return
		}
		if now.Sub(sess.LastSeenAt) > touchEvery {
			idle := sessionIdle
			if sess.Remember {
				idle = sessionRemember
			}
			if err := s.accounts.TouchSession(r.Context(), sess.ID, now, now.Add(idle)); err != nil {
				s.log.Warn("touch session", "err", err)
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), signedInKey, &signedIn{user: u, session: sess})))
	})
}

// viewerFree reports paths whose answer is the same for everyone.
func viewerFree(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/favicon.ico", "/robots.txt":
		return true
	}
	return strings.HasPrefix(path, "/static/")
}

func current(r *http.Request) *signedIn {
	si, _ := r.Context().Value(signedInKey).(*signedIn)
	return si
}

// viewer is who is making the request: it decides which articles are visible.
func (s *Server) viewer(r *http.Request) helpportal.Viewer {
	if si := current(r); si != nil {
		return si.user.Viewer()
	}
	return helpportal.Anonymous
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string, remember bool) {
	c := &http.Cookie{Name: s.cookieName(), Value: token, Path: "/", HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode}
	if remember {
		c.MaxAge = int(sessionRemember / time.Second)
	}
	http.SetCookie(w, c)
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
}

// clientIP is the client's address: the peer's, or what a trusted proxy said (realIP).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// event is a security event about u from this request.
func event(r *http.Request, userID int64, kind string) helpportal.Event {
	ua := r.UserAgent()
	if len(ua) > 300 {
		ua = ua[:300]
	}
	return helpportal.Event{UserID: userID, Kind: kind, IP: clientIP(r), UserAgent: ua}
}

// realIP is where the portal decides what it believes of a peer that is one of the trusted
// proxies. It replaces the peer address with the client's: the rightmost X-Forwarded-For
// entry that is not itself a trusted proxy (entries further left were written by the client
// and are never believed). And it tells the request log both that address and the proxy's
// X-Request-ID, when that is a usable one. Any other peer's headers are left unread.
func (s *Server) realIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		peer, perr := netip.ParseAddr(host)
		if err != nil || perr != nil || !s.isTrusted(peer) {
			next.ServeHTTP(w, r)
			return
		}
		l := reqLogOf(r.Context())
		if id := inboundRequestID(r); id != "" && l != nil {
			l.id, l.idHdr[0] = id, id
		}
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			if !s.isTrusted(a) {
				r2 := *r
				r2.RemoteAddr = net.JoinHostPort(a.Unmap().String(), "0")
				if l != nil {
					l.ip = clientIP(&r2)
				}
				next.ServeHTTP(w, &r2)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// isTrusted reports whether a is in --trusted-proxies.
func (s *Server) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
