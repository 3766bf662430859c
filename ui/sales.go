package ui

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/export"
)

type saleRow struct {
	Sale  *crm.Sale
	Lead  string // the lead's title
	Owner string
	Moves []boardMove // on the board: the legal moves of the card
	Next  string
}

type salesData struct {
	Stage     string
	Sort      string              // the list's sort, as in its query
	Sorts     map[string]sortLink // the sortable columns' header links
	Stages    []option
	Rows      []saleRow
	NextURL   string
	ExportURL string
}

// saleRows adds the lead's title to each sale (one read per sale: a page is
// small, and the lead is the actor's to see when the sale is).
func (a *App) saleRows(r *http.Request, v *view, sales []*crm.Sale) []saleRow {
	people := a.people(r, v)
	rows := make([]saleRow, len(sales))
	for i, s := range sales {
		rows[i] = saleRow{Sale: s, Owner: ownerName(v, people, s.OwnerID), Lead: "#" + s.LeadID[len(s.LeadID)-6:]}
		if l, err := a.deps.Leads.Lead(r.Context(), s.LeadID); err == nil {
			rows[i].Lead = leadTitle(l)
		}
	}
	return rows
}

func (a *App) salesPage(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	d := salesData{Stage: q.Get("stage")}
	d.ExportURL = "/app/sales/export?" + listQuery(q, "stage", "sort").Encode()
	for _, s := range crm.SaleStages {
		d.Stages = append(d.Stages, option{string(s), v.L.T("sale_stage." + string(s)), d.Stage == string(s)})
	}
	srt, err := crm.ParseSort(q.Get("sort"), crm.SaleSortKeys)
	if err != nil { // an unknown key: the 422 page, as the API answers
		a.fail(w, r, v, err)
		return
	}
	d.Sort = srt.String()
	d.Sorts = sortLinks("/app/sales", q, srt, crm.SaleSortKeys, "stage")
	sales, next, err := a.deps.Leads.Sales(r.Context(), crm.SaleFilter{Stage: crm.SaleStage(d.Stage), Sort: srt,
		After: q.Get("cursor"), Limit: listPageSize})
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	d.Rows = a.saleRows(r, v, sales)
	if next != "" {
		nq := url.Values{"cursor": {next}}
		if d.Stage != "" {
			nq.Set("stage", d.Stage)
		}
		if d.Sort != "" { // the cursor carries the sort key; the next page keeps the order
			nq.Set("sort", d.Sort)
		}
		d.NextURL = "/app/sales?" + nq.Encode()
	}
	v.Title, v.Nav, v.Data = v.L.T("nav.sales"), "sales", d
	a.render(w, r, v, "sales", http.StatusOK)
}

type saleCol struct {
	Stage  string
	Rows   []saleRow
	More   bool
	Count  int
	Totals []crm.CurrencyTotal
}

func (a *App) salesBoardPage(w http.ResponseWriter, r *http.Request, v *view) {
	sum, err := a.deps.Leads.SaleSummary(r.Context())
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	byStage := map[string]crm.StageSummary{}
	for _, s := range sum.Stages {
		byStage[s.Stage] = s
	}
	var cols []saleCol
	for _, s := range crm.SaleStages {
		sales, next, err := a.deps.Leads.Sales(r.Context(), crm.SaleFilter{Stage: s, Limit: boardColumnSize})
		if err != nil {
			a.fail(w, r, v, err)
			return
		}
		rows := a.saleRows(r, v, sales)
		for i := range rows {
			rows[i].Moves = saleMoves(rows[i].Sale)
			rows[i].Next = moveStages(rows[i].Moves)
		}
		st := byStage[string(s)]
		cols = append(cols, saleCol{Stage: string(s), Rows: rows, More: next != "", Count: st.Count, Totals: st.Totals})
	}
	v.Title, v.Nav, v.Data = v.L.T("sales.board"), "sales", cols
	a.render(w, r, v, "sales_board", http.StatusOK)
}

type salePageData struct {
	Sale   *crm.Sale
	Lead   *crm.Lead
	Title  string
	Owner  string
	By     string
	Next   []crm.SaleStage
	Events []eventView
	Track  []step // the stage progress: new → kyc → agreement → paid, or lost
	// The value form (an open sale only): what it shows, or what was typed
	// when it came back invalid, and the errors next to its fields.
	Amount, Currency string
	Errors           map[string]string
}

func (a *App) salePage(w http.ResponseWriter, r *http.Request, v *view) {
	a.showSale(w, r, v, nil, nil, http.StatusOK)
}

// showSale renders the sale page; typed and errs are set when the value form
// came back invalid.
func (a *App) showSale(w http.ResponseWriter, r *http.Request, v *view, typed *crm.DealValue, errs map[string]string, status int) {
	ctx, svc := r.Context(), a.deps.Services
	s, err := svc.Leads.Sale(ctx, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	l, err := svc.Leads.Lead(ctx, s.LeadID)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	events, err := svc.Leads.LeadEvents(ctx, s.LeadID)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	people := a.people(r, v)
	d := salePageData{Sale: s, Lead: l, Title: leadTitle(l), Owner: ownerName(v, people, s.OwnerID),
		By: actorName(v, people, s.TransferredBy), Next: s.Stage.NextStages()}
	reached := map[crm.SaleStage]bool{crm.SaleNew: true}
	for _, e := range events {
		if e.SaleID == s.ID && e.Action == crm.ActionSaleStage {
			reached[crm.SaleStage(e.From)] = true
		}
		if e.SaleID == s.ID {
			d.Events = append(d.Events, eventView{When: e.CreatedAt, Who: actorName(v, people, e.ActorID), Text: describeEvent(v.L, e, namer(v, people))})
		}
	}
	d.Track = saleTrack(s.Stage, reached)
	d.Errors = errs
	switch {
	case typed != nil:
		d.Amount, d.Currency = typed.Amount, typed.Currency
	case s.HasValue():
		d.Amount, d.Currency = v.L.Decimal(s.Amount.Format(s.Currency)), s.Currency
	default:
		d.Currency, _ = svc.Leads.DefaultCurrency(ctx)
	}
	v.Title, v.Nav, v.Data = v.L.T("sale.title", d.Title), "sales", d
	a.render(w, r, v, "sale", status)
}

// saleValue sets the deal's value (PATCH /sales/{id} through the service: the
// owner, senior managers and admins; not once the sale is paid or lost).
func (a *App) saleValue(w http.ResponseWriter, r *http.Request, v *view) {
	typed := crm.DealValue{Amount: strings.TrimSpace(r.PostFormValue("amount")), Currency: strings.TrimSpace(r.PostFormValue("currency"))}
	in := crm.DealValue{Amount: v.L.ReadDecimal(typed.Amount), Currency: typed.Currency}
	s, err := a.deps.Leads.SetSaleValue(r.Context(), r.PathValue("id"), in)
	if errs, invalid := fieldErrors(v.L, err); invalid {
		v.Flash = bad(v.L.T("error.form"))
		a.showSale(w, r, v, &typed, errs, http.StatusUnprocessableEntity)
		return
	}
	back := "/app/sales/" + url.PathEscape(r.PathValue("id"))
	switch {
	case err == nil:
		a.redirect(w, r, back, ok(v.L.T("flash.sale_value", v.L.Money(s.Amount, s.Currency))))
	case crm.IsKind(err, crm.ECONFLICT):
		a.redirect(w, r, back, bad(a.explain(v.L, err)))
	default:
		a.fail(w, r, v, err)
	}
}

func (a *App) saleStage(w http.ResponseWriter, r *http.Request, v *view) {
	to := r.PostFormValue("stage")
	back := "/app/sales/" + url.PathEscape(r.PathValue("id"))
	_, err := a.deps.Leads.MoveSale(r.Context(), r.PathValue("id"), crm.SaleStage(to))
	a.afterMove(w, r, v, err, back, v.L.T("flash.sale_moved", v.L.TOr("sale_stage."+to, to)))
}

// salesExport streams the sales of the list's stage as CSV.
func (a *App) salesExport(w http.ResponseWriter, r *http.Request, v *view) {
	srt, err := crm.ParseSort(r.URL.Query().Get("sort"), crm.SaleSortKeys)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	f := crm.SaleFilter{Stage: crm.SaleStage(r.URL.Query().Get("stage")), Sort: srt}
	if err := export.CheckSales(r.Context(), a.deps.Leads, f); err != nil {
		a.fail(w, r, v, err)
		return
	}
	a.streamCSV(w, r, "sales.csv", func(out io.Writer) error {
		return export.Sales(r.Context(), out, a.deps.Leads, f, export.Format{BOM: true, Semicolon: v.L.Lang == "uk"})
	})
}
