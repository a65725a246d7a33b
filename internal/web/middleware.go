package web

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"helpportal"
)

// Limits on what a request may carry before any handler runs.
const (
	maxPathLen  = 1024
	maxQueryLen = 2048
	maxBodySize = 1 << 20
)

// securityHeaders sets the headers every response carries. Scripts and styles come only
// from our own files, so the policy needs no 'unsafe-inline'. Framing is refused by
// frame-ancestors, which every current browser honours, so X-Frame-Options is left out.
func securityHeaders(next http.Handler, https bool) http.Handler {
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; " +
		"frame-src https://www.youtube-nocookie.com https://player.vimeo.com; object-src 'none'; " +
		"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
	// Built once and shared by every response: nothing modifies these slices.
	headers := http.Header{
		"Content-Security-Policy": {csp},
		"X-Content-Type-Options":  {"nosniff"},
		"Referrer-Policy":         {"strict-origin-when-cross-origin"},
		"Permissions-Policy":      {"camera=(), microphone=(), geolocation=()"},
	}
	if https { // browsers must never fall back to plain HTTP for this host
		headers["Strict-Transport-Security"] = []string{"max-age=63072000; includeSubDomains"}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range headers {
			h[k] = v
		}
		next.ServeHTTP(w, r)
	})
}

// checkInput refuses paths and queries no page could want: invalid UTF-8, NUL bytes,
// unparsable or over-long queries. It answers 400 with a message, before routing.
func (s *Server) checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if msg := badInput(r); msg != "" {
			s.fail(w, r, helpportal.Errorf(helpportal.EINVALID, "%s", msg))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodySize)
		}
		next.ServeHTTP(w, r)
	})
}

func badInput(r *http.Request) string {
	p := r.URL.Path
	switch {
	case len(r.URL.RawPath) > maxPathLen || len(p) > maxPathLen:
		return "The address is too long."
	case !utf8.ValidString(p) || strings.ContainsRune(p, 0):
		return "The address contains characters that are not allowed."
	case len(r.URL.RawQuery) > maxQueryLen:
		return "The query is too long."
	}
	if r.URL.RawQuery == "" {
		return ""
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "The query could not be read."
	}
	for k, vs := range q {
		if !utf8.ValidString(k) || strings.ContainsRune(k, 0) {
			return "The query contains characters that are not allowed."
		}
		for _, v := range vs {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return "The query contains characters that are not allowed."
			}
		}
	}
	return ""
}

// recoverer turns a panic into the generic error page; details go to the log only, with
// the request's ID.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", logPath(r), "panic", v)
				s.fail(w, r, helpportal.Errorf(helpportal.EINTERNAL, "panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
