package web

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/auth"
	"github.com/crmleads/crm/internal/metrics"
	"github.com/crmleads/crm/internal/request"
)

// Deps are what the web layer needs; cmd/crmleads wires them.
type Deps struct {
	*crm.Services
	Tokens  *auth.Tokens
	Logger  *slog.Logger
	Version string
	// CORSOrigins lists the origins allowed to call the API from a browser;
	// empty keeps CORS closed.
	CORSOrigins []string
	// Pages mounts extra handlers (the web app) on the same mux.
	Pages func(mux *http.ServeMux)
	// Metrics records every request; nil records nothing. It is served on
	// a listener of its own (cmd/crmleads), never on this handler.
	Metrics *metrics.Set
	// TrustedProxies are the proxies whose X-Forwarded-For is believed when
	// telling which client a request comes from (request.ClientAddr); empty:
	// the peer address is the client.
	TrustedProxies []netip.Prefix
}

// NewServer returns the HTTP handler of the whole service: the JSON API, its
// OpenAPI description and docs, health checks and, when given, the web app.
func NewServer(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	addRoutes(mux, d)
	if d.Pages != nil {
		d.Pages(mux)
	}
	var h http.Handler = mux
	h = rateLimit(d, h)
	h = sameSlash(h)
	h = cors(d.CORSOrigins, h)
	h = securityHeaders(h)
	if d.Services != nil {
		h = settleActor(d.Users, h)
	}
	h = observe(d.Logger, d.Metrics, d.TrustedProxies, h)
	return h
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// StatusClientClosed is what the access log and the metrics record for a
// request whose client went away before it was answered (nginx's 499): not a
// server error, whatever the handler made of its cancelled context, so a
// client that hangs up cannot poison error-rate alerts.
const StatusClientClosed = 499

// observe gives every request an id (kept from X-Request-Id when sane) and its
// client address, turns a panic into a 500 problem, writes one access-log
// line and counts the request under its route pattern.
func observe(log *slog.Logger, m *metrics.Set, trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
			id = newRequestID()
		}
		ctx, ri := request.With(r.Context(), id)
		ri.HTTPS = r.TLS != nil || request.ForwardedHTTPS(r, trusted)
		client := request.ClientAddr(r, trusted)
		ctx = crm.WithClient(ctx, client)
		ctx = crm.WithActorCheck(ctx) // settled by settleActor
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				ri.Err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
				if sw.status == 0 {
					writeProblem(sw, r, crm.Errorf(crm.EINTERNAL, "internal", "something went wrong on our side; it has been logged"))
				}
			}
			pattern := r.Pattern
			if pattern == "" {
				pattern = "unmatched"
			}
			d := time.Since(start)
			status := sw.status
			// The request's context ends early only when the client has gone
			// (the server cancels it on a failed read of the connection);
			// whatever was written then reached nobody.
			if r.Context().Err() != nil && (status == 0 || status >= 500) {
				status = StatusClientClosed
			}
			if status == 0 {
				status = http.StatusOK
			}
			m.ObserveRequest(pattern, r.Method, status, d)
			if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
				// otelhttp, outside, named the span before the mux chose a
				// route; the route is known only now.
				route := pattern
				if _, path, ok := strings.Cut(pattern, " "); ok {
					route = path
				}
				span.SetName(r.Method + " " + route)
				span.SetAttributes(semconv.HTTPRoute(route))
			}
			attrs := []any{"request_id", id, "method", r.Method, "path", r.URL.Path, "route", pattern,
				"status", status, "bytes", sw.bytes, "duration_ms", float64(d.Microseconds()) / 1000, "client", client}
			if ri.Actor != "" {
				attrs = append(attrs, "actor", ri.Actor)
			}
			level := slog.LevelInfo
			if ri.Err != nil {
				attrs = append(attrs, "error", ri.Err.Error())
				if status >= 500 {
					level = slog.LevelError
				}
			}
			log.Log(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

// securityHeaders sets the headers every response carries. HSTS goes only
// with a request that came over TLS (ours, or a trusted proxy's: observe
// decides): over plain HTTP a browser ignores it, and a development server on
// http://localhost must not pin itself to HTTPS.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		if request.HTTPS(r.Context()) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// cors answers browsers from the allowed origins only; with none configured
// no CORS header is ever sent, so other sites' pages cannot read the API.
func cors(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && (slices.Contains(origins, origin) || slices.Contains(origins, "*")) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Expose-Headers", "Link, Retry-After, X-Request-Id")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// sameSlash serves /leads/ and /sales/ like /leads and /sales, from the same
// handler and without a redirect: the original service used the slashed form,
// and a redirected POST loses its body in some clients.
func sameSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/leads/", "/sales/", "/users/", "/audit/":
			r.URL.Path = strings.TrimSuffix(r.URL.Path, "/")
			r.URL.RawPath = ""
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
