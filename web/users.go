package web

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/crmleads/crm"
)

// authenticate checks the bearer token of every secured operation and puts the
// acting user in the context. The user is checked against the database on
// every request (in the request's own first statement on PostgreSQL; see
// crm.UserService.ClaimActor), so a deactivated user's tokens stop working at
// once and a role change ends the tokens issued with the old role.
func authenticate(api huma.API, d Deps) func(huma.Context, func(huma.Context)) {
	return func(hctx huma.Context, next func(huma.Context)) {
		if len(hctx.Operation().Security) == 0 {
			next(hctx)
			return
		}
		ctx := hctx.Context()
		a, err := d.Tokens.BearerActor(ctx, d.Users, hctx.Header("Authorization"))
		if err != nil {
			if crm.IsKind(err, crm.EUNAUTHORIZED) {
				hctx.SetHeader("WWW-Authenticate", `Bearer realm="crmleads"`)
			}
			p := problemFrom(ctx, err) // a database outage here is a 503, not a 401
			for k, v := range p.GetHeaders() {
				hctx.SetHeader(k, v[0])
			}
			_ = huma.WriteErr(api, hctx, p.Status, "", p)
			return
		}
		next(huma.WithContext(hctx, crm.WithActor(ctx, a)))
	}
}

type loginInput struct {
	Body struct {
		Email    string `json:"email" maxLength:"200"`
		Password string `json:"password" maxLength:"200"`
	}
}

type loginResponse struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type" enum:"bearer"`
		ExpiresIn   int    `json:"expires_in" doc:"Seconds"`
	}
}

func handleLogin(d Deps) func(context.Context, *loginInput) (*loginResponse, error) {
	return func(ctx context.Context, in *loginInput) (*loginResponse, error) {
		u, err := d.Users.Authenticate(ctx, in.Body.Email, in.Body.Password)
		if err != nil {
			return nil, err
		}
		tok, err := d.Tokens.IssueUser(u)
		if err != nil {
			return nil, err
		}
		out := &loginResponse{CacheControl: "no-store"}
		out.Body.AccessToken, out.Body.TokenType, out.Body.ExpiresIn = tok, "bearer", int(d.Tokens.TTL().Seconds())
		return out, nil
	}
}

type userResponse struct{ Body User }

func userResult(u *crm.User, err error) (*userResponse, error) {
	if err != nil {
		return nil, err
	}
	return &userResponse{Body: userOut(u)}, nil
}

func handleMe(d Deps) func(context.Context, *struct{}) (*userResponse, error) {
	return func(ctx context.Context, _ *struct{}) (*userResponse, error) {
		return userResult(d.Users.Me(ctx))
	}
}

// handleLogoutAll ends every token of the signed-in user, the one it was
// called with included.
func handleLogoutAll(d Deps) func(context.Context, *struct{}) (*struct{}, error) {
	return func(ctx context.Context, _ *struct{}) (*struct{}, error) {
		if err := d.Users.EndSessions(ctx); err != nil {
			return nil, err
		}
		return &struct{}{}, nil
	}
}

type usersResponse struct{ Body []User }

func handleUserList(d Deps) func(context.Context, *struct{}) (*usersResponse, error) {
	return func(ctx context.Context, _ *struct{}) (*usersResponse, error) {
		us, err := d.Users.Users(ctx)
		if err != nil {
			return nil, err
		}
		out := &usersResponse{Body: make([]User, len(us))}
		for i, u := range us {
			out.Body[i] = userOut(u)
		}
		return out, nil
	}
}

type userCreateInput struct {
	Body struct {
		Email    string `json:"email" maxLength:"200"`
		Name     string `json:"name,omitempty" maxLength:"200"`
		Role     string `json:"role" enum:"manager,senior_manager,admin"`
		Password string `json:"password" minLength:"10" maxLength:"200"`
	}
}

func handleUserCreate(d Deps) func(context.Context, *userCreateInput) (*userResponse, error) {
	return func(ctx context.Context, in *userCreateInput) (*userResponse, error) {
		b := in.Body
		return userResult(d.Users.CreateUser(ctx, crm.UserInput{Email: b.Email, Name: b.Name,
			Role: crm.Role(b.Role), Password: b.Password}))
	}
}

type userUpdateInput struct {
	ID   string `path:"id"`
	Body struct {
		Name     *string `json:"name,omitempty" maxLength:"200"`
		Role     *string `json:"role,omitempty" enum:"manager,senior_manager,admin"`
		Active   *bool   `json:"active,omitempty"`
		Password *string `json:"password,omitempty" minLength:"10" maxLength:"200" doc:"Reset the password"`
	}
}

func handleUserUpdate(d Deps) func(context.Context, *userUpdateInput) (*userResponse, error) {
	return func(ctx context.Context, in *userUpdateInput) (*userResponse, error) {
		b := in.Body
		up := crm.UserUpdate{Name: b.Name, Active: b.Active, Password: b.Password}
		if b.Role != nil {
			r := crm.Role(*b.Role)
			up.Role = &r
		}
		return userResult(d.Users.UpdateUser(ctx, in.ID, up))
	}
}

type auditInput struct {
	ActorID string    `query:"actor_id"`
	Action  string    `query:"action" maxLength:"64" doc:"e.g. lead.transferred, lead.stage_changed, sale.stage_changed"`
	Since   time.Time `query:"since" doc:"Inclusive, RFC 3339"`
	Until   time.Time `query:"until" doc:"Exclusive, RFC 3339"`
	Limit   int       `query:"limit" minimum:"1" maximum:"500" default:"50"`
	Cursor  string    `query:"cursor"`
}

func handleAudit(d Deps) func(context.Context, *auditInput) (*eventsResponse, error) {
	return func(ctx context.Context, in *auditInput) (*eventsResponse, error) {
		events, next, err := d.Leads.Audit(ctx, crm.EventFilter{ActorID: in.ActorID, Action: in.Action,
			Since: in.Since, Until: in.Until, After: in.Cursor, Limit: in.Limit})
		out, err := eventsResult(events, err)
		if err != nil {
			return nil, err
		}
		q := url.Values{"actor_id": {in.ActorID}, "action": {in.Action}, "limit": {strconv.Itoa(in.Limit)}}
		if !in.Since.IsZero() {
			q.Set("since", in.Since.Format(time.RFC3339Nano))
		}
		if !in.Until.IsZero() {
			q.Set("until", in.Until.Format(time.RFC3339Nano))
		}
		out.Link = nextLink("/audit", q, next)
		return out, nil
	}
}
