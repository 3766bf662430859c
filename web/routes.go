package web

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// addRoutes lists the whole HTTP surface of the API in one place.
func addRoutes(mux *http.ServeMux, d Deps) {
	api := newAPI(mux, d)

	// Health and description: no authentication.
	register(api, health, "GET", "/healthz", "Liveness", handleHealthz(), public)
	register(api, health, "GET", "/readyz", "Readiness: database reachable, migrations applied", handleReadyz(d), public)
	mux.Handle("GET /docs", handleDocs())
	mux.Handle("GET /docs/", handleDocs())

	register(api, users, "POST", "/auth/login", "Sign in and get a bearer token", handleLogin(d), public, errs(401, 422, 429))

	register(api, leads, "POST", "/leads", "Create a lead (409 possible_duplicate when it looks like an open one)", handleLeadCreate(d), created, errs(403, 409, 413, 422))
	// Fixed paths under /leads/ before the {id} ones (the mux prefers them anyway).
	register(api, leads, "GET", "/leads/summary", "The leads board: count per stage, open leads without a next step", handleLeadSummary(d))
	register(api, leads, "POST", "/leads/bulk", "Reassign or advance many leads, each on its own (senior managers and admins)", handleBulk(d), errs(403, 413, 422))
	register(api, leads, "GET", "/leads", "List leads (keyset pagination: follow the Link rel=next header)", handleLeadList(d), errs(422))
	register(api, leads, "GET", "/leads/export", "Export the leads the list would show (its filters and sort) as CSV, streamed",
		handleLeadExport(d), csvResponse("leads"), errs(422))
	register(api, leads, "POST", "/imports", "Import leads from a CSV file: upload it for a preview (managers for leads they own; senior managers and admins)",
		handleImportUpload(d), describeUpload, errs(403, 413, 415, 422))
	register(api, leads, "GET", "/imports", "Your imports, newest first (everyone's for senior managers and admins)", handleImportList(d), errs(403))
	register(api, leads, "GET", "/imports/{id}", "An import: its preview (counts, the first 100 row errors, the mapping) and progress", handleImportGet(d), errs(403, 404))
	register(api, leads, "PUT", "/imports/{id}/mapping", "Map the file's columns to lead fields and preview again (before the commit)",
		handleImportMapping(d), errs(403, 404, 409, 413, 422))
	register(api, leads, "POST", "/imports/{id}/commit", "Write the valid rows, a batch of 500 per transaction; follow GET /imports/{id}",
		handleImportCommit(d), accepted, errs(403, 404, 409))
	register(api, leads, "POST", "/imports/{id}/cancel", "Stop the import between two batches (rows written stay)", handleImportCancel(d), errs(403, 404, 409))
	register(api, leads, "GET", "/leads/{id}", "Get a lead", handleLeadGet(d), errs(404))
	register(api, leads, "PATCH", "/leads/{id}", "Edit contact fields, business domain or owner", handleLeadUpdate(d), errs(403, 404, 409, 413, 422))
	register(api, leads, "PATCH", "/leads/{id}/messages", "Set the number of communications", handleLeadMessages(d), errs(404, 409, 413, 422))
	register(api, leads, "PATCH", "/leads/{id}/stage", "Move the lead one stage", handleLeadStage(d), errs(404, 409, 413, 422))
	register(api, leads, "GET", "/leads/{id}/transfer-check", "Which transfer conditions are unmet", handleTransferCheck(d), errs(404))
	register(api, leads, "POST", "/leads/{id}/transfer", "Transfer the lead to sales (creates the sale), with the deal's value if known", handleTransfer(d), created, errs(404, 409, 413, 422))
	register(api, leads, "GET", "/leads/{id}/sale", "The sale made from the lead", handleLeadSale(d), errs(404))
	register(api, leads, "GET", "/leads/{id}/events", "Audit trail of the lead and its sale, oldest first", handleLeadEvents(d), errs(404))
	register(api, work, "POST", "/leads/{id}/tasks", "Add a task (a next step) to the lead", handleTaskCreate(d), created, errs(404, 413, 422))
	register(api, work, "GET", "/leads/{id}/tasks", "The lead's tasks, soonest due first", handleLeadTasks(d), errs(404))
	register(api, work, "POST", "/leads/{id}/activities", "Log a call, email, meeting (each adds one to messages_count) or note", handleActivityCreate(d), created, errs(404, 409, 413, 422))
	register(api, work, "GET", "/leads/{id}/activities", "The lead's activities, newest first", handleActivityList(d), errs(404))
	register(api, ai, "POST", "/leads/{id}/analyze", "Ask the AI for an independent score (explicit only)", handleAnalyze(d), errs(404, 409, 502))
	register(api, ai, "GET", "/leads/{id}/analyses", "Analysis log of the lead, newest first", handleAnalyses(d), errs(404))
	register(api, ai, "GET", "/ai/quality", "How well the scores predicted outcomes: Brier, AUC, reliability bands (senior managers and admins)", handleQuality(d), errs(403, 422))
	register(api, ai, "POST", "/ai/batches", "Re-analyze open leads in one batch at half the price (senior managers and admins); progress at GET /ai/batches/{id}", handleBatchCreate(d), accepted, errs(403, 413, 422))
	register(api, ai, "GET", "/ai/batches", "Batch re-analyses, newest first (senior managers and admins)", handleBatchList(d), errs(403))
	register(api, ai, "GET", "/ai/batches/{id}", "A batch re-analysis and its progress (senior managers and admins)", handleBatchGet(d), errs(403, 404))
	register(api, ai, "GET", "/ai/costs", "What the billed AI calls cost, by model (senior managers and admins)", handleCosts(d), errs(403, 422))

	register(api, sales, "GET", "/sales", "List sales", handleSaleList(d), errs(422))
	register(api, sales, "GET", "/sales/export", "Export the sales the list would show as CSV, streamed",
		handleSaleExport(d), csvResponse("sales"), errs(422))
	register(api, sales, "GET", "/sales/summary", "The sales board: count and value per stage and currency, and the forecast", handleSaleSummary(d))
	register(api, sales, "GET", "/sales/{id}", "Get a sale", handleSaleGet(d), errs(404))
	register(api, sales, "PATCH", "/sales/{id}", "Set the deal's value (not once it is paid or lost)", handleSaleValue(d), errs(404, 409, 413, 422))
	register(api, sales, "PATCH", "/sales/{id}/stage", "Move the sale one stage", handleSaleStage(d), errs(404, 409, 413, 422))

	register(api, users, "GET", "/me", "The signed-in user", handleMe(d))
	register(api, users, "POST", "/me/logout-all", "Sign out everywhere: end every token of the signed-in user, this one included",
		handleLogoutAll(d), noContent)
	register(api, users, "POST", "/me/password", "Change your own password; every older token stops working. A wrong current password counts as a failed sign-in at your email (429 with Retry-After once locked)", handlePassword(d), noContent, errs(403, 413, 422, 429))
	register(api, work, "GET", "/me/filters", "Your saved lead filters", handleFilterList(d))
	register(api, work, "POST", "/me/filters", "Save a lead filter", handleFilterCreate(d), created, errs(409, 413, 422))
	register(api, work, "DELETE", "/me/filters/{id}", "Delete one of your saved filters", handleFilterDelete(d), noContent, errs(404))
	register(api, work, "GET", "/tasks", "Tasks, soonest due first: a manager's own; everyone's for senior managers and admins", handleTaskList(d), errs(422))
	register(api, work, "PATCH", "/tasks/{id}", "Edit a task: title, due time, assignee, done", handleTaskUpdate(d), errs(404, 413, 422))
	register(api, work, "DELETE", "/tasks/{id}", "Delete a task", handleTaskDelete(d), noContent, errs(404))
	register(api, work, "GET", "/notifications", "Your notifications, newest first (kept 90 days)", handleNotifications(d), errs(422))
	register(api, work, "POST", "/notifications/read", "Mark your notifications read (all of them without ids)", handleNotificationsRead(d), noContent, errs(413, 422))
	register(api, users, "GET", "/reports/lost-reasons", "Lost leads by reason, most first", handleLostReasons(d))
	register(api, users, "GET", "/users", "List users (admin)", handleUserList(d), errs(403))
	register(api, users, "POST", "/users", "Create a user (admin)", handleUserCreate(d), created, errs(403, 409, 413, 422))
	register(api, users, "PATCH", "/users/{id}", "Edit a user: name, role, active, password (admin)", handleUserUpdate(d), errs(403, 404, 409, 413, 422))
	register(api, users, "GET", "/settings", "Settings: the business-domain catalog and the transfer threshold", handleSettingsGet(d))
	register(api, users, "PATCH", "/settings", "Replace the business-domain catalog (admin)", handleSettingsUpdate(d), errs(403, 413, 422))
	register(api, users, "PATCH", "/settings/pipeline", "Set the default currency and the lost reasons offered (admin)", handlePipelineSettings(d), errs(403, 413, 422))
	register(api, users, "GET", "/audit", "The audit trail, newest first (senior managers and admins)", handleAudit(d), errs(403, 422))

	register(api, webhooksTag, "POST", "/webhooks", "Subscribe an endpoint or a Telegram chat to events (admin); the answer shows the signing secret once", handleWebhookCreate(d), created, errs(403, 413, 422))
	register(api, webhooksTag, "GET", "/webhooks", "List subscriptions (admin)", handleWebhookList(d), errs(403))
	register(api, webhooksTag, "GET", "/webhooks/{id}", "Get a subscription (admin)", handleWebhookGet(d), errs(403, 404))
	register(api, webhooksTag, "PATCH", "/webhooks/{id}", "Edit a subscription: url, events, enabled, description (admin)", handleWebhookUpdate(d), errs(403, 404, 413, 422))
	register(api, webhooksTag, "DELETE", "/webhooks/{id}", "Delete a subscription and its delivery log (admin)", handleWebhookDelete(d), noContent, errs(403, 404))
	register(api, webhooksTag, "POST", "/webhooks/{id}/test", "Send a webhook.test event (admin)", handleWebhookTest(d), accepted, errs(403, 404, 409))
	register(api, webhooksTag, "POST", "/webhooks/{id}/rotate-secret", "New signing secret; the old one signs too for 24 h (admin)", handleWebhookRotate(d), errs(403, 404, 409))
	register(api, webhooksTag, "GET", "/webhooks/{id}/deliveries", "Deliveries with their attempts, newest first (keyset pagination: follow Link rel=next) (admin)", handleDeliveries(d), errs(403, 404, 422))
	register(api, webhooksTag, "POST", "/webhooks/{id}/deliveries/{delivery_id}/replay", "Send a delivery again, with the same webhook-id (admin)", handleReplay(d), accepted, errs(403, 404, 409))
	describeWebhooks(api.OpenAPI())

	describeNulls(api.OpenAPI())
	describeUploadBody(api.OpenAPI())

	// Anything else under the API is a problem document, not an HTML 404.
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, notFoundRoute)
	}))
}

const (
	health = "health"
	leads  = "leads"
	ai     = "ai"
	sales  = "sales"
	work   = "work"
	users  = "users"

	webhooksTag = "webhooks"
)

// Operation options.

// public drops the bearer requirement and the 401 every secured operation
// documents; an errs option after it may document 401 again (sign-in does).
func public(op *huma.Operation) {
	op.Security = []map[string][]string{}
	op.Errors = slices.DeleteFunc(op.Errors, func(c int) bool { return c == http.StatusUnauthorized })
}

func created(op *huma.Operation) { op.DefaultStatus = http.StatusCreated }

func noContent(op *huma.Operation) { op.DefaultStatus = http.StatusNoContent }

func newAPI(mux *http.ServeMux, d Deps) huma.API {
	cfg := huma.DefaultConfig("CRM Leads API", d.Version)
	cfg.CreateHooks = nil // no $schema links: they would clash with our Link: rel="next"
	cfg.DocsPath = ""     // served by handleDocs from embedded assets, not a CDN
	cfg.SchemasPath = ""
	cfg.OpenAPIPath = "/openapi"
	cfg.Formats = map[string]huma.Format{"application/json": strictJSON, "json": strictJSON}
	cfg.Info.Description = "Leads move new → contacted → qualified; an explicit AI analysis scores them; " +
		"a person transfers qualified, analyzed leads (score ≥ threshold) to sales, where a deal moves " +
		"new → kyc → agreement → paid (or lost). Errors are RFC 9457 problem documents with a `code`."
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	// Relative: the API is served at the root of whatever host serves this
	// document, so /docs' "Try it out" calls the same server.
	cfg.Servers = []*huma.Server{{URL: "/", Description: "The server this description is served from"}}
	cfg.Info.License = &huma.License{Name: "MIT", Identifier: "MIT"}
	// The order here is the order of the sections in /docs: the manager's
	// flow first.
	cfg.Tags = []*huma.Tag{
		{Name: leads, Description: "Leads and their stages, the transfer to sales, the audit trail of a lead"},
		{Name: ai, Description: "The AI's independent opinion: only on request, four facts only, every call logged"},
		{Name: work, Description: "The day's work: tasks, the conversation, saved filters, notifications"},
		{Name: sales, Description: "Deals made from transferred leads"},
		{Name: users, Description: "Sign-in, users and roles, settings, the audit trail"},
		{Name: webhooksTag, Description: "Events out: signed webhooks and Telegram messages, retried for over a day, replayable (admins)"},
		{Name: health, Description: "Liveness and readiness for load balancers and orchestrators"},
	}
	api := humago.New(mux, cfg)
	api.UseMiddleware(noStore, authenticate(api, d), rejectNulls(api))
	return api
}

// noStore marks every API answer as not to be kept by any cache: lead data
// is personal, and a shared or browser cache must not hold it.
func noStore(hctx huma.Context, next func(huma.Context)) {
	hctx.SetHeader("Cache-Control", "no-store")
	next(hctx)
}

// register adds one operation; its id is derived from method and path, and
// every operation documents 401 (unless public) and 503.
func register[I, O any](api huma.API, tag, method, path, summary string, h func(context.Context, *I) (*O, error), opts ...func(*huma.Operation)) {
	op := huma.Operation{
		OperationID:  strings.ToLower(method) + strings.NewReplacer("/", "-", "{", "", "}", "").Replace(path),
		Method:       method,
		Path:         path,
		Summary:      summary,
		Tags:         []string{tag},
		MaxBodyBytes: 1 << 20,
		Security:     []map[string][]string{{"bearer": {}}},
		Errors:       []int{http.StatusUnauthorized, http.StatusServiceUnavailable},
	}
	if path != "/healthz" && path != "/readyz" { // rateLimit counts every other request
		op.Errors = append(op.Errors, http.StatusTooManyRequests)
	}
	if hasBody[I]() {
		bodyErrors(&op)
	}
	for _, o := range opts {
		o(&op)
	}
	// Handlers return domain errors; turning them into problems here lets huma
	// see the status and headers (Retry-After) of each.
	huma.Register(api, op, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		if err != nil {
			return nil, problemFrom(ctx, err)
		}
		return out, nil
	})
}

// errs documents more error statuses of an operation.
func errs(codes ...int) func(*huma.Operation) {
	return func(op *huma.Operation) {
		for _, c := range codes {
			if !slices.Contains(op.Errors, c) {
				op.Errors = append(op.Errors, c)
			}
		}
	}
}
