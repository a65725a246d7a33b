package helpportal

// Role is what a user may do.
type Role string

const (
	RoleAnonymous Role = ""
	RoleClient    Role = "client"
	RoleEditor    Role = "editor"
	RoleAdmin     Role = "admin"
)

// Viewer is who is reading: it decides which articles are visible.
type Viewer struct {
	UserID int64
	Role   Role
}

// Anonymous is a visitor who has not signed in.
var Anonymous = Viewer{}

// IsStaff reports whether the viewer writes content (editor or admin).
func (v Viewer) IsStaff() bool { return v.Role == RoleEditor || v.Role == RoleAdmin }

// Visibilities lists the article visibilities the viewer may read.
func (v Viewer) Visibilities() []Visibility {
	switch {
	case v.IsStaff():
		return []Visibility{VisibilityPublic, VisibilityClients, VisibilityStaff}
	case v.Role == RoleClient:
		return []Visibility{VisibilityPublic, VisibilityClients}
	}
	return []Visibility{VisibilityPublic}
}

// SeesDrafts reports whether drafts are visible to the viewer.
func (v Viewer) SeesDrafts() bool { return v.IsStaff() }

// CanRead reports whether the viewer may read a.
func (v Viewer) CanRead(a *Article) bool {
	if a.Status != StatusPublished && !v.SeesDrafts() {
		return false
	}
	for _, vis := range v.Visibilities() {
		if a.Visibility == vis {
			return true
		}
	}
	return false
}
