package web_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBadInput sends invalid bodies to every endpoint that takes one: each is
// a 422 problem naming the field, and nothing changes.
func TestBadInput(t *testing.T) {
	t.Parallel()
	type tc struct {
		name   string
		method string
		path   string // {lead}, {sale}, {user} replaced
		body   string
		field  string // expected in errors[].field
	}
	var cases []tc
	add := func(method, path string, rows ...[3]string) {
		for _, r := range rows {
			cases = append(cases, tc{name: method + " " + path + " " + r[0], method: method, path: path, body: r[1], field: r[2]})
		}
	}
	generic := [][3]string{
		{"malformed JSON", `{"x":`, "body"},
		{"empty body", ``, "body"},
		{"JSON array", `[]`, "body"},
	}
	add("POST", "/leads", append([][3]string{
		{"unknown field", `{"source":"partner","colour":"red"}`, "colour"},
		{"wrong type", `{"source":5}`, "source"},
		{"bad enum", `{"source":"fax"}`, "source"},
		{"missing required", `{"messages_count":1}`, "source"},
		{"negative count", `{"source":"partner","messages_count":-1}`, "messages_count"},
		{"overflow 1e20", `{"source":"partner","messages_count":1e20}`, "messages_count"},
		{"overflow int32", `{"source":"partner","messages_count":2147483648}`, "messages_count"},
		{"overflow int64", `{"source":"partner","messages_count":9223372036854775808}`, "messages_count"},
		{"float for int", `{"source":"partner","messages_count":1.5}`, "messages_count"},
		{"string for int", `{"source":"partner","messages_count":"3"}`, "messages_count"},
		{"null source", `{"source":null}`, "source"},
		{"domain not in catalog", `{"source":"partner","business_domain":"fourth"}`, "business_domain"},
		{"invalid email", `{"source":"partner","email":"not an email"}`, "email"},
		{"owner not a user", `{"source":"partner","owner_id":"nobody"}`, "owner_id"},
		{"name too long", `{"source":"partner","name":"` + strings.Repeat("n", 201) + `"}`, "name"},
	}, generic...)...)
	add("PATCH", "/leads/{lead}", append([][3]string{
		{"unknown field", `{"stage":"qualified"}`, "stage"},
		{"wrong type", `{"name":5}`, "name"},
		{"wrong type domain", `{"business_domain":3}`, "business_domain"},
		{"domain not in catalog", `{"business_domain":"fourth"}`, "business_domain"},
		{"invalid email", `{"email":"a@"}`, "email"},
		{"owner not a user", `{"owner_id":"00000000-0000-7000-8000-000000000000"}`, "owner_id"},
	}, generic...)...)
	add("PATCH", "/leads/{lead}/messages", append([][3]string{
		{"unknown field", `{"messages_count":1,"extra":true}`, "extra"},
		{"missing", `{}`, "messages_count"},
		{"negative count", `{"messages_count":-1}`, "messages_count"},
		{"overflow 1e20", `{"messages_count":1e20}`, "messages_count"},
		{"overflow int32", `{"messages_count":2147483648}`, "messages_count"},
		{"float for int", `{"messages_count":2.5}`, "messages_count"},
		{"string for int", `{"messages_count":"4"}`, "messages_count"},
		{"null", `{"messages_count":null}`, "messages_count"},
	}, generic...)...)
	add("PATCH", "/leads/{lead}/stage", append([][3]string{
		{"unknown field", `{"stage":"contacted","why":"x"}`, "why"},
		{"missing", `{}`, "stage"},
		{"bad enum", `{"stage":"won"}`, "stage"},
		{"wrong type", `{"stage":2}`, "stage"},
		{"null", `{"stage":null}`, "stage"},
	}, generic...)...)
	add("PATCH", "/sales/{sale}/stage", append([][3]string{
		{"unknown field", `{"stage":"kyc","why":"x"}`, "why"},
		{"missing", `{}`, "stage"},
		{"bad enum", `{"stage":"contacted"}`, "stage"},
		{"wrong type", `{"stage":true}`, "stage"},
		{"null", `{"stage":null}`, "stage"},
	}, generic...)...)
	add("POST", "/users", append([][3]string{
		{"unknown field", `{"email":"u1@example.com","role":"manager","password":"long enough password","admin":true}`, "admin"},
		{"invalid email", `{"email":"not-an-email","role":"manager","password":"long enough password"}`, "email"},
		{"bad enum", `{"email":"u2@example.com","role":"boss","password":"long enough password"}`, "role"},
		{"short password", `{"email":"u3@example.com","role":"manager","password":"short"}`, "password"},
		{"wrong type", `{"email":7,"role":"manager","password":"long enough password"}`, "email"},
		{"null", `{"email":null,"role":"manager","password":"long enough password"}`, "email"},
		{"missing", `{"email":"u4@example.com","role":"manager"}`, "password"},
	}, generic...)...)
	add("PATCH", "/users/{user}", append([][3]string{
		{"bad enum", `{"role":"boss"}`, "role"},
		{"wrong type", `{"active":"no"}`, "active"},
		{"short password", `{"password":"short"}`, "password"},
		{"unknown field", `{"email":"x@example.com"}`, "email"},
	}, generic...)...)
	add("PATCH", "/settings", append([][3]string{
		{"empty list", `{"business_domains":[]}`, "business_domains"},
		{"not a list", `{"business_domains":"first"}`, "business_domains"},
		{"list of numbers", `{"business_domains":[1,2]}`, "business_domains[0]"},
		{"null", `{"business_domains":null}`, "business_domains"},
		{"missing", `{}`, "business_domains"},
		{"duplicates", `{"business_domains":["first","second","first"]}`, "business_domains"},
		{"duplicates after trim", `{"business_domains":["first"," first "]}`, "business_domains"},
		{"blank", `{"business_domains":["first","  "]}`, "business_domains"},
		{"empty string", `{"business_domains":[""]}`, "business_domains"},
		{"overlong", `{"business_domains":["` + strings.Repeat("d", 65) + `"]}`, "business_domains"},
		{"control character", `{"business_domains":["fi\u0000rst"]}`, "business_domains"},
		{"too many", `{"business_domains":["d` + strings.Repeat(`","d`, 100) + `"]}`, "business_domains"},
		{"unknown field", `{"business_domains":["first"],"transfer_min_score":0.1}`, "transfer_min_score"},
	}, generic...)...)

	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		l := e.eligibleLead(e.mgr, 0.8, "transfer_to_sales")
		sl := e.eligibleLead(e.mgr, 0.8, "transfer_to_sales")
		var s saleJSON
		e.must(201, "POST", "/leads/"+sl.ID+"/transfer", e.mgr.Token, nil).decode(t, &s)

		snapshot := func(e *env) map[string]string {
			return map[string]string{
				"lead":  string(e.must(200, "GET", "/leads/"+l.ID, e.admin.Token, nil).Body),
				"sale":  string(e.must(200, "GET", "/sales/"+s.ID, e.admin.Token, nil).Body),
				"leads": string(e.must(200, "GET", "/leads?limit=500", e.admin.Token, nil).Body),
				"users": string(e.must(200, "GET", "/users", e.admin.Token, nil).Body),
				// The catalog in force, whoever asks.
				"settings": string(e.must(200, "GET", "/settings", e.mgr.Token, nil).Body),
			}
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e := e.with(t)
				before := snapshot(e)
				path := strings.NewReplacer("{lead}", l.ID, "{sale}", s.ID, "{user}", e.other.ID).Replace(c.path)
				res := e.do(c.method, path, e.admin.Token, c.body)
				p := problemOf(t, res, http.StatusUnprocessableEntity)
				if p.code() != "validation_failed" {
					t.Errorf("code %q, want validation_failed", p.code())
				}
				if !slices.ContainsFunc(p.Errors, func(fe struct {
					Field   string `json:"field"`
					Message string `json:"message"`
				}) bool {
					return fe.Field == c.field && fe.Message != ""
				}) {
					t.Errorf("errors[] does not name %q: %s", c.field, res)
				}
				if diff := cmp.Diff(before, snapshot(e)); diff != "" {
					t.Errorf("state changed (-before +after):\n%s", diff)
				}
			})
		}
	})
}

// TestStatusesOfState covers 413, 404 and 409 answers: each a problem with
// its code, never a 500.
func TestStatusesOfState(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		l := e.createLead(e.mgr, nil)
		before := e.must(200, "GET", "/leads/"+l.ID, e.mgr.Token, nil).Body

		t.Run("413", func(t *testing.T) {
			e := e.with(t)
			big := `{"source":"partner","note":"` + strings.Repeat("x", 1<<20+1) + `"}`
			p := problemOf(t, e.do("POST", "/leads", e.mgr.Token, big), http.StatusRequestEntityTooLarge)
			if p.code() != "body_too_large" {
				t.Errorf("code %q, want body_too_large", p.code())
			}
			bigPatch := `{"note":"` + strings.Repeat("x", 1<<20+1) + `"}`
			problemOf(t, e.do("PATCH", "/leads/"+l.ID, e.mgr.Token, bigPatch), http.StatusRequestEntityTooLarge)
			if diff := cmp.Diff(string(before), string(e.must(200, "GET", "/leads/"+l.ID, e.mgr.Token, nil).Body)); diff != "" {
				t.Errorf("lead changed:\n%s", diff)
			}
		})

		t.Run("404", func(t *testing.T) {
			e := e.with(t)
			unknown := "0190a3b2-1c4d-7e5f-8a9b-0c1d2e3f4a5b"
			for _, id := range []string{"not-a-uuid", "12345", unknown, strings.ToUpper(unknown)} {
				for _, req := range [][3]string{
					{"GET", "/leads/" + id, ""},
					{"PATCH", "/leads/" + id, `{"name":"x"}`},
					{"PATCH", "/leads/" + id + "/stage", `{"stage":"contacted"}`},
					{"PATCH", "/leads/" + id + "/messages", `{"messages_count":1}`},
					{"GET", "/leads/" + id + "/transfer-check", ""},
					{"POST", "/leads/" + id + "/transfer", ""},
					{"POST", "/leads/" + id + "/analyze", ""},
					{"GET", "/leads/" + id + "/sale", ""},
					{"GET", "/leads/" + id + "/events", ""},
					{"GET", "/leads/" + id + "/analyses", ""},
					{"GET", "/sales/" + id, ""},
					{"PATCH", "/sales/" + id + "/stage", `{"stage":"kyc"}`},
					{"PATCH", "/users/" + id, `{"name":"x"}`},
				} {
					var body any
					if req[2] != "" {
						body = req[2]
					}
					p := problemOf(t, e.do(req[0], req[1], e.admin.Token, body), http.StatusNotFound)
					if p.code() != "not_found" {
						t.Errorf("%s %s: code %q", req[0], req[1], p.code())
					}
				}
			}
			// A lead without a sale has no sale.
			problemOf(t, e.do("GET", "/leads/"+l.ID+"/sale", e.mgr.Token, nil), http.StatusNotFound)
			// An unknown route is a problem too, not an HTML page.
			problemOf(t, e.do("GET", "/nowhere", e.mgr.Token, nil), http.StatusNotFound)
		})

		t.Run("null on a field that is not nullable is a 422", func(t *testing.T) {
			e := e.with(t)
			l := e.createLead(e.mgr, map[string]any{"source": "manual", "messages_count": 4, "name": "Keep"})
			before := string(e.must(200, "GET", "/leads/"+l.ID, e.mgr.Token, nil).Body)
			for _, c := range []struct{ method, path, token, body, field string }{
				{"PATCH", "/leads/" + l.ID, e.admin.Token, `{"owner_id":null}`, "owner_id"},
				{"PATCH", "/leads/" + l.ID + "/messages", e.mgr.Token, `{"messages_count":null}`, "messages_count"},
				{"POST", "/leads", e.mgr.Token, `{"source":"manual","messages_count":null}`, "messages_count"},
				{"POST", "/leads", e.mgr.Token, `{"source":"manual","owner_id":null}`, "owner_id"},
				{"PATCH", "/users/" + e.mgr.ID, e.admin.Token, `{"active":null}`, "active"},
			} {
				p := problemOf(t, e.do(c.method, c.path, c.token, c.body), http.StatusUnprocessableEntity)
				if !p.hasField(c.field) {
					t.Errorf("%s %s %s: errors %v, want the field %s", c.method, c.path, c.body, p.Errors, c.field)
				}
			}
			// null where the contract allows it clears the field.
			res := e.must(200, "PATCH", "/leads/"+l.ID, e.mgr.Token, `{"name":null}`)
			var got struct{ Name string }
			res.decode(t, &got)
			if got.Name != "" {
				t.Errorf("name after null = %q, want cleared", got.Name)
			}
			e.must(200, "PATCH", "/leads/"+l.ID, e.mgr.Token, `{"name":"Keep"}`)
			if diff := cmp.Diff(before, string(e.must(200, "GET", "/leads/"+l.ID, e.mgr.Token, nil).Body)); diff != "" && !strings.Contains(diff, "updated_at") {
				t.Errorf("lead changed beyond updated_at:\n%s", diff)
			}
		})

		t.Run("409 invalid_transition", func(t *testing.T) {
			e := e.with(t)
			l := e.createLead(e.mgr, nil)
			for _, to := range []string{"qualified", "transferred", "new"} {
				p := problemOf(t, e.do("PATCH", "/leads/"+l.ID+"/stage", e.mgr.Token, map[string]any{"stage": to}), http.StatusConflict)
				if p.code() != "invalid_transition" {
					t.Errorf("new → %s: code %q, want invalid_transition", to, p.code())
				}
			}
			var got leadJSON
			e.must(200, "GET", "/leads/"+l.ID, e.mgr.Token, nil).decode(t, &got)
			if got.Stage != "new" {
				t.Errorf("stage %q after refused moves", got.Stage)
			}
			// Sales too: new → paid skips.
			el := e.eligibleLead(e.mgr, 0.7, "transfer_to_sales")
			var s saleJSON
			e.must(201, "POST", "/leads/"+el.ID+"/transfer", e.mgr.Token, nil).decode(t, &s)
			p := problemOf(t, e.do("PATCH", "/sales/"+s.ID+"/stage", e.mgr.Token, map[string]any{"stage": "paid"}), http.StatusConflict)
			if p.code() != "invalid_transition" {
				t.Errorf("sale new → paid: code %q", p.code())
			}
			// A transferred lead is closed.
			p = problemOf(t, e.do("PATCH", "/leads/"+el.ID+"/stage", e.mgr.Token, map[string]any{"stage": "lost"}), http.StatusConflict)
			if p.code() != "lead_closed" {
				t.Errorf("transferred → lost: code %q, want lead_closed", p.code())
			}
		})

		t.Run("409 transfer_blocked lists every blocker", func(t *testing.T) {
			e := e.with(t)
			l := e.createLead(e.mgr, nil)
			want := []string{"stage_not_qualified", "no_business_domain", "not_analyzed"}
			p := problemOf(t, e.do("POST", "/leads/"+l.ID+"/transfer", e.mgr.Token, nil), http.StatusConflict)
			if p.code() != "transfer_blocked" {
				t.Errorf("code %q, want transfer_blocked", p.code())
			}
			if diff := cmp.Diff(want, p.Blockers); diff != "" {
				t.Errorf("blockers (-want +got):\n%s", diff)
			}
			var check struct {
				Allowed  bool     `json:"allowed"`
				Blockers []string `json:"blockers"`
			}
			e.must(200, "GET", "/leads/"+l.ID+"/transfer-check", e.mgr.Token, nil).decode(t, &check)
			if check.Allowed || !cmp.Equal(check.Blockers, want) {
				t.Errorf("transfer-check = %+v, want blocked by %v", check, want)
			}
			problemOf(t, e.do("GET", "/leads/"+l.ID+"/sale", e.mgr.Token, nil), http.StatusNotFound)
		})

		t.Run("409 lead_closed on analyze of a lost lead", func(t *testing.T) {
			e := e.with(t)
			l := e.createLead(e.mgr, nil)
			e.must(200, "PATCH", "/leads/"+l.ID+"/stage", e.mgr.Token, map[string]any{"stage": "lost"})
			n := len(e.fake.Requests())
			p := problemOf(t, e.do("POST", "/leads/"+l.ID+"/analyze", e.mgr.Token, nil), http.StatusConflict)
			if p.code() != "lead_closed" {
				t.Errorf("code %q, want lead_closed", p.code())
			}
			if len(e.fake.Requests()) != n {
				t.Errorf("the AI was called for a lost lead")
			}
			for _, body := range []map[string]any{{"business_domain": "second"}} {
				p := problemOf(t, e.do("PATCH", "/leads/"+l.ID, e.mgr.Token, body), http.StatusConflict)
				if p.code() != "lead_closed" {
					t.Errorf("PATCH %v on a lost lead: code %q", body, p.code())
				}
			}
			p = problemOf(t, e.do("PATCH", "/leads/"+l.ID+"/messages", e.mgr.Token, map[string]any{"messages_count": 9}), http.StatusConflict)
			if p.code() != "lead_closed" {
				t.Errorf("messages on a lost lead: code %q", p.code())
			}
		})
	})
}

// TestTrailingSlash: /leads/ and /sales/ answer like /leads and /sales, with
// no redirect.
func TestTrailingSlash(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		el := e.eligibleLead(e.mgr, 0.9, "transfer_to_sales")
		e.must(201, "POST", "/leads/"+el.ID+"/transfer", e.mgr.Token, nil)

		var created leadJSON
		res := e.must(201, "POST", "/leads/", e.mgr.Token, map[string]any{"source": "scanner", "name": "Slashed"})
		res.decode(t, &created)
		if loc := res.Header.Get("Location"); loc != "" && !strings.HasPrefix(loc, "/leads/"+created.ID) {
			t.Errorf("Location %q", loc)
		}
		if created.Name != "Slashed" || created.Source != "scanner" {
			t.Errorf("created %+v: the body was lost", created)
		}
		for _, p := range [][2]string{{"/leads", "/leads/"}, {"/sales", "/sales/"}, {"/leads?limit=1", "/leads/?limit=1"}} {
			a := e.must(200, "GET", p[0], e.mgr.Token, nil)
			b := e.must(200, "GET", p[1], e.mgr.Token, nil)
			if b.Header.Get("Location") != "" {
				t.Errorf("GET %s: Location %q", p[1], b.Header.Get("Location"))
			}
			if diff := cmp.Diff(string(a.Body), string(b.Body)); diff != "" {
				t.Errorf("GET %s and %s differ:\n%s", p[0], p[1], diff)
			}
			if diff := cmp.Diff(a.Header.Get("Link"), b.Header.Get("Link")); diff != "" {
				t.Errorf("Link of %s and %s differ:\n%s", p[0], p[1], diff)
			}
		}
		var list []leadJSON
		e.must(200, "GET", "/leads/", e.mgr.Token, nil).decode(t, &list)
		if len(list) != 2 {
			t.Errorf("GET /leads/ listed %d leads, want 2", len(list))
		}
		// Unauthenticated, the slashed form is a 401 like the bare one, not a redirect.
		for _, p := range []string{"/leads/", "/sales/"} {
			res := e.do("GET", p, "", nil)
			if res.Status != 401 {
				t.Errorf("GET %s without a token: %s", p, res)
			}
		}
	})
}
