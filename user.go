package crm

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a user may do.
type Role string

const (
	RoleManager       Role = "manager"
	RoleSeniorManager Role = "senior_manager"
	RoleAdmin         Role = "admin"
)

// Roles lists every role, least powerful first.
var Roles = []Role{RoleManager, RoleSeniorManager, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// SeesAll reports whether the role sees and works every lead and sale.
func (r Role) SeesAll() bool { return r == RoleSeniorManager || r == RoleAdmin }

// User is a person who signs in.
type User struct {
	ID           string
	Email        string // stored lower-case; unique
	Name         string
	Role         Role
	Active       bool
	PasswordHash string // never leaves the service
	// TokenVersion is carried in every access token issued to the user; a
	// token of another version is refused. Raising it (a password change or
	// reset, a deactivation, signing out) ends every token issued before.
	TokenVersion int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// LoginAttempt is one sign-in attempt at an email, recorded before its
// password is checked, so that parallel attempts count against the throttle
// while they run. A successful attempt is deleted; a failed one stays, marked
// Failed, until it is old enough to be pruned.
type LoginAttempt struct {
	ID     string
	Email  string // normalized
	Client string // the client address (ClientFrom), "" when unknown
	At     time.Time
	Failed bool // the check ended and failed; false while it runs
}

// UserInput creates a user.
type UserInput struct {
	Email    string
	Name     string
	Role     Role
	Password string
}

// UserUpdate is a partial edit of a user by an admin.
type UserUpdate struct {
	Name     *string
	Role     *Role
	Active   *bool
	Password *string
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// NormalizeEmail returns the canonical (trimmed, lower-case) form of an email.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func checkPassword(fe []FieldError, p string) []FieldError {
	if !ValidText(p) {
		return checkText(fe, "password", &p)
	}
	if n := utf8.RuneCountInString(p); n < MinPasswordLength || n > 200 {
		fe = append(fe, FieldError{Field: "password", Message: "must be 10 to 200 characters"})
	}
	return fe
}

// Validate checks a new user.
func (in *UserInput) Validate() error {
	var fe []FieldError
	fe = checkText(fe, "name", &in.Name)
	if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > MaxShortText {
		fe = append(fe, FieldError{Field: "email", Message: "must be an email address like name@example.com"})
	}
	if utf8.RuneCountInString(in.Name) > MaxShortText {
		fe = append(fe, FieldError{Field: "name", Message: "must be at most 200 characters"})
	}
	if !in.Role.Valid() {
		fe = append(fe, FieldError{Field: "role", Message: "must be one of manager, senior_manager, admin"})
	}
	fe = checkPassword(fe, in.Password)
	if fe != nil {
		return Invalid(fe...)
	}
	return nil
}

// Validate checks an edit of a user.
func (u *UserUpdate) Validate() error {
	var fe []FieldError
	fe = checkText(fe, "name", u.Name)
	if u.Name != nil && utf8.RuneCountInString(*u.Name) > MaxShortText {
		fe = append(fe, FieldError{Field: "name", Message: "must be at most 200 characters"})
	}
	if u.Role != nil && !u.Role.Valid() {
		fe = append(fe, FieldError{Field: "role", Message: "must be one of manager, senior_manager, admin"})
	}
	if u.Password != nil {
		fe = checkPassword(fe, *u.Password)
	}
	if fe != nil {
		return Invalid(fe...)
	}
	return nil
}

// Actor is who is acting in a request: a signed-in user, or the system (CLI,
// bootstrap) which has the rights of an admin and an empty ID.
type Actor struct {
	UserID    string
	Role      Role
	RequestID string
}

// System is the actor of the command line and of start-up work.
var System = Actor{Role: RoleAdmin}

type ctxKey int

const actorKey ctxKey = 1

// WithActor returns a context carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFrom returns the actor of ctx; ok is false when there is none.
func ActorFrom(ctx context.Context) (a Actor, ok bool) {
	a, ok = ctx.Value(actorKey).(Actor)
	return a, ok
}

// CanSeeOwner reports whether the actor may see a lead (or its sale) owned by ownerID.
func (a Actor) CanSeeOwner(ownerID string) bool {
	return a.Role.SeesAll() || (a.UserID != "" && a.UserID == ownerID)
}
