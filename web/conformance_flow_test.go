package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/crmleads/crm/ai/fakeclaude"
	"github.com/crmleads/crm/storetest"
)

// TestOpenAPIFlow drives every operation of the API through a whole working
// day — sign-in, leads from creation to transfer and loss, the AI's answers
// good and bad, sales, users, settings, the audit trail — including the error
// answers (401, 403, 404, 409 with blockers, 413, 415, 422, 429, 502, 503),
// and holds every request and every response against the served
// /openapi.json (see exchangeCheck). Requests sent invalid on purpose must be
// rejected by the description too.
func TestOpenAPIFlow(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.check.strict = true
		call := func(want int, method, path string, u user, body any) response {
			t.Helper()
			res := e.do(method, path, u.Token, body)
			if res.Status != want {
				t.Errorf("%s %s: got %s, want %d", method, path, res, want)
			}
			return res
		}
		// bad sends a request that breaks the description on purpose.
		bad := func(want int, why, method, path string, u user, body any, h http.Header) response {
			t.Helper()
			if h == nil {
				h = http.Header{}
			}
			h.Set(invalidHeader, why)
			res := doReq(t, e.srv, method, path, u.Token, body, h)
			if res.Status != want {
				t.Errorf("%s %s (%s): got %s, want %d", method, path, why, res, want)
			}
			return res
		}
		anonymous := user{}
		unknown := "0190a3b2-1c4d-7e5f-8a9b-0c1d2e3f4a5b"

		// Operations and sign-in.
		call(200, "GET", "/healthz", anonymous, nil)
		call(200, "GET", "/readyz", anonymous, nil)
		call(200, "POST", "/auth/login", anonymous, map[string]any{"email": e.mgr.Email, "password": password})
		bad(422, "password missing", "POST", "/auth/login", anonymous, map[string]any{"email": e.mgr.Email}, nil)
		for range 5 {
			call(401, "POST", "/auth/login", anonymous, map[string]any{"email": "nobody@example.com", "password": "wrong password!"})
		}
		call(429, "POST", "/auth/login", anonymous, map[string]any{"email": "nobody@example.com", "password": "wrong password!"})
		call(200, "GET", "/me", e.mgr, nil)
		bad(401, "no bearer token", "GET", "/me", anonymous, nil, nil)
		call(401, "GET", "/me", user{Token: "not-a-token"}, nil)

		// A lead with nothing but its source: every nullable field is null.
		var fresh leadJSON
		call(201, "POST", "/leads", e.mgr, map[string]any{"source": "scanner"}).decode(t, &fresh)
		var full leadJSON
		call(201, "POST", "/leads", e.mgr, map[string]any{"source": "partner", "business_domain": "first",
			"messages_count": 2, "name": "Olena Kovalenko", "email": "olena.k@example.org", "phone": "+380441234567",
			"company": "Kovalenko Logistics", "note": "met at the Lviv fair"}).decode(t, &full)
		call(201, "POST", "/leads/", e.senior, map[string]any{"source": "manual", "owner_id": e.other.ID})
		call(403, "POST", "/leads", e.mgr, map[string]any{"source": "manual", "owner_id": e.other.ID})
		call(422, "POST", "/leads", e.mgr, map[string]any{"source": "manual", "business_domain": "not in the catalog"})
		bad(422, "source outside the enum", "POST", "/leads", e.mgr, map[string]any{"source": "fax"}, nil)
		bad(422, "negative messages_count", "POST", "/leads", e.mgr, map[string]any{"source": "manual", "messages_count": -1}, nil)
		bad(422, "an undeclared field", "POST", "/leads", e.mgr, map[string]any{"source": "manual", "colour": "red"}, nil)
		bad(422, "source missing", "POST", "/leads", e.mgr, map[string]any{"name": "x"}, nil)
		bad(422, "messages_count of the wrong type", "POST", "/leads", e.mgr, map[string]any{"source": "manual", "messages_count": "2"}, nil)
		bad(422, "malformed JSON", "POST", "/leads", e.mgr, `{"source":`, nil)
		bad(415, "not JSON", "POST", "/leads", e.mgr, "source=manual", http.Header{"Content-Type": {"text/plain"}})
		bad(413, "a body over 1 MiB", "POST", "/leads", e.mgr, `{"source":"partner","note":"`+strings.Repeat("x", 1<<20+1)+`"}`, nil)

		res := call(200, "GET", "/leads?limit=1", e.senior, nil)
		m := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(res.Header.Get("Link"))
		if m == nil {
			t.Errorf("GET /leads?limit=1: Link %q, want a next page", res.Header.Get("Link"))
		} else {
			call(200, "GET", m[1], e.senior, nil)
		}
		call(200, "GET", "/leads/?stage=new&q=olena", e.mgr, nil)
		bad(422, "limit above 500", "GET", "/leads?limit=501", e.mgr, nil, nil)
		bad(422, "stage outside the enum", "GET", "/leads?stage=won", e.mgr, nil, nil)
		call(200, "GET", "/leads/"+fresh.ID, e.mgr, nil)
		call(404, "GET", "/leads/"+unknown, e.mgr, nil)
		call(404, "GET", "/leads/"+fresh.ID, e.other, nil) // not theirs

		// Edits; null clears where the description allows it.
		call(200, "PATCH", "/leads/"+full.ID, e.mgr, map[string]any{"name": "Olena K.", "business_domain": "second"})
		call(200, "PATCH", "/leads/"+full.ID, e.mgr, `{"phone":null,"business_domain":null}`)
		call(200, "PATCH", "/leads/"+full.ID, e.mgr, map[string]any{"business_domain": "second"})
		call(403, "PATCH", "/leads/"+full.ID, e.mgr, map[string]any{"owner_id": e.other.ID})
		call(200, "PATCH", "/leads/"+full.ID, e.senior, map[string]any{"owner_id": e.other.ID})
		call(200, "PATCH", "/leads/"+full.ID, e.senior, map[string]any{"owner_id": e.mgr.ID})
		bad(422, "owner_id null", "PATCH", "/leads/"+full.ID, e.senior, `{"owner_id":null}`, nil)
		bad(422, "no body", "PATCH", "/leads/"+full.ID, e.mgr, nil, nil)
		call(200, "PATCH", "/leads/"+full.ID+"/messages", e.mgr, map[string]any{"messages_count": 3})
		bad(422, "negative count", "PATCH", "/leads/"+full.ID+"/messages", e.mgr, map[string]any{"messages_count": -1}, nil)
		call(200, "PATCH", "/leads/"+full.ID+"/stage", e.mgr, map[string]any{"stage": "contacted"})
		call(409, "PATCH", "/leads/"+full.ID+"/stage", e.mgr, map[string]any{"stage": "new"})
		bad(422, "stage outside the enum", "PATCH", "/leads/"+full.ID+"/stage", e.mgr, map[string]any{"stage": "won"}, nil)
		call(200, "PATCH", "/leads/"+full.ID+"/stage", e.mgr, map[string]any{"stage": "qualified"})

		// Transfer refused, with every unmet condition.
		call(200, "GET", "/leads/"+fresh.ID+"/transfer-check", e.mgr, nil)
		p := problemOf(t, call(409, "POST", "/leads/"+fresh.ID+"/transfer", e.mgr, nil), http.StatusConflict)
		if p.code() != "transfer_blocked" || len(p.Blockers) < 2 {
			t.Errorf("transfer of a new lead: code %q blockers %v", p.code(), p.Blockers)
		}

		// The AI: a bad answer, an outage, then a good answer.
		e.fake.Enqueue(fakeclaude.Text(`{"score": 1.7, "recommendation": "transfer_to_sales", "reason": "too sure"}`))
		call(502, "POST", "/leads/"+full.ID+"/analyze", e.mgr, nil)
		e.fake.SetDefault(func(fakeclaude.Request) fakeclaude.Response { return fakeclaude.Error(529) })
		call(503, "POST", "/leads/"+full.ID+"/analyze", e.mgr, nil)
		e.fake.SetDefault(nil)
		call(404, "POST", "/leads/"+unknown+"/analyze", e.mgr, nil)
		e.fake.Enqueue(fakeclaude.Text(answer(0.8, "transfer_to_sales")))
		call(200, "POST", "/leads/"+full.ID+"/analyze", e.mgr, nil)
		call(200, "GET", "/leads/"+full.ID+"/analyses", e.mgr, nil) // rows with and without a score
		call(200, "GET", "/leads/"+full.ID, e.mgr, nil)

		// Transfer, and what a closed lead answers.
		call(200, "GET", "/leads/"+full.ID+"/transfer-check", e.mgr, nil)
		call(404, "GET", "/leads/"+full.ID+"/sale", e.mgr, nil)
		var sale saleJSON
		call(201, "POST", "/leads/"+full.ID+"/transfer", e.mgr, nil).decode(t, &sale)
		call(409, "POST", "/leads/"+full.ID+"/transfer", e.mgr, nil)
		call(409, "PATCH", "/leads/"+full.ID+"/messages", e.mgr, map[string]any{"messages_count": 9})
		call(409, "POST", "/leads/"+full.ID+"/analyze", e.mgr, nil)
		call(200, "GET", "/leads/"+full.ID+"/transfer-check", e.mgr, nil)
		call(200, "GET", "/leads/"+full.ID+"/sale", e.mgr, nil)
		call(200, "GET", "/leads/"+full.ID+"/events", e.mgr, nil)
		call(404, "GET", "/leads/"+unknown+"/events", e.mgr, nil)
		call(200, "PATCH", "/leads/"+fresh.ID+"/stage", e.mgr, map[string]any{"stage": "lost"})
		call(200, "GET", "/leads/"+fresh.ID+"/transfer-check", e.mgr, nil)
		call(200, "GET", "/leads/"+fresh.ID, e.mgr, nil)

		// Sales.
		call(200, "GET", "/sales", e.mgr, nil)
		call(200, "GET", "/sales/?stage=new&owner_id="+e.mgr.ID, e.senior, nil)
		bad(422, "stage outside the enum", "GET", "/sales?stage=won", e.mgr, nil, nil)
		call(200, "GET", "/sales/"+sale.ID, e.mgr, nil)
		call(404, "GET", "/sales/"+sale.ID, e.other, nil)
		call(409, "PATCH", "/sales/"+sale.ID+"/stage", e.mgr, map[string]any{"stage": "paid"})
		bad(422, "stage outside the enum", "PATCH", "/sales/"+sale.ID+"/stage", e.mgr, map[string]any{"stage": "won"}, nil)
		call(200, "PATCH", "/sales/"+sale.ID+"/stage", e.mgr, map[string]any{"stage": "kyc"})

		// Users.
		call(403, "GET", "/users", e.mgr, nil)
		call(200, "GET", "/users", e.admin, nil)
		var created struct {
			ID string `json:"id"`
		}
		newUser := map[string]any{"email": "new@example.com", "name": "New", "role": "manager", "password": "long enough password"}
		call(201, "POST", "/users", e.admin, newUser).decode(t, &created)
		call(409, "POST", "/users", e.admin, newUser)
		call(403, "POST", "/users", e.mgr, map[string]any{"email": "x@example.com", "role": "manager", "password": "long enough password"})
		bad(422, "password too short", "POST", "/users", e.admin, map[string]any{"email": "y@example.com", "role": "manager", "password": "short"}, nil)
		call(200, "PATCH", "/users/"+created.ID, e.admin, map[string]any{"name": "Renamed", "role": "senior_manager"})
		call(200, "PATCH", "/users/"+created.ID, e.admin, map[string]any{"active": false})
		call(403, "PATCH", "/users/"+created.ID, e.mgr, map[string]any{"active": true})
		call(404, "PATCH", "/users/"+unknown, e.admin, map[string]any{"name": "x"})
		call(409, "PATCH", "/users/"+e.admin.ID, e.admin, map[string]any{"role": "manager"})
		bad(422, "role outside the enum", "PATCH", "/users/"+created.ID, e.admin, map[string]any{"role": "owner"}, nil)

		// Settings.
		call(200, "GET", "/settings", e.mgr, nil)
		call(200, "PATCH", "/settings", e.admin, map[string]any{"business_domains": []string{"first", "second", "fourth"}})
		call(403, "PATCH", "/settings", e.mgr, map[string]any{"business_domains": []string{"first"}})
		call(422, "PATCH", "/settings", e.admin, map[string]any{"business_domains": []string{"first", "first"}})
		bad(422, "an empty catalog", "PATCH", "/settings", e.admin, map[string]any{"business_domains": []string{}}, nil)
		bad(422, "a null catalog", "PATCH", "/settings", e.admin, `{"business_domains":null}`, nil)
		call(200, "PATCH", "/settings", e.admin, map[string]any{"transfer_gate": "calibrated"})
		call(200, "PATCH", "/settings", e.admin, map[string]any{"transfer_gate": "raw"})
		bad(422, "gate outside the enum", "PATCH", "/settings", e.admin, map[string]any{"transfer_gate": "cooked"}, nil)

		// The feedback loop's reports, after the day's outcomes.
		call(200, "GET", "/ai/quality", e.senior, nil)
		call(200, "GET", "/ai/quality?prompt_version=v1&from=2020-01-01T00:00:00Z&to=2999-01-01T00:00:00Z", e.admin, nil)
		call(403, "GET", "/ai/quality", e.mgr, nil)
		bad(422, "from is not a time", "GET", "/ai/quality?from=yesterday", e.admin, nil, nil)
		call(200, "GET", "/ai/costs", e.senior, nil)
		call(200, "GET", "/ai/costs?from=2020-01-01T00:00:00Z", e.admin, nil)
		call(403, "GET", "/ai/costs", e.mgr, nil)
		bad(422, "to is not a time", "GET", "/ai/costs?to=soon", e.admin, nil, nil)

		// Batch re-analyses: started, read, listed (the job is not run here:
		// the batch stays queued).
		var batch struct {
			ID string `json:"id"`
		}
		call(202, "POST", "/ai/batches", e.senior, map[string]any{"stage": "qualified", "source": "partner", "owner_id": e.mgr.ID, "limit": 10}).decode(t, &batch)
		call(202, "POST", "/ai/batches", e.admin, map[string]any{})
		call(403, "POST", "/ai/batches", e.mgr, map[string]any{})
		bad(422, "a closed stage", "POST", "/ai/batches", e.admin, map[string]any{"stage": "lost"}, nil)
		bad(422, "a limit too large", "POST", "/ai/batches", e.admin, map[string]any{"limit": 10001}, nil)
		call(200, "GET", "/ai/batches/"+batch.ID, e.senior, nil)
		call(404, "GET", "/ai/batches/"+unknown, e.admin, nil)
		call(403, "GET", "/ai/batches/"+batch.ID, e.mgr, nil)
		call(200, "GET", "/ai/batches", e.admin, nil)
		call(403, "GET", "/ai/batches", e.mgr, nil)

		// The audit trail: events about leads, sales, users and settings.
		call(200, "GET", "/audit", e.senior, nil)
		call(200, "GET", "/audit?action=lead.transferred&limit=2&since=2020-01-01T00:00:00Z", e.admin, nil)
		call(403, "GET", "/audit", e.mgr, nil)
		bad(422, "since is not a time", "GET", "/audit?since=yesterday", e.admin, nil, nil)

		// The day's work: tasks, the conversation, a deal's value, the boards,
		// duplicates, lost reasons, sorting, bulk actions, saved filters,
		// notifications and one's own password.
		work := e.createLead(e.mgr, map[string]any{"source": "manual", "name": "Day Work", "email": "day.work@example.org"})
		var task struct {
			ID string `json:"id"`
		}
		call(201, "POST", "/leads/"+work.ID+"/tasks", e.mgr, map[string]any{"title": "Call back", "due_at": "2030-01-02T10:00:00Z"}).decode(t, &task)
		call(404, "POST", "/leads/"+work.ID+"/tasks", e.other, map[string]any{"title": "Not mine", "due_at": "2030-01-02T10:00:00Z"})
		call(422, "POST", "/leads/"+work.ID+"/tasks", e.senior, map[string]any{"title": "For another", "due_at": "2030-01-02T10:00:00Z", "assignee_id": e.other.ID})
		bad(422, "due_at is not a time", "POST", "/leads/"+work.ID+"/tasks", e.mgr, map[string]any{"title": "x", "due_at": "tomorrow"}, nil)
		call(200, "GET", "/leads/"+work.ID+"/tasks", e.mgr, nil)
		call(200, "GET", "/tasks?done=false&due_before=2031-01-01T00:00:00Z", e.mgr, nil)
		bad(422, "done is not a boolean", "GET", "/tasks?done=maybe", e.mgr, nil, nil)
		call(200, "PATCH", "/tasks/"+task.ID, e.mgr, map[string]any{"done": true})
		call(404, "PATCH", "/tasks/"+task.ID, e.other, map[string]any{"done": false})
		call(204, "DELETE", "/tasks/"+task.ID, e.mgr, nil)
		call(404, "DELETE", "/tasks/"+task.ID, e.mgr, nil)
		call(201, "POST", "/leads/"+work.ID+"/activities", e.mgr, map[string]any{"kind": "call", "text": "Talked prices"})
		call(201, "POST", "/leads/"+fresh.ID+"/activities", e.mgr, map[string]any{"kind": "note", "text": "Lost, but call in spring", "at": "2026-01-02T10:00:00Z"})
		call(409, "POST", "/leads/"+fresh.ID+"/activities", e.mgr, map[string]any{"kind": "email"})
		bad(422, "kind outside the enum", "POST", "/leads/"+work.ID+"/activities", e.mgr, map[string]any{"kind": "fax"}, nil)
		call(200, "GET", "/leads/"+work.ID+"/activities", e.mgr, nil)
		call(404, "GET", "/leads/"+work.ID+"/activities", e.other, nil)
		dup := problemOf(t, call(409, "POST", "/leads", e.mgr, map[string]any{"source": "manual", "email": "Day.Work@example.org"}), http.StatusConflict)
		if dup.code() != "possible_duplicate" {
			t.Errorf("duplicate: code %q", dup.code())
		}
		call(201, "POST", "/leads?allow_duplicate=true", e.mgr, map[string]any{"source": "manual", "email": "Day.Work@example.org"})
		call(200, "PATCH", "/leads/"+work.ID+"/stage", e.mgr, map[string]any{"stage": "lost", "lost_reason": "No budget"})
		bad(422, "lost_reason over 500 characters", "PATCH", "/leads/"+work.ID+"/stage", e.mgr, map[string]any{"stage": "lost", "lost_reason": strings.Repeat("x", 501)}, nil)
		call(200, "GET", "/reports/lost-reasons", e.mgr, nil)
		worth := e.eligibleLead(e.mgr, 0.8, "transfer_to_sales")
		bad(422, "amount as a JSON number", "POST", "/leads/"+worth.ID+"/transfer", e.mgr, map[string]any{"amount": 1250}, nil)
		call(422, "POST", "/leads/"+worth.ID+"/transfer", e.mgr, map[string]any{"amount": "1250.00", "currency": "XYZ"})
		var valued saleJSON
		call(201, "POST", "/leads/"+worth.ID+"/transfer", e.mgr, map[string]any{"amount": "1250.00", "currency": "EUR"}).decode(t, &valued)
		call(200, "PATCH", "/sales/"+valued.ID, e.mgr, map[string]any{"amount": "1300.50"})
		call(404, "PATCH", "/sales/"+valued.ID, e.other, map[string]any{"amount": "1"})
		bad(422, "amount as a JSON number", "PATCH", "/sales/"+valued.ID, e.mgr, map[string]any{"amount": 1}, nil)
		call(200, "GET", "/sales/summary", e.mgr, nil)
		call(200, "GET", "/leads/summary", e.mgr, nil)
		call(200, "GET", "/sales?sort=-amount&limit=1", e.mgr, nil)
		call(200, "GET", "/sales/export?sort=-amount&bom=true", e.mgr, nil)
		call(200, "GET", "/leads/export?sort=name&sep=semicolon", e.mgr, nil)
		call(422, "GET", "/leads/export?sort=nonsense", e.mgr, nil)
		call(422, "GET", "/sales/export?sort=nonsense", e.mgr, nil)
		res = call(200, "GET", "/leads?sort=-messages_count&limit=1", e.senior, nil)
		if m := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(res.Header.Get("Link")); m != nil {
			call(200, "GET", m[1], e.senior, nil)
		} else {
			t.Errorf("sorted GET /leads?limit=1: no next page")
		}
		call(422, "GET", "/leads?sort=password", e.mgr, nil)
		call(200, "GET", "/leads?no_next_step=true", e.mgr, nil)
		var bulk struct {
			Results []struct {
				ID     string `json:"id"`
				Status int    `json:"status"`
			} `json:"results"`
		}
		call(200, "POST", "/leads/bulk", e.senior, map[string]any{"ids": []string{full.ID, unknown}, "action": "reassign", "owner_id": e.mgr.ID}).decode(t, &bulk)
		if len(bulk.Results) != 2 || bulk.Results[1].Status != 404 {
			t.Errorf("bulk results = %+v", bulk.Results)
		}
		call(403, "POST", "/leads/bulk", e.mgr, map[string]any{"ids": []string{full.ID}, "action": "advance"})
		bad(422, "action outside the enum", "POST", "/leads/bulk", e.senior, map[string]any{"ids": []string{full.ID}, "action": "delete"}, nil)
		var filter struct {
			ID string `json:"id"`
		}
		call(201, "POST", "/me/filters", e.mgr, map[string]any{"name": "Qualified partners", "query": "stage=qualified&source=partner"}).decode(t, &filter)
		call(422, "POST", "/me/filters", e.mgr, map[string]any{"name": "Bad", "query": "password=x"})
		call(200, "GET", "/me/filters", e.mgr, nil)
		call(404, "DELETE", "/me/filters/"+filter.ID, e.other, nil)
		call(204, "DELETE", "/me/filters/"+filter.ID, e.mgr, nil)
		call(200, "GET", "/notifications?unread=true", e.mgr, nil)
		call(204, "POST", "/notifications/read", e.mgr, map[string]any{"ids": []string{unknown}})
		call(204, "POST", "/notifications/read", e.mgr, nil)
		call(200, "PATCH", "/settings/pipeline", e.admin, map[string]any{"default_currency": "EUR", "lost_reasons": []string{"No budget", "Timing"}})
		call(422, "PATCH", "/settings/pipeline", e.admin, map[string]any{"default_currency": "XYZ"})
		call(403, "PATCH", "/settings/pipeline", e.mgr, map[string]any{"default_currency": "EUR"})
		call(403, "POST", "/me/password", e.senior, map[string]any{"current_password": "not the password", "new_password": "a new long password"})
		bad(422, "new password too short", "POST", "/me/password", e.senior, map[string]any{"current_password": password, "new_password": "short"}, nil)
		call(204, "POST", "/me/password", e.senior, map[string]any{"current_password": password, "new_password": "a new long password"})
		call(401, "GET", "/me", e.senior, nil)

		// CSV import: upload, preview, mapping, commit; a second one cancelled.
		csvBody := http.Header{"Content-Type": {"text/csv"}}
		upload := func(want int, query, file string) string {
			t.Helper()
			res := doReq(t, e.srv, "POST", "/imports"+query, e.mgr.Token, file, csvBody)
			if res.Status != want {
				t.Errorf("POST /imports%s: got %s, want %d", query, res, want)
			}
			var im struct {
				ID string `json:"id"`
			}
			if want == 202 {
				res.decode(t, &im)
				storetest.DriveImport(t, e.svc, e.store, im.ID)
			}
			return im.ID
		}
		imp := upload(202, "?source=manual&file_name=flow.csv", "name,email\nFlow Import,flow-import@example.com\n")
		call(200, "GET", "/imports", e.mgr, nil)
		call(200, "GET", "/imports/"+imp, e.mgr, nil)
		call(404, "GET", "/imports/"+unknown, e.mgr, nil)
		call(200, "PUT", "/imports/"+imp+"/mapping", e.mgr, map[string]any{"mapping": []map[string]any{
			{"column": 1, "field": "name"}, {"column": 2, "field": "email"}}})
		storetest.DriveImport(t, e.svc, e.store, imp)
		call(202, "POST", "/imports/"+imp+"/commit", e.mgr, nil)
		call(409, "POST", "/imports/"+imp+"/commit", e.mgr, nil)
		storetest.DriveImport(t, e.svc, e.store, imp)
		call(409, "POST", "/imports/"+imp+"/cancel", e.mgr, nil)
		upload(422, "", "name,email\n\"unclosed\n")
		upload(403, "?owner_id="+e.other.ID, "name\nx\n")
		call(200, "POST", "/imports/"+upload(202, "?source=partner", "name\nCancelled\n")+"/cancel", e.mgr, nil)
		bad(415, "JSON is not a CSV body", "POST", "/imports", e.mgr, map[string]any{"name": "x"}, nil)

		// Webhooks (admins only).
		var hook struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}
		call(201, "POST", "/webhooks", e.admin, map[string]any{"url": "https://hooks.example.com/crm",
			"events": []string{"lead.transferred", "sale.paid"}, "description": "ERP", "include_contacts": true}).decode(t, &hook)
		if !strings.HasPrefix(hook.Secret, "whsec_") {
			t.Errorf("POST /webhooks: secret %q, want whsec_…", hook.Secret)
		}
		call(201, "POST", "/webhooks", e.admin, map[string]any{"kind": "telegram", "telegram_bot_token": "123456:" + strings.Repeat("A", 35),
			"telegram_chat_id": -1001234567890, "events": []string{"sale.paid"}, "language": "uk"})
		call(201, "POST", "/webhooks", e.admin, map[string]any{"kind": "telegram", "telegram_bot_token": "123456:" + strings.Repeat("B", 35),
			"telegram_chat_id": "@crm_sales", "events": []string{"lead.lost"}})
		call(422, "POST", "/webhooks", e.admin, map[string]any{"url": "http://hooks.example.com", "events": []string{"sale.paid"}})
		call(422, "POST", "/webhooks", e.admin, map[string]any{"url": "https://hooks.example.com", "events": []string{"lead.created"}})
		call(422, "POST", "/webhooks", e.admin, map[string]any{"url": "https://hooks.example.com", "events": []string{}})
		bad(422, "kind outside the enum", "POST", "/webhooks", e.admin, map[string]any{"kind": "email", "events": []string{"sale.paid"}}, nil)
		call(403, "POST", "/webhooks", e.mgr, map[string]any{"url": "https://hooks.example.com", "events": []string{"sale.paid"}})
		listed := call(200, "GET", "/webhooks", e.admin, nil)
		if strings.Contains(string(listed.Body), "whsec_") || strings.Contains(string(listed.Body), "AAAAAAAA") {
			t.Errorf("GET /webhooks shows a secret or a bot token: %s", listed.Body)
		}
		call(403, "GET", "/webhooks", e.mgr, nil)
		call(200, "GET", "/webhooks/"+hook.ID, e.admin, nil)
		call(404, "GET", "/webhooks/"+unknown, e.admin, nil)
		call(200, "PATCH", "/webhooks/"+hook.ID, e.admin, map[string]any{"description": "ERP sync", "events": []string{"lead.transferred"}})
		call(422, "PATCH", "/webhooks/"+hook.ID, e.admin, map[string]any{"url": "ftp://x.example.com"})
		var delivery struct {
			ID      string `json:"id"`
			EventID string `json:"event_id"`
		}
		call(202, "POST", "/webhooks/"+hook.ID+"/test", e.admin, nil).decode(t, &delivery)
		call(200, "POST", "/webhooks/"+hook.ID+"/rotate-secret", e.admin, nil)
		call(200, "GET", "/webhooks/"+hook.ID+"/deliveries?limit=1", e.admin, nil)
		call(404, "GET", "/webhooks/"+unknown+"/deliveries", e.admin, nil)
		var replayed struct {
			EventID string `json:"event_id"`
			Run     int    `json:"run"`
		}
		call(202, "POST", "/webhooks/"+hook.ID+"/deliveries/"+delivery.ID+"/replay", e.admin, nil).decode(t, &replayed)
		if replayed.EventID != delivery.EventID || replayed.Run != 2 {
			t.Errorf("replay: event %s run %d, want event %s run 2", replayed.EventID, replayed.Run, delivery.EventID)
		}
		call(404, "POST", "/webhooks/"+hook.ID+"/deliveries/"+unknown+"/replay", e.admin, nil)
		call(200, "PATCH", "/webhooks/"+hook.ID, e.admin, map[string]any{"enabled": false})
		call(409, "POST", "/webhooks/"+hook.ID+"/test", e.admin, nil)
		call(204, "DELETE", "/webhooks/"+hook.ID, e.admin, nil)
		call(404, "DELETE", "/webhooks/"+hook.ID, e.admin, nil)

		// Sign out everywhere: the token used, and every older one, stop working.
		call(204, "POST", "/me/logout-all", e.other, nil)
		call(401, "GET", "/me", e.other, nil)
		bad(401, "no bearer token", "POST", "/me/logout-all", anonymous, nil, nil)

		// Every operation was exercised, and each kind of error answer.
		e.check.mu.Lock()
		defer e.check.mu.Unlock()
		for _, op := range routes {
			if !e.check.ops[op] {
				t.Errorf("the flow never called %s", op)
			}
		}
		for _, want := range []string{"GET /me 401", "POST /leads 403", "GET /leads/{id} 404",
			"POST /leads/{id}/transfer 409", "POST /leads 413", "POST /leads 415", "POST /leads 422",
			"POST /auth/login 429", "POST /leads/{id}/analyze 502", "POST /leads/{id}/analyze 503"} {
			if !e.check.statuses[want] {
				t.Errorf("the flow never saw %s", want)
			}
		}
		t.Logf("%s: %d exchanges held against /openapi.json (%d operations, %d operation×status pairs)",
			kind, e.check.exchanges, len(e.check.ops), len(e.check.statuses))
	})
}
