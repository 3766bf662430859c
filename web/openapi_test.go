package web_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmleads/crm/web"
)

// TestLogin: failures look alike, are throttled, and tokens die with their
// user's account.
func TestLogin(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		login := func(email, pw string) response {
			return e.do("POST", "/auth/login", "", map[string]any{"email": email, "password": pw})
		}

		var ok struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			ExpiresIn   int    `json:"expires_in"`
		}
		res := login(strings.ToUpper(e.mgr.Email), password)
		if res.Status != 200 {
			t.Fatalf("login: %s", res)
		}
		res.decode(t, &ok)
		if ok.TokenType != "bearer" || ok.ExpiresIn != 3600 || ok.AccessToken == "" {
			t.Errorf("login answer %+v", ok)
		}
		var me struct {
			ID string `json:"id"`
		}
		e.must(200, "GET", "/me", ok.AccessToken, nil).decode(t, &me)
		if me.ID != e.mgr.ID {
			t.Errorf("/me with the login token is %s, want %s", me.ID, e.mgr.ID)
		}

		strip := func(r response) map[string]any {
			var m map[string]any
			r.decode(t, &m)
			delete(m, "request_id")
			return m
		}
		wrong := login(e.senior.Email, "wrong password!")
		unknown := login("nobody@example.com", "wrong password!")
		problemOf(t, wrong, 401)
		problemOf(t, unknown, 401)
		if diff := cmp.Diff(strip(wrong), strip(unknown)); diff != "" {
			t.Errorf("wrong password and unknown email differ (-wrong +unknown):\n%s", diff)
		}
		if diff := cmp.Diff(wrong.Header.Get("WWW-Authenticate"), unknown.Header.Get("WWW-Authenticate")); diff != "" {
			t.Errorf("WWW-Authenticate differs: %s", diff)
		}

		// Throttling: four more failures make five; the sixth attempt, even
		// with the right password, is refused.
		for range 4 {
			problemOf(t, login(e.senior.Email, "wrong password!"), 401)
		}
		res = login(e.senior.Email, password)
		p := problemOf(t, res, http.StatusTooManyRequests)
		if p.code() != "too_many_attempts" {
			t.Errorf("code %q", p.code())
		}
		if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
		}
		// Other emails are not affected.
		if res := login(e.other.Email, password); res.Status != 200 {
			t.Errorf("another user's login: %s", res)
		}

		// A deactivated user's existing token stops working at once.
		e.must(200, "GET", "/me", e.other.Token, nil)
		e.must(200, "PATCH", "/users/"+e.other.ID, e.admin.Token, map[string]any{"active": false})
		res = e.do("GET", "/me", e.other.Token, nil)
		problemOf(t, res, 401)
		if res.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		problemOf(t, login(e.other.Email, password), 401)

		// alg none, and other malformed tokens.
		enc := base64.RawURLEncoding.EncodeToString
		none := enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
			enc([]byte(`{"iss":"crmleads","sub":"`+e.admin.ID+`","exp":4102444800,"iat":1700000000}`)) + "."
		for _, tok := range []string{none, none + "x", "garbage", e.admin.Token + "x", strings.Replace(e.admin.Token, ".", "", 1)} {
			res := e.do("GET", "/me", tok, nil)
			problemOf(t, res, 401)
		}
		for _, h := range []string{"Basic " + enc([]byte("a:b")), "Bearer", "bearer " + e.admin.Token + " extra"} {
			res := doReq(t, e.srv, "GET", "/me", "", nil, http.Header{"Authorization": {h}})
			if res.Status != 401 {
				t.Errorf("Authorization %q: %s", h, res)
			}
		}

		// The last admin cannot be demoted or deactivated.
		for _, body := range []map[string]any{{"role": "manager"}, {"active": false}} {
			p := problemOf(t, e.do("PATCH", "/users/"+e.admin.ID, e.admin.Token, body), http.StatusConflict)
			if p.code() != "last_admin" {
				t.Errorf("%v: code %q, want last_admin", body, p.code())
			}
		}
		e.must(200, "GET", "/users", e.admin.Token, nil) // still an admin
		// With a second admin, the first may step down.
		e.must(200, "PATCH", "/users/"+e.senior.ID, e.admin.Token, map[string]any{"role": "admin"})
		e.must(200, "PATCH", "/users/"+e.admin.ID, e.admin.Token, map[string]any{"role": "manager"})
		// A role change ends the tokens issued with the old role, on every
		// replica; signing in again gives one with the new role.
		for _, u := range []user{e.admin, e.senior} {
			problemOf(t, e.do("GET", "/me", u.Token, nil), http.StatusUnauthorized)
		}
		problemOf(t, e.do("GET", "/users", e.reissue(e.admin), nil), http.StatusForbidden) // the new role applies
		senior := e.reissue(e.senior)
		p = problemOf(t, e.do("PATCH", "/users/"+e.senior.ID, senior, map[string]any{"active": false}), http.StatusConflict)
		if p.code() != "last_admin" {
			t.Errorf("code %q, want last_admin", p.code())
		}
		// A taken email is a conflict.
		p = problemOf(t, e.do("POST", "/users", senior, map[string]any{"email": e.mgr.Email, "role": "manager",
			"password": "long enough password"}), http.StatusConflict)
		if p.code() != "email_taken" {
			t.Errorf("code %q, want email_taken", p.code())
		}
	})
}

// TestOpenAPI: the document is OpenAPI 3.1, describes exactly the routes,
// secures them with the bearer scheme; the docs page works offline. (That each
// status a test observed is documented is checked by TestMain, after all
// tests ran.)
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(web.NewServer(web.Deps{}))
	t.Cleanup(srv.Close)
	res := doReq(t, srv, "GET", "/openapi.json", "", nil, nil)
	if res.Status != 200 {
		t.Fatalf("GET /openapi.json: %s", res)
	}
	var doc openAPIDoc
	res.decode(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(documented)
	want := slices.Sorted(slices.Values(routes))
	if diff := cmp.Diff(want, documented); diff != "" {
		t.Errorf("documented operations (-DESIGN §4 +document):\n%s", diff)
	}

	// Redocly's recommended rules: a server and a license.
	var meta struct {
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
		Info struct {
			License struct {
				Name       string `json:"name"`
				Identifier string `json:"identifier"`
			} `json:"license"`
		} `json:"info"`
	}
	res.decode(t, &meta)
	if len(meta.Servers) != 1 || meta.Servers[0].URL != "/" {
		t.Errorf("servers %+v, want one, at /", meta.Servers)
	}
	if meta.Info.License.Name == "" || meta.Info.License.Identifier == "" {
		t.Errorf("info.license %+v, want a name and an SPDX identifier", meta.Info.License)
	}
	// The document itself is valid OpenAPI 3.1, for the independent validator
	// that checks every exchange of the tests against it.
	if ok, errs := specValidator(t).ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("/openapi.json is not valid OpenAPI: %s", describe(e))
		}
	}
	// Wherever a schema admits null and lists its values, null is one of them
	// (JSON Schema checks enum apart from type).
	var raw any
	res.decode(t, &raw)
	for _, at := range nullableEnumsWithoutNull(raw, "#") {
		t.Errorf("%s: type allows null but enum does not list it", at)
	}

	s, ok := doc.Components.SecuritySchemes["bearer"]
	if !ok || s.Type != "http" || !strings.EqualFold(s.Scheme, "bearer") {
		t.Errorf("security scheme bearer: %+v (present %v)", s, ok)
	}
	public := []string{"GET /healthz", "GET /readyz", "POST /auth/login"}
	for _, op := range routes {
		method, path, _ := strings.Cut(op, " ")
		o := doc.Paths[path][strings.ToLower(method)]
		secured := true
		if o.Security != nil {
			secured = slices.ContainsFunc(*o.Security, func(m map[string][]string) bool { _, ok := m["bearer"]; return ok })
		} else {
			secured = slices.ContainsFunc(doc.Security, func(m map[string][]string) bool { _, ok := m["bearer"]; return ok })
		}
		if want := !slices.Contains(public, op); secured != want {
			t.Errorf("%s: bearer security %v, want %v", op, secured, want)
		}
		if _, ok := o.Responses["401"]; ok != (!slices.Contains(public, op) || op == "POST /auth/login") {
			t.Errorf("%s: documents 401 = %v", op, ok)
		}
		if o.OperationID == "" {
			t.Errorf("%s: no operationId", op)
		}
	}

	// Every documented response of the observed operations is checked in
	// TestMain; here, a fixed sample that must be there whatever ran.
	for op, statuses := range map[string][]string{
		"POST /leads":               {"201", "401", "403", "413", "422"},
		"POST /leads/{id}/transfer": {"201", "404", "409"},
		"POST /leads/{id}/analyze":  {"200", "404", "409", "502", "503"},
		"POST /auth/login":          {"200", "401", "422", "429"},
	} {
		got := doc.responses(op)
		for _, st := range statuses {
			if !got[st] {
				t.Errorf("%s does not document %s (has %v)", op, st, sortedKeys(got))
			}
		}
	}

	// The docs page is self-contained: its assets come from this server.
	page := doReq(t, srv, "GET", "/docs", "", nil, nil)
	if page.Status != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs: %d %s", page.Status, page.Header.Get("Content-Type"))
	}
	refs := regexp.MustCompile(`(?i)(?:src|href)\s*=\s*["']([^"']+)["']`).FindAllStringSubmatch(string(page.Body), -1)
	if len(refs) < 2 {
		t.Errorf("the docs page references %d assets, want the Swagger UI script and style", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if strings.Contains(ref, "//") {
			t.Errorf("the docs page references a foreign asset %q", ref)
			continue
		}
		a := doReq(t, srv, "GET", ref, "", nil, nil)
		if a.Status != 200 || len(a.Body) == 0 {
			t.Errorf("asset %s: %d, %d bytes", ref, a.Status, len(a.Body))
		}
	}
	if strings.Contains(string(page.Body), "http://") || strings.Contains(string(page.Body), "https://") {
		t.Errorf("the docs page holds an absolute URL:\n%s", page.Body)
	}
	init := doReq(t, srv, "GET", "/docs/init.js", "", nil, nil)
	if !strings.Contains(string(init.Body), `"/openapi.json"`) {
		t.Errorf("init.js does not load /openapi.json: %s", init.Body)
	}
}

// TestHeaders: request ids, security headers and CORS.
func TestHeaders(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		l := e.createLead(e.mgr, nil)
		requests := [][3]string{
			{"GET", "/leads", e.mgr.Token},
			{"GET", "/leads/" + l.ID, e.mgr.Token},
			{"GET", "/leads/" + l.ID, ""},            // 401
			{"GET", "/leads/not-an-id", e.mgr.Token}, // 404
			{"PATCH", "/leads/" + l.ID, e.mgr.Token}, // 422 (no body)
			{"GET", "/nowhere", ""},                  // unmatched
			{"GET", "/healthz", ""},
			{"GET", "/openapi.json", ""},
			{"GET", "/docs", ""},
		}
		seen := map[string]bool{}
		for _, r := range requests {
			res := doReq(t, e.srv, r[0], r[1], r[2], nil, nil)
			id := res.Header.Get("X-Request-Id")
			if id == "" {
				t.Errorf("%s %s (%d): no X-Request-Id", r[0], r[1], res.Status)
			} else if seen[id] {
				t.Errorf("%s %s: X-Request-Id %q reused", r[0], r[1], id)
			}
			seen[id] = true
			if strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
				var p problem
				res.decode(t, &p)
				if p.RequestID != id {
					t.Errorf("%s %s: problem request_id %q, header %q", r[0], r[1], p.RequestID, id)
				}
			}
			for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
				"Referrer-Policy": "same-origin"} {
				if got := res.Header.Get(h); got != want {
					t.Errorf("%s %s: %s %q, want %q", r[0], r[1], h, got, want)
				}
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s %s: Content-Security-Policy %q", r[0], r[1], csp)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("%s %s: Access-Control-Allow-Origin %q without configured origins", r[0], r[1], got)
			}
		}

		// A sane client id is echoed, in the header and in problems; an
		// insane one is replaced.
		res := doReq(t, e.srv, "GET", "/leads/not-an-id", e.mgr.Token, nil, http.Header{"X-Request-Id": {"client-req-42"}})
		if got := res.Header.Get("X-Request-Id"); got != "client-req-42" {
			t.Errorf("X-Request-Id %q, want the client's", got)
		}
		if p := problemOf(t, res, 404); p.RequestID != "client-req-42" {
			t.Errorf("problem request_id %q", p.RequestID)
		}
		for _, bad := range []string{strings.Repeat("x", 65), "has space", "ünïcode"} {
			res := doReq(t, e.srv, "GET", "/healthz", "", nil, http.Header{"X-Request-Id": {bad}})
			if got := res.Header.Get("X-Request-Id"); got == bad || got == "" {
				t.Errorf("X-Request-Id %q sent, %q answered", bad, got)
			}
		}

		// A preflight without configured origins gets no CORS headers.
		pre := http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"PATCH"}}
		res = doReq(t, e.srv, "OPTIONS", "/leads/"+l.ID, "", nil, pre)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("preflight without configured origins: Access-Control-Allow-Origin %q", got)
		}

		// With an origin configured: that origin only.
		c := newEnv(t, kind, func(d *web.Deps) { d.CORSOrigins = []string{"https://app.example"} })
		res = doReq(t, c.srv, "OPTIONS", "/leads/"+l.ID, "", nil, pre)
		if res.Status >= 300 {
			t.Errorf("preflight: %s", res)
		}
		for h, want := range map[string]string{"Access-Control-Allow-Origin": "https://app.example"} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("preflight: %s %q, want %q", h, got, want)
			}
		}
		if m := res.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "PATCH") {
			t.Errorf("preflight: Access-Control-Allow-Methods %q", m)
		}
		if h := res.Header.Get("Access-Control-Allow-Headers"); !strings.Contains(strings.ToLower(h), "authorization") {
			t.Errorf("preflight: Access-Control-Allow-Headers %q", h)
		}
		if v := res.Header.Values("Vary"); !slices.Contains(v, "Origin") {
			t.Errorf("Vary %q, want Origin", v)
		}
		res = doReq(t, c.srv, "GET", "/leads", c.mgr.Token, nil, http.Header{"Origin": {"https://app.example"}})
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
			t.Errorf("GET from the allowed origin: Access-Control-Allow-Origin %q", got)
		}
		if got := res.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "Link") {
			t.Errorf("Access-Control-Expose-Headers %q: a browser client cannot read the next page", got)
		}
		evil := http.Header{"Origin": {"https://evil.example"}, "Access-Control-Request-Method": {"PATCH"}}
		for _, m := range []string{"OPTIONS", "GET"} {
			res = doReq(t, c.srv, m, "/leads", c.mgr.Token, nil, evil)
			for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
				if got := res.Header.Get(h); got != "" {
					t.Errorf("%s from another origin: %s %q", m, h, got)
				}
			}
		}
	})
}

// nullableEnumsWithoutNull returns where, in a JSON document, a schema's type
// includes "null" while its enum leaves null out.
func nullableEnumsWithoutNull(v any, at string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if types, ok := v["type"].([]any); ok && slices.Contains(types, any("null")) {
			if enum, ok := v["enum"].([]any); ok && !slices.Contains(enum, nil) {
				out = append(out, at)
			}
		}
		for _, k := range sortedKeys(v) {
			out = append(out, nullableEnumsWithoutNull(v[k], at+"/"+k)...)
		}
	case []any:
		for i, x := range v {
			out = append(out, nullableEnumsWithoutNull(x, at+"/"+strconv.Itoa(i))...)
		}
	}
	return out
}
