package helpportal

import (
	"errors"
	"fmt"
)

// Error codes: the one vocabulary for failures a user may see. The web package maps each
// code to one HTTP status (internal/web/errors.go); the CLI prints the message.
const (
	EINVALID      = "invalid"      // bad input: the message says what to fix
	ENOTFOUND     = "not_found"    // the thing asked for does not exist or is not visible
	ECONFLICT     = "conflict"     // a unique value is taken, or a state forbids the change
	EUNAUTHORIZED = "unauthorized" // sign-in needed
	EFORBIDDEN    = "forbidden"    // signed in, but not allowed
	ETOOLARGE     = "too_large"    // a body or value over its limit
	ETOOMANY      = "too_many"     // throttled
	EINTERNAL     = "internal"     // our fault; the message is never shown
	EUNAVAILABLE  = "unavailable"  // a dependency is down for now
)

// Error is an application error: Code picks the status, Message is safe to show a person.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("helpportal: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with a formatted, user-facing message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other
// error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err; internal errors get a generic one so
// details never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. Please try again in a moment."
}
