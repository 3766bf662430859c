package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/crmleads/crm/web"
)

// Every API exchange of every test in this package goes through an
// exchangeCheck (newEnv wraps the server's handler in one), which holds it
// against the served /openapi.json with an independent OpenAPI 3.1 validator
// (pb33f/libopenapi-validator), so the description cannot drift from what the
// service answers: a field of the wrong type, a null the schema does not
// allow, an undocumented status or content type fails the test that caused it.

// invalidHeader marks a request a test sends invalid on purpose (a bad enum, a
// missing field, no token…); its value says why. The check removes it before
// the server sees the request and expects the validator to reject the request
// too: the server and the description must agree on what is invalid.
const invalidHeader = "X-Test-Invalid-Request"

// spec is the validator built once from the served description.
var spec struct {
	once sync.Once
	mu   sync.Mutex // the library does not promise concurrent use
	v    validator.Validator
	doc  []byte
	err  error
}

// specValidator returns the validator of the served /openapi.json.
func specValidator(t testing.TB) validator.Validator {
	t.Helper()
	spec.once.Do(func() {
		srv := httptest.NewServer(web.NewServer(web.Deps{}))
		defer srv.Close()
		res, err := http.Get(srv.URL + "/openapi.json")
		if err != nil {
			spec.err = err
			return
		}
		defer res.Body.Close()
		if spec.doc, spec.err = io.ReadAll(res.Body); spec.err != nil {
			return
		}
		doc, err := libopenapi.NewDocument(spec.doc)
		if err != nil {
			spec.err = fmt.Errorf("parse /openapi.json: %w", err)
			return
		}
		v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
		if len(errs) > 0 {
			spec.err = fmt.Errorf("build the validator: %v", errs)
			return
		}
		spec.v = v
	})
	if spec.err != nil {
		t.Fatalf("OpenAPI validator: %v", spec.err)
	}
	return spec.v
}

// exchangeCheck validates every API exchange of one server.
type exchangeCheck struct {
	v validator.Validator
	// strict: every request must conform to the description unless marked
	// with invalidHeader. Otherwise a request is checked only when the server
	// accepted it (2xx): a test of bad input need not mark what it sends.
	strict bool

	mu         sync.Mutex
	exchanges  int
	ops        map[string]bool // "METHOD /template" → seen
	statuses   map[string]bool // "METHOD /template STATUS" → seen
	violations []string
}

func newExchangeCheck(t *testing.T) *exchangeCheck {
	c := &exchangeCheck{v: specValidator(t), ops: map[string]bool{}, statuses: map[string]bool{}}
	// Runs after the server is closed (cleanups run last-registered first,
	// and newEnv registers this before the server's), so every exchange is in.
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.violations) > 0 {
			t.Errorf("%d violations of /openapi.json in %d exchanges:\n%s", len(c.violations), c.exchanges,
				strings.Join(c.violations, "\n"))
		}
	})
	return c
}

// wrap serves next, recording each API exchange and validating it.
func (c *exchangeCheck) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := routeOf(r.Method, r.URL.Path)
		if op == "" { // /docs, /metrics, /openapi.json, unknown paths: not API operations
			next.ServeHTTP(w, r)
			return
		}
		invalid := r.Header.Get(invalidHeader)
		r.Header.Del(invalidHeader)
		uri := r.URL.RequestURI()
		header := r.Header.Clone()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())

		ex := exchange{method: r.Method, uri: uri, header: header, body: body, status: rec.Code,
			resHeader: rec.Header().Clone(), resBody: rec.Body.Bytes(), invalid: invalid}
		found := violations(c.v, op, ex, c.strict)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.exchanges++
		c.ops[op] = true
		c.statuses[fmt.Sprintf("%s %d", op, rec.Code)] = true
		c.violations = append(c.violations, found...)
	})
}

// exchange is one request and its answer, as sent and received.
type exchange struct {
	method, uri string
	header      http.Header
	body        []byte
	status      int
	resHeader   http.Header
	resBody     []byte
	invalid     string // why the request is invalid on purpose; "" when it is meant to be valid
}

// violations validates one exchange of the operation op and describes each
// way it breaks the description.
func violations(v validator.Validator, op string, ex exchange, strict bool) []string {
	uri := ex.uri
	// The slashed collection paths are served like the bare ones (DESIGN §4);
	// the description lists the bare ones.
	if p, q, _ := strings.Cut(uri, "?"); p == "/leads/" || p == "/sales/" {
		uri = strings.TrimSuffix(p, "/")
		if q != "" {
			uri += "?" + q
		}
	}
	request := func() *http.Request {
		r := httptest.NewRequest(ex.method, uri, bytes.NewReader(ex.body))
		r.Header = ex.header.Clone()
		return r
	}
	res := &http.Response{StatusCode: ex.status, Header: ex.resHeader, Request: request(),
		Body: io.NopCloser(bytes.NewReader(ex.resBody))}

	spec.mu.Lock()
	_, resErrs := v.ValidateHttpResponse(res.Request, res)
	_, reqErrs := v.ValidateHttpRequestSync(request())
	spec.mu.Unlock()

	at := fmt.Sprintf("%s %s → %d", ex.method, ex.uri, ex.status)
	var out []string
	for _, e := range resErrs {
		out = append(out, at+": response: "+describe(e)+"\n    body: "+clip(ex.resBody))
	}
	switch {
	case ex.invalid != "":
		if len(reqErrs) == 0 {
			out = append(out, fmt.Sprintf("%s: the request is invalid on purpose (%s), but the description accepts it", at, ex.invalid))
		}
	case strict || ex.status < 300:
		for _, e := range reqErrs {
			out = append(out, at+": request: "+describe(e)+"\n    body: "+clip(ex.body))
		}
	}
	return out
}

func describe(e *verrors.ValidationError) string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Reason != "" && e.Reason != e.Message {
		b.WriteString(": " + e.Reason)
	}
	for _, f := range e.SchemaValidationErrors {
		fmt.Fprintf(&b, "\n    at %s: %s", f.FieldPath, f.Reason)
	}
	return b.String()
}

func clip(b []byte) string {
	const max = 600
	s := string(bytes.TrimSpace(b))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// TestExchangeCheckCatches: the check is not a rubber stamp. Answers that
// differ from the description in a type, an enum value, a null, a missing
// member, a status or a content type are each reported; a faithful answer is
// not; a request marked invalid that the description accepts is reported.
func TestExchangeCheckCatches(t *testing.T) {
	t.Parallel()
	v := specValidator(t)
	const id = "0190a8f2-8a3c-7d1e-9b1a-2f3c4d5e6f70"
	lead := func(change func(m map[string]any)) []byte {
		m := map[string]any{"id": id, "source": "partner", "stage": "new", "business_domain": nil,
			"has_business_domain": false, "messages_count": 0, "name": "", "email": "", "phone": "", "company": "",
			"note": "", "owner_id": id, "ai_score": nil, "ai_recommendation": nil, "ai_reason": nil,
			"ai_analyzed_at": nil, "ai_provider": nil, "ai_model": nil, "ai_prompt_version": nil, "ai_stale": false,
			"ai_score_calibrated": nil, "ai_factors": []any{},
			"created_at": "2026-01-02T03:04:05.123456Z", "updated_at": "2026-01-02T03:04:05.123456Z"}
		if change != nil {
			change(m)
		}
		b, _ := json.Marshal(m)
		return b
	}
	get := func(status int, ct string, body []byte) exchange {
		return exchange{method: "GET", uri: "/leads/" + id, header: http.Header{"Authorization": {"Bearer x"}},
			status: status, resHeader: http.Header{"Content-Type": {ct}}, resBody: body}
	}
	if got := violations(v, "GET /leads/{id}", get(200, "application/json", lead(nil)), true); len(got) != 0 {
		t.Errorf("a faithful lead with no analysis (nulls everywhere they may be) is rejected:\n%s", strings.Join(got, "\n"))
	}
	analysed := lead(func(m map[string]any) {
		m["ai_score"], m["ai_recommendation"], m["ai_reason"] = 0.7, "transfer_to_sales", "ok"
	})
	if got := violations(v, "GET /leads/{id}", get(200, "application/json", analysed), true); len(got) != 0 {
		t.Errorf("a faithful analysed lead is rejected:\n%s", strings.Join(got, "\n"))
	}
	for name, ex := range map[string]exchange{
		"ai_score of the wrong type": get(200, "application/json", lead(func(m map[string]any) { m["ai_score"] = "high" })),
		"recommendation outside the enum": get(200, "application/json",
			lead(func(m map[string]any) { m["ai_recommendation"] = "buy_now" })),
		"null where the schema forbids it": get(200, "application/json", lead(func(m map[string]any) { m["stage"] = nil })),
		"a required member missing":        get(200, "application/json", lead(func(m map[string]any) { delete(m, "created_at") })),
		"an undeclared member":             get(200, "application/json", lead(func(m map[string]any) { m["secret"] = 1 })),
		"an id that is not a UUID":         get(200, "application/json", lead(func(m map[string]any) { m["id"] = "x" })),
		"an undocumented status":           get(418, "application/json", lead(nil)),
		"an undocumented content type":     get(200, "text/html", []byte("<p>hi</p>")),
		"a problem without its code": get(404, "application/problem+json",
			[]byte(`{"type":"urn:x","title":"Not Found","status":404,"detail":"no"}`)),
	} {
		if got := violations(v, "GET /leads/{id}", ex, true); len(got) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
	create := exchange{method: "POST", uri: "/leads", header: http.Header{"Authorization": {"Bearer x"},
		"Content-Type": {"application/json"}}, body: []byte(`{"source":"partner"}`), status: 201,
		resHeader: http.Header{"Content-Type": {"application/json"}}, resBody: lead(nil), invalid: "claimed"}
	if got := violations(v, "POST /leads", create, true); len(got) != 1 || !strings.Contains(got[0], "description accepts it") {
		t.Errorf("a valid request marked invalid: %q", got)
	}
	create.invalid, create.body = "", []byte(`{"source":"fax"}`)
	if got := violations(v, "POST /leads", create, true); len(got) == 0 {
		t.Errorf("a request with source outside the enum is not reported")
	}
}
