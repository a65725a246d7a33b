package helpportal

import (
	"strings"
	"time"
	"unicode/utf8"
)

// UserStatus is where an account is in its life.
type UserStatus string

const (
	UserInvited  UserStatus = "invited"  // has no password yet
	UserActive   UserStatus = "active"   // may sign in
	UserDisabled UserStatus = "disabled" // may not sign in; sessions are gone
)

// User is an account: a client, or staff (editor, admin).
type User struct {
	ID           int64
	Email        string // normalised: trimmed, lower case
	Name         string
	Role         Role
	Status       UserStatus
	PasswordHash string // argon2id in PHC format; empty while invited
	CreatedAt    time.Time
	LastLoginAt  time.Time
}

// Viewer is what the user may see.
func (u *User) Viewer() Viewer { return Viewer{UserID: u.ID, Role: u.Role} }

// ValidRole reports whether r is a role a user can have.
func ValidRole(r Role) bool { return r == RoleClient || r == RoleEditor || r == RoleAdmin }

// ValidateName checks a display name.
func ValidateName(name string) (string, error) {
	name = strings.Join(strings.Fields(name), " ")
	switch {
	case name == "":
		return "", Errorf(EINVALID, "Enter your name.")
	case utf8.RuneCountInString(name) > 100:
		return "", Errorf(EINVALID, "The name is longer than 100 characters.")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 32 || r == 127 }):
		return "", Errorf(EINVALID, "The name contains control characters.")
	}
	return name, nil
}

// Session is a signed-in browser. Only the SHA-256 of its token is stored.
type Session struct {
	ID         int64
	UserID     int64
	TokenHash  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	IdleUntil  time.Time // ends when idle this long
	ExpiresAt  time.Time // ends at this time whatever happens
	Remember   bool
	IP         string
	UserAgent  string
}

// Token purposes.
const (
	TokenInvite = "invite" // first password of an invited account
	TokenSetup  = "setup"  // first admin of a new portal: also sets email and name
	TokenReset  = "reset"  // forgotten password
	TokenEmail  = "email"  // confirm a new email address; Data holds it
)

// Event is one line of an account's security activity.
type Event struct {
	ID        int64
	UserID    int64
	Kind      string // see the Event* constants
	IP        string
	UserAgent string
	At        time.Time
}

// Security event kinds.
const (
	EventSignIn          = "sign_in"
	EventSignInFailed    = "sign_in_failed"
	EventSignOut         = "sign_out"
	EventPasswordChanged = "password_changed"
	EventPasswordSet     = "password_set"
	EventResetRequested  = "reset_requested"
	EventPasswordReset   = "password_reset"
	EventSessionRevoked  = "session_revoked"
	EventOthersRevoked   = "sessions_revoked"
	EventEmailChanged    = "email_changed"
	EventEmailRequested  = "email_change_requested"
	EventNameChanged     = "name_changed"
)

// EventLabel is how the security activity list names an event.
func EventLabel(kind string) string {
	switch kind {
	case EventSignIn:
		return "Signed in"
	case EventSignInFailed:
		return "Failed sign-in attempt"
	case EventSignOut:
		return "Signed out"
	case EventPasswordChanged:
		return "Password changed"
	case EventPasswordSet:
		return "Password created"
	case EventResetRequested:
		return "Password reset requested"
	case EventPasswordReset:
		return "Password reset"
	case EventSessionRevoked:
		return "Session signed out"
	case EventOthersRevoked:
		return "All other sessions signed out"
	case EventEmailChanged:
		return "Email address changed"
	case EventEmailRequested:
		return "Email change requested"
	case EventNameChanged:
		return "Name changed"
	}
	return kind
}

// OutgoingMail is a message to queue in the same transaction as the change that caused it.
type OutgoingMail struct {
	To        string
	Subject   string
	Text      string
	HTML      string
	MessageID string
}
