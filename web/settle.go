package web

import (
	"net/http"

	"github.com/crmleads/crm"
)

// settleActor settles the deferred actor check that observe gives every
// request room for (crm.WithActorCheck): on PostgreSQL the check of the request's token rides
// on its first statement, so authenticating costs no round trip of its own.
// A request that reaches a successful answer without any statement (or
// whose statements all ran before the check was deferred) has its check run
// here, before the first byte of the answer: a token that fails it gets a
// 401 instead, whatever the handler meant to send.
func settleActor(users *crm.UserService, next http.Handler) http.Handler {
	if users == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&settleWriter{ResponseWriter: w, r: r, users: users}, r)
	})
}

// settleWriter settles the actor check at the first WriteHeader of a
// successful (below 400) status.
type settleWriter struct {
	http.ResponseWriter
	r       *http.Request
	users   *crm.UserService
	decided bool
	refused bool
}

// headersOfAnAnswer are the handler's headers a refused answer must not keep.
var headersOfAnAnswer = []string{"Set-Cookie", "Location", "Link", "Etag", "Last-Modified", "Content-Length",
	"Content-Type", "Content-Disposition", "Content-Encoding"}

func (w *settleWriter) WriteHeader(code int) {
	if w.refused {
		return
	}
	if code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		// A check that failed in the request's own statement reaches the
		// handler as its error; the answer still names the scheme.
		w.Header().Set("WWW-Authenticate", `Bearer realm="crmleads"`)
	}
	if !w.decided && code >= 200 {
		w.decided = true
		if code < 400 {
			if err := w.users.SettleActorCheck(w.r.Context()); err != nil {
				w.refused = true
				h := w.Header()
				for _, k := range headersOfAnAnswer {
					h.Del(k)
				}
				if crm.IsKind(err, crm.EUNAUTHORIZED) {
					h.Set("WWW-Authenticate", `Bearer realm="crmleads"`)
				}
				writeProblem(w.ResponseWriter, w.r, err)
				return
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *settleWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.refused {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *settleWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
