package ui

import (
	"net/http"
	"net/url"

	"github.com/crmleads/crm"
)

// auditActions are the actions the audit page filters by.
var auditActions = []string{crm.ActionLeadCreated, crm.ActionLeadUpdated, crm.ActionLeadMessages,
	crm.ActionLeadStage, crm.ActionLeadOwner, crm.ActionLeadAnalyzed, crm.ActionLeadTransferred,
	crm.ActionSaleStage, crm.ActionUserCreated, crm.ActionUserUpdated, crm.ActionSettingsUpdated}

type auditRow struct {
	eventView
	Action         string
	LeadID, SaleID string
	Subject        string // the lead's title (its short id when it cannot be read), for its link
}

type auditData struct {
	Actor, Action, Since, Until string
	Actors, Actions             []option
	Rows                        []auditRow
	NextURL                     string
	Filtered                    bool
}

// auditPage shows the whole audit trail, newest first, to senior managers and
// admins (the service refuses managers: the friendly 403 page).
func (a *App) auditPage(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	d := auditData{Actor: q.Get("actor"), Action: q.Get("action"), Since: q.Get("since"), Until: q.Get("until")}
	d.Filtered = d.Actor != "" || d.Action != "" || d.Since != "" || d.Until != ""
	f := crm.EventFilter{ActorID: d.Actor, Action: d.Action, After: q.Get("cursor"), Limit: listPageSize}
	var badDate bool
	if d.Since != "" {
		t, ok := ReadDate(d.Since)
		badDate = badDate || !ok
		f.Since = t
	}
	if d.Until != "" { // the whole day of until is included
		t, ok := ReadDate(d.Until)
		badDate = badDate || !ok
		if ok {
			f.Until = t.AddDate(0, 0, 1)
		}
	}
	if badDate {
		v.Flash = bad(v.L.T("audit.bad_date"))
	}
	events, next, err := a.deps.Leads.Audit(r.Context(), f)
	if crm.IsKind(err, crm.EINVALID) { // a stale or hand-made cursor: start again
		v.Flash = bad(a.explain(v.L, err))
		f.After = ""
		events, next, err = a.deps.Leads.Audit(r.Context(), f)
	}
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	people := a.people(r, v)
	name := namer(v, people)
	d.Actors = userOptions(people, d.Actor, func(*crm.User) bool { return true }) // the inactive acted too
	for _, act := range auditActions {
		d.Actions = append(d.Actions, option{act, v.L.T("audit_action." + act), d.Action == act})
	}
	titles := map[string]string{}
	for _, e := range events {
		row := auditRow{eventView: eventView{When: e.CreatedAt, Who: actorName(v, people, e.ActorID),
			Text: describeEvent(v.L, e, name)}, Action: e.Action, LeadID: e.LeadID, SaleID: e.SaleID}
		if e.LeadID != "" {
			row.Subject = a.leadName(r, v, titles, e.LeadID)
		}
		d.Rows = append(d.Rows, row)
	}
	if next != "" {
		nq := url.Values{}
		for _, k := range []string{"actor", "action", "since", "until"} {
			if q.Get(k) != "" {
				nq.Set(k, q.Get(k))
			}
		}
		nq.Set("cursor", next)
		d.NextURL = "/app/audit?" + nq.Encode()
	}
	v.Title, v.Nav, v.Data = v.L.T("nav.audit"), "audit", d
	a.render(w, r, v, "audit", http.StatusOK)
}

// leadName names a lead of the audit by its title, read once per page; a lead
// that cannot be read is its short id.
func (a *App) leadName(r *http.Request, v *view, titles map[string]string, id string) string {
	if t, ok := titles[id]; ok {
		return t
	}
	t := v.L.T("audit.lead", id[max(0, len(id)-6):])
	if l, err := a.deps.Leads.Lead(r.Context(), id); err == nil {
		t = leadTitle(l)
	}
	titles[id] = t
	return t
}
