package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/crmleads/crm"
)

// sqlPayloads are the classic injection strings, LIKE wildcards and quoting
// oddities (issue 13 §6).
var sqlPayloads = []string{
	`' OR 1=1--`, `' OR '1'='1`, `"; DROP TABLE leads;--`, `'; DROP TABLE leads;--`, `1); DELETE FROM leads;--`,
	`%`, `_`, `\`, `\%`, `%'--`, `a%b`, `a_b`, `%%`, `ʼ OR ʼ1ʼ=ʼ1`, `’ OR ’1’=’1`, `“quoted”`, `$1`, `?`, `:name`,
	`1; SELECT pg_sleep(10)`, `) OR (1=1`, `\'`, "\u2028", strings.Repeat("a'", 150), strings.Repeat("x", 5000),
}

// sqlTargets are every list's filter, sort and search parameter, on every
// list of the API.
var sqlTargets = []struct{ path, param string }{
	{"/leads", "q"}, {"/leads", "stage"}, {"/leads", "source"}, {"/leads", "owner_id"}, {"/leads", "sort"},
	{"/leads", "cursor"}, {"/leads", "limit"},
	{"/leads/export", "q"}, {"/leads/export", "sort"}, {"/leads/export", "owner_id"}, {"/leads/export", "stage"},
	{"/sales", "stage"}, {"/sales", "owner_id"}, {"/sales", "sort"}, {"/sales", "cursor"},
	{"/sales/export", "sort"}, {"/sales/export", "owner_id"},
	{"/audit", "actor_id"}, {"/audit", "action"}, {"/audit", "cursor"}, {"/audit", "since"},
	{"/tasks", "assignee_id"}, {"/tasks", "done"}, {"/tasks", "due_before"},
	{"/ai/quality", "prompt_version"}, {"/ai/costs", "from"},
}

// TestSQLInjection sends every payload in every list parameter, on both
// stores: each answer is a 422 problem or a correct result (a search matches
// its text literally, wildcards included), never a 5xx, and the database is
// intact afterwards.
func TestSQLInjection(t *testing.T) {
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		// Leads whose names tell a literal match from a wildcard one.
		names := []string{"zq a%b", "zq aXb", "zq a_b", "zq aYb", `zq back\slash`, "zq O'Brien", "zq ʼquoteʼ", "zq 100%"}
		ids := map[string]string{}
		for _, n := range names {
			ids[n] = e.createLead(e.mgr, map[string]any{"source": "manual", "name": n}).ID
		}
		l := e.createLead(e.mgr, map[string]any{"source": "partner", "name": "zq sold", "business_domain": "first"})
		e.must(200, "PATCH", "/leads/"+l.ID+"/stage", e.mgr.Token, map[string]string{"stage": "lost"})
		counts := func() [3]int {
			leads, err := e.store.Leads(context.Background(), crm.LeadFilter{Limit: crm.MaxPageSize})
			if err != nil {
				t.Fatalf("count leads: %v", err)
			}
			users, err := e.store.CountUsers(context.Background())
			if err != nil {
				t.Fatalf("count users: %v", err)
			}
			events, err := e.store.Events(context.Background(), crm.EventFilter{Limit: 1000})
			if err != nil {
				t.Fatalf("count events: %v", err)
			}
			return [3]int{len(leads), users, len(events)}
		}
		before := counts()

		for _, tg := range sqlTargets {
			for _, p := range sqlPayloads {
				q := url.Values{tg.param: {p}}
				// The admin everywhere; a manager too where the owner
				// scope joins the query (the search and the owner filter).
				users := []user{e.admin}
				if tg.param == "q" || tg.param == "owner_id" {
					users = append(users, e.mgr)
				}
				for _, u := range users {
					r := e.do("GET", tg.path+"?"+q.Encode(), u.Token, nil)
					switch {
					case r.Status == http.StatusUnprocessableEntity:
						problemOf(t, r, http.StatusUnprocessableEntity)
					case r.Status == http.StatusOK:
					case r.Status == http.StatusForbidden && u == e.mgr && (tg.path == "/audit" || strings.HasPrefix(tg.path, "/ai/")):
					default:
						t.Errorf("%s?%s=%q as %s: %s, want 200 or 422", tg.path, tg.param, p, u.Email, r)
						continue
					}
					if r.Status != http.StatusOK || tg.path != "/leads" || tg.param != "q" {
						continue
					}
					// The search matches its text literally, case aside.
					var got []leadJSON
					r.decode(t, &got)
					var gotNames, want []string
					for _, l := range got {
						gotNames = append(gotNames, l.Name)
					}
					needle := strings.ToLower(strings.TrimSpace(p))
					for _, n := range append(slices.Clone(names), "zq sold") {
						if strings.Contains(strings.ToLower(n), needle) {
							want = append(want, n)
						}
					}
					slices.Sort(gotNames)
					slices.Sort(want)
					if !slices.Equal(gotNames, want) {
						t.Errorf("q=%q as %s matched %q, want %q (a literal match)", p, u.Email, gotNames, want)
					}
				}
			}
		}
		if after := counts(); after != before {
			t.Errorf("leads, users, events = %v after the payloads, %v before", after, before)
		}
		// Every lead is still there and readable.
		for n, id := range ids {
			var l leadJSON
			e.must(200, "GET", "/leads/"+id, e.mgr.Token, nil).decode(t, &l)
			if l.Name != n {
				t.Errorf("lead %s is named %q, want %q", id, l.Name, n)
			}
		}
	})
}
