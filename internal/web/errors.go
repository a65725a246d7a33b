package web

import (
	"errors"
	"net/http"
	"regexp"

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
	if statusOf(err) >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", logPath(r), "err", err)
	} else {
		s.log.Debug("request refused", "method", r.Method, "path", logPath(r), "code", helpportal.ErrorCode(err))
	}
}

// tokenSegment matches a one-time token in a path (43 base64url characters).
var tokenSegment = regexp.MustCompile(`/[A-Za-z0-9_-]{43}(/|$)`)

// logPath is the request path with any token in it blanked: reset, invitation and
// confirmation links carry their secret in the path.
func logPath(r *http.Request) string {
	return tokenSegment.ReplaceAllString(r.URL.Path, "/{token}$1")
}
