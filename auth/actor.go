package auth

import (
	"context"
	"strings"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/request"
)

// Actor returns the acting user behind an access token. The user is checked
// against the database on every request, so a deactivated user's tokens stop
// working at once and a token of an older version (see
// crm.User.TokenVersion) is refused: read first (SQLite), or checked in the
// request's own first statement (PostgreSQL; crm.UserService.ClaimActor),
// where a role changed since the token was issued also ends it. The JSON API reads the
// token from the Authorization header (BearerActor), the pages from their
// session cookie. Errors: EUNAUTHORIZED, EUNAVAILABLE.
func (t *Tokens) Actor(ctx context.Context, users *crm.UserService, token string) (crm.Actor, error) {
	c, err := t.Claim(strings.TrimSpace(token))
	if err != nil {
		return crm.Actor{}, err
	}
	a, err := users.ClaimActor(ctx, c)
	if err != nil {
		return crm.Actor{}, err
	}
	request.NoteActor(ctx, a.UserID)
	a.RequestID = request.ID(ctx)
	return a, nil
}

// BearerActor is Actor for an Authorization header ("Bearer <token>").
func (t *Tokens) BearerActor(ctx context.Context, users *crm.UserService, header string) (crm.Actor, error) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return crm.Actor{}, crm.Errorf(crm.EUNAUTHORIZED, crm.CodeUnauthorized, "send Authorization: Bearer <token> (get one from POST /auth/login)")
	}
	return t.Actor(ctx, users, token)
}
