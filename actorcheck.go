package crm

import (
	"context"
	"sync"
)

// ActorClaim is what a verified access token says about its user: the id,
// the token version and the role it was issued with. Whether the user is
// still active, at that version and in that role is the database's to say.
type ActorClaim struct {
	UserID  string
	Version int
	Role    Role
}

// ActorChecker is implemented by a store that can check a claim in the same
// round trip as a request's own first statement (PostgreSQL: one more
// statement at the head of the pipeline). A request whose context holds a
// pending check (see WithActorCheck) then costs no round trip of its own for
// authentication: the store runs the check with its first statement, and
// none of that statement's effects survive a failed check. CheckActor runs
// the check alone, for a request that reached its answer without the
// database. Errors: EUNAUTHORIZED, EUNAVAILABLE.
type ActorChecker interface {
	CheckActor(ctx context.Context, c ActorClaim) error
}

// actorCheck is a request's deferred authentication: pending until a store
// statement (or Settle) has run it, then passed or failed for good.
type actorCheck struct {
	mu    sync.Mutex
	claim ActorClaim
	state int // checkNone, checkPending, checkPassed, checkFailed
	err   error
}

const (
	checkNone = iota
	checkPending
	checkPassed
	checkFailed
)

const actorCheckKey ctxKey = 2

// WithActorCheck gives a request's context room for a deferred
// authentication; the HTTP server does it for every request, so that the
// actor check can ride on the request's first statement and the server can
// settle it (SettleActorCheck) before it sends a successful answer.
func WithActorCheck(ctx context.Context) context.Context {
	return context.WithValue(ctx, actorCheckKey, &actorCheck{})
}

func checkFrom(ctx context.Context) *actorCheck {
	c, _ := ctx.Value(actorCheckKey).(*actorCheck)
	return c
}

// PendingActorCheck returns the claim a store must check with its next
// statement, and settle, to be called with the check's result: nil (passed),
// an EUNAUTHORIZED error (failed, for every later statement too) or another
// error (still pending: a lost connection says nothing about the user).
// ok is false when no check is pending. failed is the error of a check that
// already failed: the store must then run nothing.
func PendingActorCheck(ctx context.Context) (claim ActorClaim, settle func(error), ok bool, failed error) {
	c := checkFrom(ctx)
	if c == nil {
		return ActorClaim{}, nil, false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.state {
	case checkPending:
		return c.claim, c.settle, true, nil
	case checkFailed:
		return ActorClaim{}, nil, false, c.err
	}
	return ActorClaim{}, nil, false, nil
}

func (c *actorCheck) settle(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != checkPending {
		return
	}
	switch {
	case err == nil:
		c.state = checkPassed
	case IsKind(err, EUNAUTHORIZED):
		c.state, c.err = checkFailed, err
	}
}

// defer records claim as the request's pending check; false when the
// context has no room for one.
func deferActorCheck(ctx context.Context, claim ActorClaim) bool {
	c := checkFrom(ctx)
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.claim, c.state, c.err = claim, checkPending, nil
	return true
}

// Errors of a failed actor check, alike from the folded and the plain one.

// Inactive is the error for a token of a user who is gone or deactivated.
func Inactive() error { return Errorf(EUNAUTHORIZED, CodeUnauthorized, "the account is not active") }

// TokenEnded is the error for a token of an older token version.
func TokenEnded() error {
	return Errorf(EUNAUTHORIZED, CodeUnauthorized, "the token has been ended (signed out, or the password changed); sign in again")
}

// RoleChanged is the error for a token issued with a role the user no
// longer has (only where the role rides in the token: see ClaimActor).
func RoleChanged() error {
	return Errorf(EUNAUTHORIZED, CodeUnauthorized, "your role has changed since you signed in; sign in again")
}

// ClaimActor returns the actor behind a verified token's claim. When the
// store folds the check into the request's own statements (ActorChecker) and
// the context has room (WithActorCheck), the check is deferred to the
// request's first statement and the role is the token's: a deactivated
// user's, an ended token's or a changed role's request still fails (401)
// before any effect of it is committed. Otherwise the user is read now, as
// ActiveUser does, and the role is the database's. A claim without a role
// (a token issued before roles were carried) is always read now.
// Errors: EUNAUTHORIZED, EUNAVAILABLE.
func (s *UserService) ClaimActor(ctx context.Context, c ActorClaim) (Actor, error) {
	if !ValidID(c.UserID) {
		return Actor{}, Errorf(EUNAUTHORIZED, CodeUnauthorized, "the token is not valid")
	}
	if _, folds := s.store.(ActorChecker); folds && c.Role.Valid() && deferActorCheck(ctx, c) {
		return Actor{UserID: c.UserID, Role: c.Role}, nil
	}
	u, err := s.ActiveUser(ctx, c.UserID, c.Version)
	if err != nil {
		return Actor{}, err
	}
	if c.Role != "" && c.Role != u.Role {
		return Actor{}, RoleChanged()
	}
	return Actor{UserID: u.ID, Role: u.Role}, nil
}

// SettleActorCheck runs the request's pending actor check, if there is one,
// on its own: the server calls it before a successful answer of a request
// that never reached the database. Errors: EUNAUTHORIZED, EUNAVAILABLE.
func (s *UserService) SettleActorCheck(ctx context.Context) error {
	claim, settle, pending, failed := PendingActorCheck(ctx)
	if failed != nil {
		return failed
	}
	if !pending {
		return nil
	}
	ch, ok := s.store.(ActorChecker)
	if !ok {
		return nil
	}
	err := ch.CheckActor(ctx, claim)
	settle(err)
	return err
}
