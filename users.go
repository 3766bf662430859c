package crm

import (
	"context"
	"time"
)

// Sign-in throttling, two limits kept in the database so they hold across
// replicas, and never a server-side sleep: a refused attempt is answered at
// once with ETOOMANY and the wait in RetryAfter.
//
// Per email: after MaxLoginFailures attempts in a row (each within
// LoginWindow of the next), the email is locked for FirstLockout after the
// last one, and each further failure doubles the lock, up to LoginWindow.
// Nothing is compared while it is locked, so a lockout costs an attacker as
// much as it costs the owner, who waits 30 s after the first lockout.
//
// Per client address: more than MaxClientFailures attempts from one client
// within LoginWindow are refused, whatever the email, so spraying passwords
// across accounts is slowed too. Successful sign-ins do not count.
const (
	MaxLoginFailures  = 5
	FirstLockout      = 30 * time.Second
	LoginWindow       = 15 * time.Minute
	MaxClientFailures = 20
)

// loginLookback is how far back the per-email streak is read: the store
// keeps attempts for a day.
const loginLookback = 24 * time.Hour

// EmailLockout returns how long an email with the given attempts (oldest
// first) is still locked at now; zero or less means an attempt may be made.
// The streak is the newest attempts each within LoginWindow of the next (and
// the newest within LoginWindow of now); a streak of MaxLoginFailures locks
// for FirstLockout after its last attempt, each further one doubles it, up to
// LoginWindow.
func EmailLockout(past []*LoginAttempt, now time.Time) time.Duration {
	n, last := 0, now
	for i := len(past) - 1; i >= 0; i-- {
		if last.Sub(past[i].At) > LoginWindow {
			break
		}
		n, last = n+1, past[i].At
	}
	if n < MaxLoginFailures {
		return 0
	}
	lock := LoginWindow
	if k := n - MaxLoginFailures; k < 10 { // 30 s << 5 already exceeds the window
		lock = min(FirstLockout<<k, LoginWindow)
	}
	return past[len(past)-1].At.Add(lock).Sub(now)
}

type clientKey struct{}

// WithClient returns ctx carrying the address of the client making the
// request, as the web layer determined it (the peer, or the address a
// trusted proxy forwarded); the sign-in limit counts attempts per client.
func WithClient(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientKey{}, addr)
}

// ClientFrom returns the client address of ctx, "" when there is none (the
// command line, tests).
func ClientFrom(ctx context.Context) string {
	s, _ := ctx.Value(clientKey{}).(string)
	return s
}

func requireAdmin(ctx context.Context) (Actor, error) {
	a, err := actor(ctx)
	if err != nil {
		return a, err
	}
	if a.Role != RoleAdmin {
		return a, Errorf(EFORBIDDEN, CodeForbidden, "only an admin can do this")
	}
	return a, nil
}

// CreateUser adds a user. Errors: EFORBIDDEN (not an admin), EINVALID,
// ECONFLICT (CodeEmailTaken).
func (s *UserService) CreateUser(ctx context.Context, in UserInput) (*User, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	in.Email = NormalizeEmail(in.Email)
	if err := in.Validate(); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	now := s.timestamp()
	u := &User{ID: NewID(), Email: in.Email, Name: in.Name, Role: in.Role, Active: true, PasswordHash: hash,
		CreatedAt: now, UpdatedAt: now}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		e := s.event(a, ActionUserCreated, nil)
		e.UserID, e.To = u.ID, string(u.Role)
		e.Data = map[string]any{"email": u.Email}
		return tx.InsertEvent(ctx, e)
	})
	if err != nil {
		return nil, err
	}
	return withoutHash(u), nil
}

// Users lists every user. Errors: EFORBIDDEN (not an admin).
func (s *UserService) Users(ctx context.Context) ([]*User, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	return withoutHashes(s.store.Users(ctx))
}

// Me returns the acting user. Errors: EUNAUTHORIZED, ENOTFOUND.
func (s *UserService) Me(ctx context.Context) (*User, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.UserID == "" {
		return nil, NotFound("user")
	}
	u, err := s.store.User(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	return withoutHash(u), nil
}

// UpdateUser changes a user's name, role, active flag or password. The last
// active admin can be neither demoted nor deactivated: the active admins are
// counted under lock, so two admins demoting each other at once cannot both win.
// Errors: EFORBIDDEN, ENOTFOUND, EINVALID, ECONFLICT (CodeLastAdmin).
func (s *UserService) UpdateUser(ctx context.Context, id string, up UserUpdate) (*User, error) {
	a, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	id = NormalizeID(id)
	if !ValidID(id) {
		return nil, NotFound("user")
	}
	if err := up.Validate(); err != nil {
		return nil, err
	}
	var hash string
	if up.Password != nil {
		if hash, err = s.hasher.Hash(*up.Password); err != nil {
			return nil, err
		}
	}
	var out *User
	err = s.store.InTx(ctx, func(tx Tx) error {
		u, err := tx.LockUser(ctx, id)
		if err != nil {
			return err
		}
		changes := map[string]any{}
		wasAdmin := u.Role == RoleAdmin && u.Active
		if up.Name != nil && *up.Name != u.Name {
			changes["name"] = map[string]any{"from": u.Name, "to": *up.Name}
			u.Name = *up.Name
		}
		if up.Role != nil && *up.Role != u.Role {
			changes["role"] = map[string]any{"from": string(u.Role), "to": string(*up.Role)}
			u.Role = *up.Role
		}
		if up.Active != nil && *up.Active != u.Active {
			changes["active"] = map[string]any{"from": u.Active, "to": *up.Active}
			u.Active = *up.Active
		}
		if hash != "" {
			changes["password"] = "reset"
			u.PasswordHash = hash
		}
		// A new password, or a deactivation, ends every token issued before
		// (a deactivated user's tokens would otherwise revive on reactivation).
		if hash != "" || (up.Active != nil && !*up.Active && changes["active"] != nil) {
			u.TokenVersion++
		}
		if len(changes) == 0 {
			out = u
			return nil
		}
		if wasAdmin && !(u.Role == RoleAdmin && u.Active) {
			n, err := tx.CountActiveAdmins(ctx)
			if err != nil {
				return err
			}
			if n <= 1 {
				return Errorf(ECONFLICT, CodeLastAdmin, "this is the last active admin; make another admin first")
			}
		}
		u.UpdatedAt = s.timestamp()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		e := s.event(a, ActionUserUpdated, nil)
		e.UserID = u.ID
		e.Data = map[string]any{"changes": changes}
		out = u
		return tx.InsertEvent(ctx, e)
	})
	if err != nil {
		return nil, err
	}
	return withoutHash(out), nil
}

// Authenticate checks an email and password and returns the active user.
// Unknown email, wrong password and deactivated user give the same
// EUNAUTHORIZED; too many recent attempts give ETOOMANY with RetryAfter.
//
// The attempt is recorded, under the email's lock, before the password is
// checked: a burst of parallel guesses is counted as it arrives, so at most
// MaxLoginFailures of them reach the (slow) hash comparison. A success
// deletes its own record and forgives the failures that had ended when it
// began; attempts still running then keep counting.
func (s *UserService) Authenticate(ctx context.Context, email, password string) (*User, error) {
	email = NormalizeEmail(email)
	if fe := checkText(nil, "email", &email); fe != nil {
		return nil, Invalid(fe...)
	}
	if fe := checkText(nil, "password", &password); fe != nil {
		return nil, Invalid(fe...)
	}
	attempt, forgiven, err := s.beginAttempt(ctx, email)
	if err != nil {
		return nil, err
	}
	// The outcome is recorded even when the client has gone: a cancelled
	// guess still counts, and a success must not be left counting.
	done := context.WithoutCancel(ctx)
	bad := Errorf(EUNAUTHORIZED, CodeUnauthorized, "wrong email or password")
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && !IsKind(err, ENOTFOUND) {
		_ = s.store.DeleteLoginAttempts(done, []string{attempt.ID}) // no password was checked
		return nil, err
	}
	if u == nil {
		_ = s.hasher.Compare(s.dummyHash(), password)
		return nil, bad.withCause(s.store.FailLoginAttempt(done, attempt.ID))
	}
	if s.hasher.Compare(u.PasswordHash, password) != nil || !u.Active {
		return nil, bad.withCause(s.store.FailLoginAttempt(done, attempt.ID))
	}
	if err := s.store.DeleteLoginAttempts(done, append(forgiven, attempt.ID)); err != nil {
		return nil, err
	}
	return withoutHash(u), nil
}

// beginAttempt records an attempt at email's password before it is checked,
// refused with ETOOMANY while the email or the client is locked. It returns
// the attempt and the earlier failures a success forgives.
func (s *UserService) beginAttempt(ctx context.Context, email string) (*LoginAttempt, []string, error) {
	now := s.timestamp()
	client := ClientFrom(ctx)
	attempt := &LoginAttempt{ID: NewID(), Email: email, Client: client, At: now}
	var forgiven []string
	err := s.store.InTx(ctx, func(tx Tx) error {
		// The email's lock first, then the client's: every transaction takes
		// them in this order, so two cannot wait on each other.
		past, err := tx.LockLoginAttempts(ctx, email, now.Add(-loginLookback))
		if err != nil {
			return err
		}
		if wait := EmailLockout(past, now); wait > 0 {
			return &Error{Kind: ETOOMANY, Code: CodeTooManyAttempts, RetryAfter: max(wait, time.Second),
				Message: "too many failed sign-ins for this email; try again later"}
		}
		if client != "" {
			recent, err := tx.LockClientAttempts(ctx, client, now.Add(-LoginWindow))
			if err != nil {
				return err
			}
			if n := len(recent); n >= MaxClientFailures {
				// A place frees when the oldest attempt that keeps the count
				// at the limit leaves the window.
				wait := recent[n-MaxClientFailures].At.Add(LoginWindow).Sub(now)
				return &Error{Kind: ETOOMANY, Code: CodeTooManyAttempts, RetryAfter: max(wait, time.Second),
					Message: "too many failed sign-ins from this address; try again later"}
			}
		}
		for _, p := range past {
			if p.Failed {
				forgiven = append(forgiven, p.ID)
			}
		}
		return tx.InsertLoginAttempt(ctx, attempt)
	})
	if err != nil {
		return nil, nil, err
	}
	return attempt, forgiven, nil
}

func (e *Error) withCause(cause error) *Error {
	e.Cause = cause
	return e
}

// ActiveUser returns the user behind a token of the given token version, who
// must still exist and be active, and whose version must still be that one:
// a deactivated user's tokens stop working at once, and so do the tokens
// issued before a password change, a deactivation or a sign-out.
// Errors: EUNAUTHORIZED.
func (s *UserService) ActiveUser(ctx context.Context, id string, version int) (*User, error) {
	if !ValidID(id) {
		return nil, Errorf(EUNAUTHORIZED, CodeUnauthorized, "the token is not valid")
	}
	u, err := s.store.User(ctx, id)
	if IsKind(err, ENOTFOUND) || (err == nil && !u.Active) {
		return nil, Inactive()
	}
	if err != nil {
		return nil, err
	}
	if u.TokenVersion != version {
		return nil, TokenEnded()
	}
	return withoutHash(u), nil
}

// EndSessions ends every token of the acting user ("sign out everywhere"),
// the one this request came with included, by raising the user's token
// version. Errors: EUNAUTHORIZED, ENOTFOUND (the system actor).
func (s *UserService) EndSessions(ctx context.Context) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if a.UserID == "" {
		return NotFound("user")
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		u, err := tx.LockUser(ctx, a.UserID)
		if err != nil {
			return err
		}
		u.TokenVersion++
		u.UpdatedAt = s.timestamp()
		return tx.UpdateUser(ctx, u)
	})
}

// Bootstrap creates the first admin on an empty database and reports whether
// it did. Two replicas starting at once cannot both create one: the email is unique.
func (s *UserService) Bootstrap(ctx context.Context, email, password string) (bool, error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	_, err = s.CreateUser(WithActor(ctx, System), UserInput{Email: email, Name: "Administrator", Role: RoleAdmin, Password: password})
	if IsKind(err, ECONFLICT) {
		return false, nil
	}
	return err == nil, err
}

// Colleagues lists every user for senior managers and admins, who assign
// leads to them and read their names in lists. Errors: EFORBIDDEN for managers.
func (s *UserService) Colleagues(ctx context.Context) ([]*User, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.Role.SeesAll() {
		return nil, Errorf(EFORBIDDEN, CodeForbidden, "only senior managers and admins see the team")
	}
	return withoutHashes(s.store.Users(ctx))
}

// SetPassword replaces the password of the user with the given email, as an
// admin's reset does (UpdateUser): the command line's way back in when the
// first admin's printed password is lost. Errors: EFORBIDDEN, ENOTFOUND,
// EINVALID.
func (s *UserService) SetPassword(ctx context.Context, email, password string) (*User, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	u, err := s.store.UserByEmail(ctx, NormalizeEmail(email))
	if err != nil {
		return nil, err
	}
	return s.UpdateUser(ctx, u.ID, UserUpdate{Password: &password})
}

// withoutHash returns a copy of u without its password hash: no hash leaves
// the user service, whatever its caller renders.
func withoutHash(u *User) *User {
	if u == nil {
		return nil
	}
	c := *u
	c.PasswordHash = ""
	return &c
}

func withoutHashes(us []*User, err error) ([]*User, error) {
	if err != nil {
		return nil, err
	}
	out := make([]*User, len(us))
	for i, u := range us {
		out[i] = withoutHash(u)
	}
	return out, nil
}
