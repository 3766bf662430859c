package ui

import (
	"net/http"
	"slices"

	"github.com/crmleads/crm"
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
		if tok, err = a.deps.Tokens.Issue(u.ID); err == nil {
			http.SetCookie(w, a.cookie(r, sessionCookie, tok, int(a.deps.Tokens.TTL().Seconds())))
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
		a.log.Error("sign in", "error", err)
	}
	v.Title = v.L.T("login.title")
	v.Data = loginData{Email: email, Next: next, Error: msg}
	status := http.StatusUnauthorized
	if crm.ErrorKind(err) == crm.ETOOMANY {
		status = http.StatusTooManyRequests
	}
	a.render(w, r, v, "login", status)
}

// logout forgets the session in this browser. The token itself stays valid
// until it expires (tokens are stateless), but no page holds it any more.
func (a *App) logout(w http.ResponseWriter, r *http.Request, v *view) {
	a.clearCookie(w, r, sessionCookie)
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
