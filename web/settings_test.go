package web_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type settingsJSON struct {
	BusinessDomains  []string `json:"business_domains"`
	TransferMinScore float64  `json:"transfer_min_score"`
}

// TestSettingsCatalog replaces the catalog over the API: new leads choose
// from the new one at once, existing leads keep what they have.
func TestSettingsCatalog(t *testing.T) {
	t.Parallel()
	forKinds(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		get := func(u user) settingsJSON {
			var s settingsJSON
			e.must(200, "GET", "/settings", u.Token, nil).decode(t, &s)
			return s
		}
		if got := get(e.mgr); !cmp.Equal([]string{"first", "second", "third"}, got.BusinessDomains) || got.TransferMinScore != e.svc.Leads.MinScore() {
			t.Errorf("default settings = %+v, want the configured catalog", got)
		}
		kept := e.createLead(e.mgr, map[string]any{"source": "partner", "business_domain": "second"})

		var s settingsJSON
		e.must(200, "PATCH", "/settings", e.admin.Token,
			map[string]any{"business_domains": []string{" first", "fourth "}}).decode(t, &s)
		if !cmp.Equal([]string{"first", "fourth"}, s.BusinessDomains) {
			t.Errorf("PATCH /settings answered %+v, want the trimmed catalog", s)
		}
		for _, u := range []user{e.mgr, e.senior, e.admin} {
			if got := get(u); !cmp.Equal(s, got) {
				t.Errorf("GET /settings after the change = %+v, want %+v", got, s)
			}
		}

		l := e.createLead(e.mgr, map[string]any{"source": "partner", "business_domain": "fourth"})
		if l.BusinessDomain == nil || *l.BusinessDomain != "fourth" {
			t.Errorf("created lead domain = %v, want fourth", l.BusinessDomain)
		}
		res := e.do("POST", "/leads", e.mgr.Token, map[string]any{"source": "partner", "business_domain": "second"})
		p := problemOf(t, res, http.StatusUnprocessableEntity)
		if !slices.ContainsFunc(p.Errors, func(fe struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		}) bool {
			return fe.Field == "business_domain"
		}) {
			t.Errorf("errors[] does not name business_domain: %s", res)
		}
		e.must(422, "PATCH", "/leads/"+l.ID, e.mgr.Token, map[string]any{"business_domain": "third"})

		// The lead created before keeps its removed domain and is still edited.
		var up leadJSON
		e.must(200, "PATCH", "/leads/"+kept.ID, e.mgr.Token, map[string]any{"name": "Kept"}).decode(t, &up)
		if up.Name != "Kept" || up.BusinessDomain == nil || *up.BusinessDomain != "second" {
			t.Errorf("edited lead = %+v, want its removed domain kept", up)
		}

		// The change is in the audit trail.
		var audit []struct {
			Action  string         `json:"action"`
			ActorID string         `json:"actor_id"`
			Data    map[string]any `json:"data"`
		}
		e.must(200, "GET", "/audit?action=settings.updated", e.admin.Token, nil).decode(t, &audit)
		if len(audit) != 1 || audit[0].ActorID != e.admin.ID {
			t.Errorf("audit = %+v, want one settings.updated by the admin", audit)
		}
	})
}
