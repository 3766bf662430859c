package web_test

// The role × endpoint matrix as implemented (statuses asserted by TestRoleMatrix;
// "+" in a list means the fixture lead or sale is in the list, "−" that it is not):
//
//	endpoint                           anonymous  bad token  manager (owner)  other manager  senior_manager  admin
//	POST /leads                        401        401        201              201            201             201
//	POST /leads {owner_id: another}    401        401        403              403            201             201
//	GET /leads                         401        401        200 +            200 −          200 +           200 +
//	GET /leads/export                  401        401        200 +            200 −          200 +           200 +
//	GET /leads/{id}                    401        401        200              404            200             200
//	POST /imports (text/csv)           401        401        202              202            202             202
//	POST /imports?owner_id=another     401        401        403              403            202             202
//	GET /imports                       401        401        200 +            200 −          200 +           200 +
//	GET /imports/{id}                  401        401        200              404            200             200
//	PUT /imports/{id}/mapping          401        401        200              404            200             200
//	POST /imports/{id}/commit          401        401        202              404            202             202
//	POST /imports/{id}/cancel          401        401        200              404            200             200
//	PATCH /leads/{id} {name}           401        401        200              404            200             200
//	PATCH /leads/{id} {owner_id}       401        401        403              404            200             200
//	PATCH /leads/{id}/messages         401        401        200              404            200             200
//	PATCH /leads/{id}/stage            401        401        200              404            200             200
//	GET /leads/{id}/transfer-check     401        401        200              404            200             200
//	POST /leads/{id}/transfer          401        401        201              404            201             201
//	GET /leads/{id}/sale               401        401        200              404            200             200
//	GET /leads/{id}/events             401        401        200              404            200             200
//	POST /leads/{id}/analyze           401        401        200              404            200             200
//	GET /leads/{id}/analyses           401        401        200              404            200             200
//	GET /ai/quality                    401        401        403              403            200             200
//	GET /ai/costs                      401        401        403              403            200             200
//	POST /ai/batches                   401        401        403              403            202             202
//	GET /ai/batches                    401        401        403              403            200 +           200 +
//	GET /ai/batches/{id}               401        401        403              403            200             200
//	GET /sales                         401        401        200 +            200 −          200 +           200 +
//	GET /sales/export                  401        401        200 +            200 −          200 +           200 +
//	GET /sales/{id}                    401        401        200              404            200             200
//	PATCH /sales/{id}/stage            401        401        200              404            200             200
//	GET /leads/summary                 401        401        200              200            200             200
//	POST /leads/bulk {advance}         401        401        403              403            200             200
//	POST /leads/{id}/tasks             401        401        201              404            201             201
//	GET /leads/{id}/tasks              401        401        200              404            200             200
//	POST /leads/{id}/activities        401        401        201              404            201             201
//	GET /leads/{id}/activities         401        401        200              404            200             200
//	GET /tasks                         401        401        200 +            200 −          200 +           200 +
//	PATCH /tasks/{id}                  401        401        200              404            200             200
//	DELETE /tasks/{id}                 401        401        204              404            204             204
//	GET /sales/summary                 401        401        200              200            200             200
//	PATCH /sales/{id} {amount}         401        401        200              404            200             200
//	GET /reports/lost-reasons          401        401        200              200            200             200
//	GET /notifications                 401        401        200 +            200 −          200 −           200 −
//	POST /notifications/read           401        401        204              204            204             204
//	GET /me/filters                    401        401        200 +            200 −          200 −           200 −
//	POST /me/filters                   401        401        201              201            201             201
//	DELETE /me/filters/{id}            401        401        204              404            404             404
//	POST /me/password {wrong current}  401        401        403              403            403             403
//	PATCH /settings/pipeline           401        401        403              403            403             200
//	GET /me                            401        401        200              200            200             200
//	GET /users                         401        401        403              403            403             200
//	POST /users                        401        401        403              403            403             201
//	PATCH /users/{id}                  401        401        403              403            403             200
//	GET /audit                         401        401        403              403            200             200
//	GET /settings                      401        401        200              200            200             200
//	PATCH /settings                    401        401        403              403            403             200
//	PATCH /settings {transfer_gate}    401        401        403              403            403             200
//	POST /webhooks                     401        401        403              403            403             201
//	GET /webhooks                      401        401        403              403            403             200
//	GET /webhooks/{id}                 401        401        403              403            403             200
//	PATCH /webhooks/{id}               401        401        403              403            403             200
//	DELETE /webhooks/{id}              401        401        403              403            403             204
//	POST /webhooks/{id}/test           401        401        403              403            403             202
//	POST /webhooks/{id}/rotate-secret  401        401        403              403            403             200
//	GET /webhooks/{id}/deliveries      401        401        403              403            403             200
//	POST …/deliveries/{d}/replay       401        401        403              403            403             202
//	GET /healthz                       200        200        200              200            200             200
//	GET /readyz                        200        200        200              200            200             200
//	GET /openapi.json                  200        200        200              200            200             200
//	GET /docs                          200        200        200              200            200             200
//	POST /auth/login                   200        200        200              200            200             200
//
// Every 401 carries WWW-Authenticate: Bearer. "bad token" is a well-formed
// HS256 token signed with another key. The fixture lead and sale belong to
// "manager (owner)"; "another" owner is a third manager.

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmleads/crm/auth"
	"github.com/crmleads/crm/storetest"
)

func withoutRequestID(t *testing.T, r response) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	delete(m, "request_id")
	return m
}

type role int

const (
	anonymous role = iota
	badToken
	owner
	otherManager
	senior
	admin
	nRoles
)

var roleNames = [nRoles]string{"anonymous", "bad_token", "owner", "other_manager", "senior_manager", "admin"}

// fixture is what one cell of the matrix works on: fresh for every cell, so
// that a change made by one role never decides the status of another.
type fixture struct {
	lead, sale string // sale is set when the row needs one (lead is then its transferred lead)
	target     string // a third manager: reassignment target and user to edit
	// Set when the row needs them: a task on the lead, a filter saved by the
	// owner, a notification to the owner.
	task, filter, notification string
	// A webhook subscription and one of its deliveries (a test event).
	webhook, delivery string
	// A batch re-analysis a senior manager started.
	batch string
	// An import of the owner's, previewed (ready).
	imp string
}

type matrixRow struct {
	name   string
	method string
	path   func(f fixture) string // "{lead}" etc. filled from the fixture
	body   func(e *env, f fixture, r role) any
	need   string      // "", "eligible" (qualified, analyzed lead), "sale", "task", "filter", "notification" or "import"
	header http.Header // request headers beside the token (a CSV body's Content-Type)
	want   [nRoles]int
	// listed, for list endpoints: whether the fixture must be in the answer,
	// per authenticated role.
	listed func(f fixture) string
	in     [nRoles]bool
}

func fixed(p string) func(fixture) string { return func(fixture) string { return p } }

func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	const (
		u = http.StatusUnauthorized
		f = http.StatusForbidden
		n = http.StatusNotFound
	)
	lead := func(suffix string) func(fixture) string {
		return func(f fixture) string { return "/leads/" + f.lead + suffix }
	}
	sale := func(suffix string) func(fixture) string {
		return func(f fixture) string { return "/sales/" + f.sale + suffix }
	}
	static := func(v any) func(*env, fixture, role) any { return func(*env, fixture, role) any { return v } }
	imp := func(suffix string) func(fixture) string {
		return func(f fixture) string { return "/imports/" + f.imp + suffix }
	}
	hook := func(suffix string) func(fixture) string {
		return func(f fixture) string { return "/webhooks/" + f.webhook + suffix }
	}
	rows := []matrixRow{
		{name: "create lead", method: "POST", path: fixed("/leads"), body: static(map[string]any{"source": "manual"}),
			want: [nRoles]int{u, u, 201, 201, 201, 201}},
		{name: "create lead for another owner", method: "POST", path: fixed("/leads"),
			body: func(_ *env, f fixture, _ role) any { return map[string]any{"source": "manual", "owner_id": f.target} },
			want: [nRoles]int{u, u, f, f, 201, 201}},
		{name: "list leads", method: "GET", path: fixed("/leads?limit=500"), want: [nRoles]int{u, u, 200, 200, 200, 200},
			listed: func(f fixture) string { return f.lead }, in: [nRoles]bool{owner: true, senior: true, admin: true}},
		{name: "export leads", method: "GET", path: fixed("/leads/export"), want: [nRoles]int{u, u, 200, 200, 200, 200},
			listed: func(f fixture) string { return f.lead }, in: [nRoles]bool{owner: true, senior: true, admin: true}},
		{name: "get lead", method: "GET", path: lead(""), want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "upload import", method: "POST", path: fixed("/imports"), body: static("source,name\nmanual,Matrix\n"),
			header: csvHeader, want: [nRoles]int{u, u, 202, 202, 202, 202}},
		{name: "upload import for another owner", method: "POST",
			path: func(f fixture) string { return "/imports?owner_id=" + f.target }, body: static("source,name\nmanual,Matrix\n"),
			header: csvHeader, want: [nRoles]int{u, u, f, f, 202, 202}},
		{name: "list imports", method: "GET", path: fixed("/imports"), need: "import", want: [nRoles]int{u, u, 200, 200, 200, 200},
			listed: func(f fixture) string { return f.imp }, in: [nRoles]bool{owner: true, senior: true, admin: true}},
		{name: "get import", method: "GET", path: imp(""), need: "import", want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "map import", method: "PUT", path: imp("/mapping"), need: "import",
			body: static(map[string]any{"mapping": []map[string]any{{"column": 1, "field": "source"}}}),
			want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "commit import", method: "POST", path: imp("/commit"), need: "import", want: [nRoles]int{u, u, 202, n, 202, 202}},
		{name: "cancel import", method: "POST", path: imp("/cancel"), need: "import", want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "edit lead", method: "PATCH", path: lead(""), body: static(map[string]any{"name": "Renamed"}),
			want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "reassign lead", method: "PATCH", path: lead(""),
			body: func(_ *env, f fixture, _ role) any { return map[string]any{"owner_id": f.target} },
			want: [nRoles]int{u, u, f, n, 200, 200}},
		{name: "set messages", method: "PATCH", path: lead("/messages"), body: static(map[string]any{"messages_count": 5}),
			want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "move lead", method: "PATCH", path: lead("/stage"), body: static(map[string]any{"stage": "contacted"}),
			want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "transfer check", method: "GET", path: lead("/transfer-check"), want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "transfer", method: "POST", path: lead("/transfer"), need: "eligible",
			want: [nRoles]int{u, u, 201, n, 201, 201}},
		{name: "lead sale", method: "GET", path: lead("/sale"), need: "sale", want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "lead events", method: "GET", path: lead("/events"), want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "analyze", method: "POST", path: lead("/analyze"), want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "analyses", method: "GET", path: lead("/analyses"), want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "ai quality", method: "GET", path: fixed("/ai/quality"), want: [nRoles]int{u, u, f, f, 200, 200}},
		{name: "ai costs", method: "GET", path: fixed("/ai/costs"), want: [nRoles]int{u, u, f, f, 200, 200}},
		{name: "start batch", method: "POST", path: fixed("/ai/batches"), body: static(map[string]any{"limit": 1}),
			want: [nRoles]int{u, u, f, f, 202, 202}},
		{name: "list batches", method: "GET", path: fixed("/ai/batches"), need: "batch", want: [nRoles]int{u, u, f, f, 200, 200},
			listed: func(f fixture) string { return f.batch }, in: [nRoles]bool{senior: true, admin: true}},
		{name: "get batch", method: "GET", path: func(f fixture) string { return "/ai/batches/" + f.batch }, need: "batch",
			want: [nRoles]int{u, u, f, f, 200, 200}},
		{name: "list sales", method: "GET", path: fixed("/sales?limit=500"), need: "sale", want: [nRoles]int{u, u, 200, 200, 200, 200},
			listed: func(f fixture) string { return f.sale }, in: [nRoles]bool{owner: true, senior: true, admin: true}},
		{name: "export sales", method: "GET", path: fixed("/sales/export"), need: "sale", want: [nRoles]int{u, u, 200, 200, 200, 200},
			listed: func(f fixture) string { return f.sale }, in: [nRoles]bool{owner: true, senior: true, admin: true}},
		{name: "get sale", method: "GET", path: sale(""), need: "sale", want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "move sale", method: "PATCH", path: sale("/stage"), need: "sale", body: static(map[string]any{"stage": "kyc"}),
			want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "lead board", method: "GET", path: fixed("/leads/summary"), want: [nRoles]int{u, u, 200, 200, 200, 200}},
		{name: "bulk advance", method: "POST", path: fixed("/leads/bulk"),
			body: func(_ *env, f fixture, _ role) any {
				return map[string]any{"ids": []string{f.lead}, "action": "advance"}
			},
			want: [nRoles]int{u, u, f, f, 200, 200}},
		{name: "create task", method: "POST", path: lead("/tasks"),
			body: static(map[string]any{"title": "Call back", "due_at": "2030-01-02T10:00:00Z"}), want: [nRoles]int{u, u, 201, n, 201, 201}},
		{name: "lead tasks", method: "GET", path: lead("/tasks"), want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "log activity", method: "POST", path: lead("/activities"), body: static(map[string]any{"kind": "call"}),
			want: [nRoles]int{u, u, 201, n, 201, 201}},
		{name: "activities", method: "GET", path: lead("/activities"), want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "list tasks", method: "GET", path: fixed("/tasks"), need: "task", want: [nRoles]int{u, u, 200, 200, 200, 200},
			listed: func(f fixture) string { return f.task }, in: [nRoles]bool{owner: true, senior: true, admin: true}},
		{name: "edit task", method: "PATCH", path: func(f fixture) string { return "/tasks/" + f.task }, need: "task",
			body: static(map[string]any{"done": true}), want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "delete task", method: "DELETE", path: func(f fixture) string { return "/tasks/" + f.task }, need: "task",
			want: [nRoles]int{u, u, 204, n, 204, 204}},
		{name: "sale board", method: "GET", path: fixed("/sales/summary"), want: [nRoles]int{u, u, 200, 200, 200, 200}},
		{name: "sale value", method: "PATCH", path: sale(""), need: "sale", body: static(map[string]any{"amount": "1250.00"}),
			want: [nRoles]int{u, u, 200, n, 200, 200}},
		{name: "lost reasons", method: "GET", path: fixed("/reports/lost-reasons"), want: [nRoles]int{u, u, 200, 200, 200, 200}},
		{name: "notifications", method: "GET", path: fixed("/notifications"), need: "notification", want: [nRoles]int{u, u, 200, 200, 200, 200},
			listed: func(f fixture) string { return f.notification }, in: [nRoles]bool{owner: true}},
		{name: "read notifications", method: "POST", path: fixed("/notifications/read"),
			body: func(_ *env, f fixture, _ role) any { return map[string]any{"ids": []string{f.notification}} },
			need: "notification", want: [nRoles]int{u, u, 204, 204, 204, 204}},
		{name: "saved filters", method: "GET", path: fixed("/me/filters"), need: "filter", want: [nRoles]int{u, u, 200, 200, 200, 200},
			listed: func(f fixture) string { return f.filter }, in: [nRoles]bool{owner: true}},
		{name: "save filter", method: "POST", path: fixed("/me/filters"), body: static(map[string]any{"name": "Mine", "query": "stage=new"}),
			want: [nRoles]int{u, u, 201, 201, 201, 201}},
		{name: "delete filter", method: "DELETE", path: func(f fixture) string { return "/me/filters/" + f.filter }, need: "filter",
			want: [nRoles]int{u, u, 204, n, n, n}},
		// A wrong current password: the right one would end the role's token for the rows after.
		{name: "change password", method: "POST", path: fixed("/me/password"),
			body: static(map[string]any{"current_password": "not the password", "new_password": "a long new password"}),
			want: [nRoles]int{u, u, f, f, f, f}},
		{name: "pipeline settings", method: "PATCH", path: fixed("/settings/pipeline"), body: static(map[string]any{"default_currency": "UAH"}),
			want: [nRoles]int{u, u, f, f, f, 200}},
		{name: "me", method: "GET", path: fixed("/me"), want: [nRoles]int{u, u, 200, 200, 200, 200}},
		{name: "list users", method: "GET", path: fixed("/users"), want: [nRoles]int{u, u, f, f, f, 200}},
		{name: "create user", method: "POST", path: fixed("/users"),
			body: func(_ *env, _ fixture, r role) any {
				return map[string]any{"email": fmt.Sprintf("new-%s-%d@example.com", roleNames[r], time.Now().UnixNano()),
					"role": "manager", "password": "long enough password"}
			},
			want: [nRoles]int{u, u, f, f, f, 201}},
		{name: "edit user", method: "PATCH", path: func(f fixture) string { return "/users/" + f.target },
			body: static(map[string]any{"name": "Edited"}), want: [nRoles]int{u, u, f, f, f, 200}},
		{name: "audit", method: "GET", path: fixed("/audit"), want: [nRoles]int{u, u, f, f, 200, 200}},
		{name: "get settings", method: "GET", path: fixed("/settings"), want: [nRoles]int{u, u, 200, 200, 200, 200}},
		// The same catalog again: the fixture leads of the other rows keep a domain of it.
		{name: "replace settings", method: "PATCH", path: fixed("/settings"),
			body: static(map[string]any{"business_domains": []string{"first", "second", "third"}}), want: [nRoles]int{u, u, f, f, f, 200}},
		// Raw again, as it was: the transfer rows keep their gate.
		{name: "switch transfer gate", method: "PATCH", path: fixed("/settings"),
			body: static(map[string]any{"transfer_gate": "raw"}), want: [nRoles]int{u, u, f, f, f, 200}},
		{name: "create webhook", method: "POST", path: fixed("/webhooks"),
			body: static(map[string]any{"url": "https://hooks.example.com/crm", "events": []string{"lead.transferred"}}),
			want: [nRoles]int{u, u, f, f, f, 201}},
		{name: "list webhooks", method: "GET", path: fixed("/webhooks"), need: "webhook", want: [nRoles]int{u, u, f, f, f, 200}},
		{name: "get webhook", method: "GET", path: hook(""), need: "webhook", want: [nRoles]int{u, u, f, f, f, 200}},
		{name: "edit webhook", method: "PATCH", path: hook(""), need: "webhook",
			body: static(map[string]any{"enabled": false}), want: [nRoles]int{u, u, f, f, f, 200}},
		{name: "delete webhook", method: "DELETE", path: hook(""), need: "webhook", want: [nRoles]int{u, u, f, f, f, 204}},
		{name: "test webhook", method: "POST", path: hook("/test"), need: "webhook", want: [nRoles]int{u, u, f, f, f, 202}},
		{name: "rotate secret", method: "POST", path: hook("/rotate-secret"), need: "webhook", want: [nRoles]int{u, u, f, f, f, 200}},
		{name: "deliveries", method: "GET", path: hook("/deliveries"), need: "delivery", want: [nRoles]int{u, u, f, f, f, 200}},
		{name: "replay delivery", method: "POST", need: "delivery",
			path: func(f fixture) string { return "/webhooks/" + f.webhook + "/deliveries/" + f.delivery + "/replay" },
			want: [nRoles]int{u, u, f, f, f, 202}},
		{name: "healthz", method: "GET", path: fixed("/healthz"), want: [nRoles]int{200, 200, 200, 200, 200, 200}},
		{name: "readyz", method: "GET", path: fixed("/readyz"), want: [nRoles]int{200, 200, 200, 200, 200, 200}},
		{name: "openapi", method: "GET", path: fixed("/openapi.json"), want: [nRoles]int{200, 200, 200, 200, 200, 200}},
		{name: "docs", method: "GET", path: fixed("/docs"), want: [nRoles]int{200, 200, 200, 200, 200, 200}},
		{name: "login", method: "POST", path: fixed("/auth/login"),
			body: func(e *env, _ fixture, _ role) any { return map[string]any{"email": e.mgr.Email, "password": password} },
			want: [nRoles]int{200, 200, 200, 200, 200, 200}},
	}

	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		third := e.newUser("third@example.com", "manager")
		bad, err := auth.NewTokens([]byte("another key, not the server's one"), time.Hour).Issue(e.mgr.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		tokens := [nRoles]string{"", bad, e.mgr.Token, e.other.Token, e.senior.Token, e.admin.Token}
		for _, row := range rows {
			t.Run(strings.ReplaceAll(row.name, " ", "_"), func(t *testing.T) {
				e := e.with(t)
				for r := range nRoles {
					fx := fixture{target: third.ID}
					switch row.need {
					case "eligible":
						fx.lead = e.eligibleLead(e.mgr, 0.8, "transfer_to_sales").ID
					case "sale":
						fx.lead = e.eligibleLead(e.mgr, 0.8, "transfer_to_sales").ID
						var s saleJSON
						e.must(201, "POST", "/leads/"+fx.lead+"/transfer", e.mgr.Token, nil).decode(t, &s)
						fx.sale = s.ID
					default:
						fx.lead = e.createLead(e.mgr, map[string]any{"source": "partner", "business_domain": "first"}).ID
					}
					var item struct {
						ID string `json:"id"`
					}
					switch row.need {
					case "task":
						e.must(201, "POST", "/leads/"+fx.lead+"/tasks", e.mgr.Token,
							map[string]any{"title": "Fixture", "due_at": "2030-01-02T10:00:00Z"}).decode(t, &item)
						fx.task = item.ID
					case "filter":
						e.must(201, "POST", "/me/filters", e.mgr.Token, map[string]any{"name": "Fixture", "query": "stage=new"}).decode(t, &item)
						fx.filter = item.ID
					case "webhook", "delivery":
						e.must(201, "POST", "/webhooks", e.admin.Token, map[string]any{"url": "https://hooks.example.com/crm",
							"events": []string{"sale.paid"}}).decode(t, &item)
						fx.webhook = item.ID
						if row.need == "delivery" {
							e.must(202, "POST", "/webhooks/"+fx.webhook+"/test", e.admin.Token, nil).decode(t, &item)
							fx.delivery = item.ID
						}
					case "batch":
						e.must(202, "POST", "/ai/batches", e.senior.Token, map[string]any{"limit": 1}).decode(t, &item)
						fx.batch = item.ID
					case "import":
						e.uploadCSV(202, e.mgr, "", "source,name\nmanual,Fixture\n").decode(t, &item)
						fx.imp = item.ID
						storetest.DriveImport(t, e.svc, e.store, fx.imp)
					case "notification":
						l := e.createLead(e.senior, map[string]any{"source": "partner", "owner_id": e.mgr.ID})
						var ns []struct {
							ID     string `json:"id"`
							LeadID string `json:"lead_id"`
						}
						e.must(200, "GET", "/notifications", e.mgr.Token, nil).decode(t, &ns)
						for _, n := range ns {
							if n.LeadID == l.ID {
								fx.notification = n.ID
							}
						}
					}
					var body any
					if row.body != nil {
						body = row.body(e, fx, r)
					}
					res := doReq(t, e.srv, row.method, row.path(fx), tokens[r], body, row.header)
					if res.Status != row.want[r] {
						t.Errorf("%s: %s %s: got %s, want %d", roleNames[r], row.method, row.path(fx), res, row.want[r])
						continue
					}
					if res.Status == http.StatusUnauthorized {
						if h := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
							t.Errorf("%s: 401 without WWW-Authenticate: Bearer (got %q)", roleNames[r], h)
						}
						problemOf(t, res, 401)
					}
					if res.Status == http.StatusForbidden || res.Status == http.StatusNotFound {
						problemOf(t, res, res.Status)
						if res.Status == http.StatusNotFound {
							// Not yours looks exactly like does not exist.
							unknown := fixture{lead: "0190a3b2-1c4d-7e5f-8a9b-0c1d2e3f4a5b", sale: "0190a3b2-1c4d-7e5f-8a9b-0c1d2e3f4a5c",
								task: "0190a3b2-1c4d-7e5f-8a9b-0c1d2e3f4a5d", filter: "0190a3b2-1c4d-7e5f-8a9b-0c1d2e3f4a5e", target: fx.target,
								imp: "0190a3b2-1c4d-7e5f-8a9b-0c1d2e3f4a5f"}
							ref := e.do(row.method, row.path(unknown), tokens[r], body)
							if diff := cmp.Diff(withoutRequestID(t, ref), withoutRequestID(t, res)); diff != "" || ref.Status != res.Status {
								t.Errorf("%s: another's resource answers unlike an unknown one (-unknown +another's):\n%s", roleNames[r], diff)
							}
						}
					}
					if row.listed != nil && res.Status == 200 {
						id := row.listed(fx)
						var got bool
						if strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") { // an export: one row per line
							got = strings.Contains(string(res.Body), "\n"+id+",")
						} else {
							var items []struct {
								ID string `json:"id"`
							}
							res.decode(t, &items)
							got = slices.ContainsFunc(items, func(it struct {
								ID string `json:"id"`
							}) bool {
								return it.ID == id
							})
						}
						if got != row.in[r] {
							t.Errorf("%s: fixture %s listed = %v, want %v", roleNames[r], id, got, row.in[r])
						}
					}
				}
			})
		}
	})
}
