package auth

import (
	"context"
	"strings"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/request"
)

// Actor returns the acting user behind an access token. The user is read from
// the database on every call, so a deactivated user's tokens stop working at
// once, a token of an older version (see crm.User.TokenVersion) is refused,
// and a role change applies to the next request. The JSON API reads the
// token from the Authorization header (BearerActor), the pages from their
// session cookie. Errors: EUNAUTHORIZED, EUNAVAILABLE.
func (t *Tokens) Actor(ctx context.Context, users *crm.UserService, token string) (crm.Actor, error) {
	id, version, err := t.Verify(strings.TrimSpace(token))
	if err != nil {
		return crm.Actor{}, err
	}
	u, err := users.ActiveUser(ctx, id, version)
	if err != nil {
		return crm.Actor{}, err
	}
	request.NoteActor(ctx, u.ID)
	return crm.Actor{UserID: u.ID, Role: u.Role, RequestID: request.ID(ctx)}, nil
}

// BearerActor is Actor for an Authorization header ("Bearer <token>").
func (t *Tokens) BearerActor(ctx context.Context, users *crm.UserService, header string) (crm.Actor, error) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return crm.Actor{}, crm.Errorf(crm.EUNAUTHORIZED, crm.CodeUnauthorized, "send Authorization: Bearer <token> (get one from POST /auth/login)")
	}
	return t.Actor(ctx, users, token)
}
