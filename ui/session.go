package ui

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/request"
)

var timeZero time.Time

// Cookies of the web app. The session holds an access token from auth.Tokens,
// the same kind the API takes as a bearer token; the CSRF cookie holds a random
// value every form repeats in a hidden field (double submit).
const (
	sessionCookie = "crm_session"
	csrfCookie    = "crm_csrf"
	flashCookie   = "crm_flash"
	csrfField     = "csrf"
	maxFormBytes  = 64 << 10
)

// view is what every page template receives, plus the page's own data.
type view struct {
	L       *Locale
	CSRF    string
	Path    string // the request URI, for the language switch to come back to
	User    *crm.User
	Actor   crm.Actor
	Flash   *flash
	Title   string
	Nav     string
	Data    any
	Status  int
	Message string // the error page's explanation
	Counts  navCounts
}

// IsAdmin decides whether the Admin link shows; the service decides access.
func (v *view) IsAdmin() bool { return v.User != nil && v.User.Role == crm.RoleAdmin }

// SeesAll decides whether the Audit link shows (senior managers and admins).
func (v *view) SeesAll() bool { return v.User != nil && v.User.Role.SeesAll() }

type flash struct {
	Kind string `json:"k"` // ok | error
	Text string `json:"t"`
}

type handler func(w http.ResponseWriter, r *http.Request, v *view)

func (a *App) newView(w http.ResponseWriter, r *http.Request) *view {
	v := &view{L: a.locales[negotiate(r)], Path: r.URL.RequestURI()}
	v.CSRF = a.csrfToken(w, r)
	if c, err := r.Cookie(flashCookie); err == nil {
		a.clearCookie(w, r, flashCookie)
		if b, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			var f flash
			if json.Unmarshal(b, &f) == nil && f.Text != "" {
				v.Flash = &f
			}
		}
	}
	return v
}

// page serves a GET: pages are never cached, as they show private data.
func (a *App) page(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h(w, r, a.newView(w, r))
	}
}

// form serves a POST from one of our forms: it must come from our own origin
// (Sec-Fetch-Site/Origin) and repeat the CSRF cookie in its csrf field, or it
// gets a friendly 403 page and changes nothing.
func (a *App) form(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		v := a.newView(w, r)
		if err := r.ParseForm(); err != nil {
			v.Message = v.L.T("error.bad_form")
			a.renderError(w, r, v, http.StatusBadRequest)
			return
		}
		if a.xorigin.Check(r) != nil || !a.csrfValid(r) {
			v.Message = v.L.T("error.csrf")
			a.renderError(w, r, v, http.StatusForbidden)
			return
		}
		h(w, r, v)
	}
}

// signedIn resolves the session cookie to the acting user (who must still be
// active) and puts the actor in the context the service reads; without a valid
// session it sends the user to the sign-in page and back afterwards.
func (a *App) signedIn(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, v *view) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" {
			a.toLogin(w, r)
			return
		}
		ctx := r.Context()
		actor, err := a.deps.Tokens.Actor(ctx, a.deps.Users, c.Value)
		if err != nil {
			if crm.IsKind(err, crm.EUNAUTHORIZED) {
				a.clearCookie(w, r, sessionCookie)
				a.toLogin(w, r)
				return
			}
			a.fail(w, r, v, err)
			return
		}
		ctx = crm.WithActor(ctx, actor)
		r = r.WithContext(ctx)
		u, err := a.deps.Users.Me(ctx)
		if err != nil {
			a.fail(w, r, v, err)
			return
		}
		v.User, v.Actor = u, actor
		if r.Method == http.MethodGet {
			v.Counts = a.counts(r)
		}
		h(w, r, v)
	}
}

func (a *App) toLogin(w http.ResponseWriter, r *http.Request) {
	next := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		next = r.Header.Get("Referer")
		if u, err := url.Parse(next); err == nil {
			next = u.RequestURI()
		}
	}
	target := "/app/login"
	if localPath(next) && next != "/app/" {
		target += "?next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// localPath reports whether p is a path of the web app, safe to redirect to
// (no scheme, no host, no //evil.example).
func localPath(p string) bool {
	return strings.HasPrefix(p, "/app/") && !strings.HasPrefix(p, "//") && !strings.ContainsAny(p, "\\\r\n")
}

func (a *App) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: r.TLS != nil || request.HTTPS(r.Context()), SameSite: http.SameSiteLaxMode}
}

func (a *App) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, a.cookie(r, name, "", -1))
}

// csrfToken returns the request's CSRF token, setting the cookie when the
// browser has none yet.
func (a *App) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	return a.newCSRF(w, r)
}

// newCSRF sets a fresh CSRF cookie. Sign-in calls it too: a token planted
// before sign-in (by someone who could set a cookie for the site) stops
// working once the victim signs in.
func (a *App) newCSRF(w http.ResponseWriter, r *http.Request) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, a.cookie(r, csrfCookie, tok, 0))
	// The same request may render a form: let it see the new token.
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
	return tok
}

func (a *App) csrfValid(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(csrfField))) == 1
}

// redirect ends a POST: post/redirect/get, with an optional flash message.
func (a *App) redirect(w http.ResponseWriter, r *http.Request, to string, f *flash) {
	a.setFlash(w, r, f)
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// setFlash leaves a message for the next page the browser shows.
func (a *App) setFlash(w http.ResponseWriter, r *http.Request, f *flash) {
	if f != nil {
		b, _ := json.Marshal(f)
		http.SetCookie(w, a.cookie(r, flashCookie, base64.RawURLEncoding.EncodeToString(b), 60))
	}
}

func ok(text string) *flash  { return &flash{Kind: "ok", Text: text} }
func bad(text string) *flash { return &flash{Kind: "error", Text: text} }

// render writes a page; a template error is logged and becomes the error page
// (templates are checked at start, so this is a bug in the data).
func (a *App) render(w http.ResponseWriter, r *http.Request, v *view, name string, status int) {
	var buf bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		a.log.Error("render", "page", name, "error", err, "request_id", request.ID(r.Context()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderError shows the friendly page for a status (403, 404, 400, 500…).
func (a *App) renderError(w http.ResponseWriter, r *http.Request, v *view, status int) {
	v.Status = status
	v.Title = v.L.T("error.title." + statusKey(status))
	if v.Message == "" {
		v.Message = v.L.T("error.text." + statusKey(status))
	}
	a.render(w, r, v, "error", status)
}

func statusKey(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict,
		http.StatusUnprocessableEntity, http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable:
		return strconv.Itoa(status)
	}
	return "500"
}

// fail turns an error from the service into a friendly page: not found and
// forbidden get their pages, a lost session goes to sign-in, anything else is
// explained in the user's language (internal causes go to the log only).
// logInternal logs an internal error at ERROR, unless the client has gone:
// then the failure is the cancelled context's, the access log notes it (as
// 499) and no alert should fire.
func (a *App) logInternal(r *http.Request, msg string, err error) {
	request.NoteError(r.Context(), err)
	if r.Context().Err() != nil {
		return
	}
	a.log.Error(msg, "error", err, "request_id", request.ID(r.Context()), "path", r.URL.Path)
}

func (a *App) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	status := request.Status(err) // the same table as the API's problems
	switch status {
	case http.StatusNotFound, http.StatusForbidden:
		a.renderError(w, r, v, status)
		return
	case http.StatusUnauthorized:
		a.toLogin(w, r)
		return
	}
	var e *crm.Error
	if !errors.As(err, &e) || e.Kind == crm.EINTERNAL {
		a.logInternal(r, "page", err)
	}
	if e != nil && e.RetryAfter > 0 { // an outage or a throttle: say when to come back
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	v.Message = a.explain(v.L, err)
	a.renderError(w, r, v, status)
}
