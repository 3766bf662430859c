package ui

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/request"
)

type loginData struct {
	Email string
	Next  string
	Error string
}

func (a *App) loginPage(w http.ResponseWriter, r *http.Request, v *view) {
	v.Title = v.L.T("login.title")
	next := r.URL.Query().Get("next")
	if !localPath(next) {
		next = ""
	}
	v.Data = loginData{Next: next}
	a.render(w, r, v, "login", http.StatusOK)
}

// loginSubmit checks the password with the service and puts a fresh access
// token in the session cookie; it lives as long as the token.
func (a *App) loginSubmit(w http.ResponseWriter, r *http.Request, v *view) {
	email, next := r.PostFormValue("email"), r.PostFormValue("next")
	if !localPath(next) {
		next = "/app/leads"
	}
	u, err := a.deps.Users.Authenticate(r.Context(), email, r.PostFormValue("password"))
	if err == nil {
		var tok string
		if tok, err = a.deps.Tokens.IssueUser(u); err == nil {
			http.SetCookie(w, a.cookie(r, sessionCookie, tok, int(a.deps.Tokens.TTL().Seconds())))
			a.newCSRF(w, r)
			a.redirect(w, r, next, nil)
			return
		}
	}
	msg := a.explain(v.L, err)
	switch crm.ErrorKind(err) {
	case crm.EUNAUTHORIZED:
		msg = v.L.T("login.wrong")
	case crm.ETOOMANY:
		msg = v.L.T("login.too_many")
	case crm.EINTERNAL:
		a.logInternal(r, "sign in", err)
	}
	v.Title = v.L.T("login.title")
	v.Data = loginData{Email: email, Next: next, Error: msg}
	// The status of the error's kind, as the API's (an outage is not a 401).
	status := request.Status(err)
	var e *crm.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	a.render(w, r, v, "login", status)
}

// logout signs out everywhere: it ends every token of the user (tokens are
// stateless, so ending this one alone would need a list of ended tokens read
// on every request) and forgets the session in this browser. A session that
// is already over just forgets the cookie.
func (a *App) logout(w http.ResponseWriter, r *http.Request, v *view) {
	a.clearCookie(w, r, sessionCookie)
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		ctx := r.Context()
		actor, err := a.deps.Tokens.Actor(ctx, a.deps.Users, c.Value)
		if err == nil {
			err = a.deps.Users.EndSessions(crm.WithActor(ctx, actor))
		}
		if err != nil && !crm.IsKind(err, crm.EUNAUTHORIZED) {
			a.fail(w, r, v, err)
			return
		}
	}
	a.redirect(w, r, "/app/login", ok(v.L.T("login.signed_out")))
}

// setLanguage keeps the chosen language in a cookie for a year and goes back
// to the page the switch was on.
func (a *App) setLanguage(w http.ResponseWriter, r *http.Request, v *view) {
	lang := r.PostFormValue("lang")
	if !slices.Contains(Languages, lang) {
		lang = Languages[0]
	}
	c := a.cookie(r, langCookie, lang, 365*24*3600)
	c.HttpOnly = false // harmless to read from a script; nothing secret
	http.SetCookie(w, c)
	next := r.PostFormValue("next")
	if !localPath(next) {
		next = "/app/"
	}
	a.redirect(w, r, next, nil)
}
