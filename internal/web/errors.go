package web

import (
	"errors"
	"net/http"
	"time"

	"helpportal"
)

// statusOf is the only map from error codes to HTTP statuses.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	switch helpportal.ErrorCode(err) {
	case helpportal.EINVALID:
		return http.StatusBadRequest
	case helpportal.ENOTFOUND:
		return http.StatusNotFound
	case helpportal.ECONFLICT:
		return http.StatusConflict
	case helpportal.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case helpportal.EFORBIDDEN:
		return http.StatusForbidden
	case helpportal.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case helpportal.ETOOMANY:
		return http.StatusTooManyRequests
	case helpportal.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// messageOf is what a person sees; internal errors never show their details.
func messageOf(err error) string {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return "The request is too large."
	}
	return helpportal.ErrorMessage(err)
}

// codeOf is the API's error code string.
func codeOf(err error) string {
	switch statusOf(err) {
	case http.StatusRequestEntityTooLarge:
		return helpportal.ETOOLARGE
	}
	return helpportal.ErrorCode(err)
}

// logError logs server-side failures; client errors are not worth a log line each.
func (s *Server) logError(r *http.Request, err error) {
	if helpportal.ErrorCode(err) == helpportal.EUNAVAILABLE && !s.unavailableLogDue() {
		return // the request's own line says 503
	}
	if statusOf(err) >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", logPath(r), "err", err)
	} else {
		s.log.DebugContext(r.Context(), "request refused", "method", r.Method, "path", logPath(r), "code", helpportal.ErrorCode(err))
	}
}

// unavailableEvery is how often an outage's errors are logged: the first, then one per this.
const unavailableEvery = 10 * time.Second

// unavailableLogDue reports whether unavailableEvery has passed since an "unavailable"
// error was last logged, and if so claims this one.
func (s *Server) unavailableLogDue() bool {
	now := s.now().UnixNano()
	prev := s.unavailableLogged.Load()
	return now-prev >= int64(unavailableEvery) && s.unavailableLogged.CompareAndSwap(prev, now)
}

// logPath is the request path with any token in it redacted (redactPath): reset,
// invitation and confirmation links carry their secret in the path.
func logPath(r *http.Request) string {
	route := r.Pattern
	if l := reqLogOf(r.Context()); route == "" && l != nil {
		route = l.route
	}
	return redactPath(route, r.URL.Path)
}
