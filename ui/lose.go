package ui

import (
	"net/http"
	"strings"

	"github.com/crmleads/crm"
)

// loseData is the confirmation page of a loss: the reasons admins configured
// (GET /settings lost_reasons), free text, and what was chosen when the form
// came back.
type loseData struct {
	Lead          *crm.Lead
	Title         string
	Reasons       []string
	Reason, Other string
	Error         string
}

// losePage asks why the lead is lost before losing it: one click on the lead
// page or a drop on the board's lost column opens it, and only its confirm
// button loses the lead (no JavaScript needed).
func (a *App) losePage(w http.ResponseWriter, r *http.Request, v *view) {
	a.showLose(w, r, v, "", "", "", http.StatusOK)
}

func (a *App) showLose(w http.ResponseWriter, r *http.Request, v *view, reason, other, problem string, status int) {
	l, err := a.deps.Leads.Lead(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	if err := l.Stage.CheckOpen(); err != nil {
		a.redirect(w, r, a.leadURL(r), bad(a.explain(v.L, err)))
		return
	}
	d := loseData{Lead: l, Title: leadTitle(l), Reason: reason, Other: other, Error: problem}
	// Without the settings the list is empty and free text still works.
	d.Reasons, _ = a.deps.Leads.LostReasonOptions(r.Context())
	if problem != "" {
		v.Flash = bad(v.L.T("error.form"))
	}
	v.Title, v.Nav, v.Data = v.L.T("lose.title", d.Title), "leads", d
	a.render(w, r, v, "lead_lose", status)
}

// leadLose loses the lead with the reason chosen and, or, typed: at least
// one is asked for on the page (the API's reason stays optional).
func (a *App) leadLose(w http.ResponseWriter, r *http.Request, v *view) {
	reason, other := r.PostFormValue("reason"), strings.TrimSpace(r.PostFormValue("other"))
	full := strings.TrimSpace(reason)
	switch {
	case full == "" && other == "":
		a.showLose(w, r, v, reason, other, v.L.T("lose.need_reason"), http.StatusUnprocessableEntity)
		return
	case full == "":
		full = other
	case other != "":
		full += " — " + other
	}
	_, err := a.deps.Leads.ChangeStage(r.Context(), r.PathValue("id"), crm.StageChange{Stage: crm.LeadLost, LostReason: full})
	if errs, invalid := fieldErrors(v.L, err); invalid {
		a.showLose(w, r, v, reason, other, errs["lost_reason"], http.StatusUnprocessableEntity)
		return
	}
	a.afterLeadAction(w, r, v, err, v.L.T("flash.stage_moved", v.L.T("lead_stage.lost")))
}
