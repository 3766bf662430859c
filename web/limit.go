package web

import (
	"net/http"
	"strings"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/request"
)

// rateLimit takes a token from the bucket of the request's user (read from
// the bearer token or the session cookie, whose signature is checked but not
// the database: the user's bucket is only a key) and from the bucket of its
// client address, before the API or a page does any work. Health checks and
// static assets are not counted. A limiter that cannot reach the database
// lets the request through: the request meets the outage itself.
func rateLimit(d Deps, next http.Handler) http.Handler {
	if d.Services == nil || d.Limits == nil || d.Limits.RateLimit() <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/healthz" || p == "/readyz" || strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/docs/") {
			next.ServeHTTP(w, r)
			return
		}
		keys := []string{"c:" + crm.ClientFrom(r.Context())}
		if id := tokenUser(d, r); id != "" {
			keys = append(keys, "u:"+id)
		}
		err := d.Limits.Allow(r.Context(), keys...)
		if crm.IsKind(err, crm.ETOOMANY) {
			writeProblem(w, r, err)
			return
		}
		if err != nil {
			request.NoteError(r.Context(), err)
		}
		next.ServeHTTP(w, r)
	})
}

// tokenUser returns the user id of a validly signed bearer token or session
// cookie, "" when there is none.
func tokenUser(d Deps, r *http.Request) string {
	if d.Tokens == nil {
		return ""
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		c, err := r.Cookie("crm_session")
		if err != nil {
			return ""
		}
		tok = c.Value
	}
	id, _, err := d.Tokens.Verify(strings.TrimSpace(tok))
	if err != nil {
		return ""
	}
	return id
}
