package ui

import (
	"net/http"
	"strings"

	"github.com/crmleads/crm"
)

// bulkForm is the lead list's bulk-action bar, for senior managers and admins.
type bulkForm struct {
	Owners []option // whom the leads may go to
	Back   string   // the list as it is, to come back to
}

// bulkOutcome is what became of one lead of a bulk action.
type bulkOutcome struct {
	ID, Title string
	OK        bool
	Link      bool   // the lead is the actor's to see
	Text      string // what was done, or why not, in the user's language
}

type bulkData struct {
	Heading  string
	Done     int
	Outcomes []bulkOutcome
	Back     string
}

// leadsBulk applies one action to the leads ticked in the list, or to all of
// its page ("select all on this page" sends the page's ids, so it works
// without JavaScript), through the same LeadService.Bulk as POST /leads/bulk:
// each lead changes or not on its own rules. The answer lists each lead's
// outcome; it is a page, not a redirect, because a flash cannot hold a list.
func (a *App) leadsBulk(w http.ResponseWriter, r *http.Request, v *view) {
	back := listBack(r.PostFormValue("back"))
	ids := r.PostForm["ids"]
	if r.PostFormValue("all") == "1" {
		ids = r.PostForm["page"]
	}
	action, owner := r.PostFormValue("action"), r.PostFormValue("owner_id")
	results, err := a.deps.Leads.Bulk(r.Context(), ids, action, owner)
	if err != nil {
		switch {
		case !crm.IsKind(err, crm.EINVALID):
			a.fail(w, r, v, err) // a manager: the 403 page, as the bar is not his
		case len(ids) == 0:
			a.redirect(w, r, back, bad(v.L.T("bulk.none_ticked")))
		case action == crm.BulkReassign && owner == "":
			a.redirect(w, r, back, bad(v.L.T("bulk.no_owner")))
		default:
			a.redirect(w, r, back, bad(a.explain(v.L, err)))
		}
		return
	}
	people := a.people(r, v)
	d := bulkData{Back: back, Heading: v.L.T("bulk.advance")}
	if action == crm.BulkReassign {
		d.Heading = v.L.T("bulk.reassign_to", namer(v, people)(crm.NormalizeID(owner)))
	}
	for _, res := range results {
		o := bulkOutcome{ID: res.ID, OK: res.Err == nil}
		switch {
		case res.Err == nil:
			o.Title, o.Link = leadTitle(res.Lead), true
			if action == crm.BulkReassign {
				o.Text = v.L.T("flash.owner_changed", namer(v, people)(res.Lead.OwnerID))
			} else {
				o.Text = v.L.T("flash.stage_moved", v.L.T("lead_stage."+string(res.Lead.Stage)))
			}
			d.Done++
		case crm.IsKind(res.Err, crm.ENOTFOUND):
			// Unknown or not the actor's to see: its id only, as it was sent.
			o.Title, o.Text = "#"+res.ID, v.L.T("code.not_found")
		default:
			o.Title, o.Text = "#"+res.ID, a.explainBulk(v.L, res.Err)
			if l, err := a.deps.Leads.Lead(r.Context(), res.ID); err == nil {
				o.Title, o.Link = leadTitle(l), true
			}
		}
		d.Outcomes = append(d.Outcomes, o)
	}
	f := ok(v.L.T("bulk.summary", v.L.Int(d.Done), v.L.Int(len(d.Outcomes))))
	if d.Done < len(d.Outcomes) {
		f = bad(f.Text)
	}
	v.Title, v.Nav, v.Data, v.Flash = d.Heading, "leads", d, f
	a.render(w, r, v, "leads_bulk", http.StatusOK)
}

// listBack returns back when it is the lead list (with a query or not),
// and the plain list otherwise: a form cannot send the user off the app.
func listBack(back string) string {
	if !localPath(back) || !strings.HasPrefix(back, "/app/leads") || strings.HasPrefix(back, "/app/leads/") {
		return "/app/leads"
	}
	return back
}

// explainBulk says why one lead of a bulk action did not change; a refused
// move is said for a list, not for the lead page explain has in mind.
func (a *App) explainBulk(l *Locale, err error) string {
	if crm.ErrorCode(err) == crm.CodeInvalidTransition {
		return l.T("bulk.no_advance")
	}
	return a.explain(l, err)
}
