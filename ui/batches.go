package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crmleads/crm"
)

// The batch re-analyses page (senior managers and admins): start a batch,
// follow its progress. The progress bars update without a reload: app.js
// polls each unfinished batch's JSON (this page's own, under the session,
// the same members as GET /ai/batches/{id}: the API wants a bearer token,
// and the session's cookie is not the script's to read).

type batchesData struct {
	Batches []batchView
	Paused  bool
	Budget  string
	Stages  []crm.LeadStage
	Sources []crm.Source
}

type batchView struct {
	*crm.AIBatch
	Settled int // done + failed: the bar's value
	Max     int // the bar's maximum (1 while the total is unknown)
}

func viewBatch(b *crm.AIBatch) batchView {
	return batchView{AIBatch: b, Settled: b.Done + b.Failed, Max: max(b.Total, 1)}
}

func (a *App) batchesPage(w http.ResponseWriter, r *http.Request, v *view) {
	ctx := r.Context()
	bs, err := a.deps.Analyses.Batches(ctx)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	costs, err := a.deps.Analyses.Costs(ctx, crm.CostFilter{})
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	d := batchesData{Paused: costs.BatchPaused, Budget: strconv.FormatFloat(costs.MonthlyBudgetUSD, 'f', 2, 64),
		Stages: []crm.LeadStage{crm.LeadNew, crm.LeadContacted, crm.LeadQualified}, Sources: crm.Sources}
	for _, b := range bs {
		d.Batches = append(d.Batches, viewBatch(b))
	}
	v.Title, v.Nav, v.Data = v.L.T("batch.title"), "quality", d
	a.render(w, r, v, "batches", http.StatusOK)
}

func (a *App) batchStart(w http.ResponseWriter, r *http.Request, v *view) {
	in := crm.BatchInput{Stage: crm.LeadStage(r.PostFormValue("stage")), Source: crm.Source(r.PostFormValue("source"))}
	if s := strings.TrimSpace(r.PostFormValue("limit")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			a.redirect(w, r, "/app/ai/batches", bad(v.L.T("batch.bad_limit")))
			return
		}
		in.Limit = n
	}
	b, err := a.deps.Analyses.StartBatch(r.Context(), in)
	if crm.IsKind(err, crm.EINVALID) {
		a.redirect(w, r, "/app/ai/batches", bad(a.explain(v.L, err)))
		return
	}
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	a.redirect(w, r, "/app/ai/batches#batch-"+url.PathEscape(b.ID), ok(v.L.T("flash.batch_started")))
}

// batchProgress answers the progress of one batch as JSON, for app.js.
func (a *App) batchProgress(w http.ResponseWriter, r *http.Request, v *view) {
	b, err := a.deps.Analyses.Batch(r.Context(), r.PathValue("id"))
	if err != nil {
		status := http.StatusInternalServerError
		switch {
		case crm.IsKind(err, crm.ENOTFOUND):
			status = http.StatusNotFound
		case crm.IsKind(err, crm.EFORBIDDEN):
			status = http.StatusForbidden
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	out := struct {
		Status     string     `json:"status"`
		Total      int        `json:"total"`
		Done       int        `json:"done"`
		Failed     int        `json:"failed"`
		CreatedAt  time.Time  `json:"created_at"`
		FinishedAt *time.Time `json:"finished_at"`
		Text       string     `json:"text"`
		Label      string     `json:"label"`
	}{Status: b.Status, Total: b.Total, Done: b.Done, Failed: b.Failed, CreatedAt: b.CreatedAt,
		Text:  v.L.T("batch.progress", v.L.Int(b.Done), v.L.Int(b.Total), v.L.Int(b.Failed)),
		Label: v.L.T("batch.status." + b.Status)}
	if !b.FinishedAt.IsZero() {
		out.FinishedAt = &b.FinishedAt
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}
