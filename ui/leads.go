package ui

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/export"
	"github.com/crmleads/crm/internal/request"
)

const listPageSize = 25

type option struct {
	Value, Label string
	Selected     bool
}

type leadRow struct {
	Lead  *crm.Lead
	Owner string
	Task  *crm.Task   // in the list: the lead's soonest open task the actor sees, if any
	Late  bool        // the task is overdue
	Moves []boardMove // on the board: the legal moves of the card
	Next  string      // the same, for the board's script
}

type leadsData struct {
	Stage, Source, Owner, Q string
	NoNextStep              bool
	Stages                  []option
	Sources                 []option
	Owners                  []option // empty: no owner filter for this role
	Rows                    []leadRow
	NextURL                 string
	Filtered                bool
	Sort                    string              // the list's sort, as in its query
	Sorts                   map[string]sortLink // the sortable columns' header links
	ExportURL               string              // the list's filters, as CSV
	Bulk                    *bulkForm           // nil: no bulk actions for this role
	Saved                   []savedFilter       // the user's saved filters, for the sidebar
	SaveQuery               string              // the list's query as a filter may keep it; "": nothing to save
	Back                    string              // this list, to come back to
}

// people returns the users whose names the actor may read, by id: senior
// managers and admins see the whole team (Service.Colleagues); a manager sees
// only himself, and a short id for colleagues.
func (a *App) people(r *http.Request, v *view) map[string]*crm.User {
	m := map[string]*crm.User{v.User.ID: v.User}
	if !v.User.Role.SeesAll() {
		return m
	}
	if us, err := a.deps.Users.Colleagues(r.Context()); err == nil {
		for _, u := range us {
			m[u.ID] = u
		}
	}
	return m
}

// ownerOptions lists the active users of people by name, for an owner select;
// selected is marked, and shown even when that user is no longer active.
// The actor is left out when skipSelf (the list's "Mine" stands for him).
func ownerOptions(v *view, people map[string]*crm.User, selected string, skipSelf bool) []option {
	return userOptions(people, selected, func(u *crm.User) bool {
		return (u.Active || u.ID == selected) && !(skipSelf && u.ID == v.User.ID)
	})
}

// userOptions lists the users of people that keep accepts, sorted by name.
func userOptions(people map[string]*crm.User, selected string, keep func(*crm.User) bool) []option {
	var us []*crm.User
	for _, u := range people {
		if keep(u) {
			us = append(us, u)
		}
	}
	sort.Slice(us, func(i, j int) bool {
		if a, b := displayName(us[i]), displayName(us[j]); a != b {
			return a < b
		}
		return us[i].ID < us[j].ID
	})
	var out []option
	for _, u := range us {
		out = append(out, option{u.ID, displayName(u), u.ID == selected})
	}
	return out
}

func ownerName(v *view, people map[string]*crm.User, id string) string {
	switch {
	case id == "":
		return "—"
	case id == v.User.ID:
		return v.L.T("owner.you")
	case people[id] != nil:
		return displayName(people[id])
	}
	return v.L.T("owner.colleague", id[len(id)-6:])
}

func displayName(u *crm.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

func leadTitle(l *crm.Lead) string {
	switch {
	case l.Name != "" && l.Company != "":
		return l.Name + " · " + l.Company
	case l.Name != "":
		return l.Name
	case l.Company != "":
		return l.Company
	case l.Email != "":
		return l.Email
	}
	return "#" + l.ID[len(l.ID)-6:]
}

func (a *App) leadsPage(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	d := leadsData{Stage: q.Get("stage"), Source: q.Get("source"), Owner: q.Get("owner"), Q: q.Get("q")}
	d.NoNextStep = q.Get("no_next_step") == "1"
	d.Filtered = d.Stage != "" || d.Source != "" || d.Owner != "" || d.Q != "" || d.NoNextStep
	d.ExportURL = "/app/leads/export?" + listQuery(q, "stage", "source", "owner", "q", "no_next_step", "sort").Encode()
	for _, s := range crm.LeadStages {
		d.Stages = append(d.Stages, option{string(s), v.L.T("lead_stage." + string(s)), d.Stage == string(s)})
	}
	for _, s := range crm.Sources {
		d.Sources = append(d.Sources, option{string(s), v.L.T("source." + string(s)), d.Source == string(s)})
	}
	people := a.people(r, v)
	owner := d.Owner
	if v.User.Role.SeesAll() {
		d.Owners = append(d.Owners, option{"me", v.L.T("owner.mine"), d.Owner == "me"})
		if owner == "me" {
			owner = v.User.ID
		}
		d.Owners = append(d.Owners, ownerOptions(v, people, d.Owner, true)...)
	} else {
		owner = ""
	}
	srt, err := crm.ParseSort(q.Get("sort"), crm.LeadSortKeys)
	if err != nil { // an unknown key: the 422 page, as the API answers
		a.fail(w, r, v, err)
		return
	}
	d.Sort = srt.String()
	d.Sorts = sortLinks("/app/leads", q, srt, crm.LeadSortKeys, "stage", "source", "owner", "q", "no_next_step")
	leads, next, err := a.deps.Leads.Leads(r.Context(), crm.LeadFilter{Stage: crm.LeadStage(d.Stage),
		Source: crm.Source(d.Source), OwnerID: owner, Q: d.Q, NoNextStep: d.NoNextStep, Sort: srt, After: q.Get("cursor"), Limit: listPageSize})
	if err != nil {
		if badCursor(err) { // a stale or hand-made cursor: start again
			v.Flash = bad(a.explain(v.L, err))
			leads, next, err = a.deps.Leads.Leads(r.Context(), crm.LeadFilter{Sort: srt, Limit: listPageSize})
		}
		if err != nil {
			a.fail(w, r, v, err)
			return
		}
	}
	d.Back = r.URL.RequestURI()
	if v.User.Role.SeesAll() && len(leads) > 0 {
		d.Bulk = &bulkForm{Owners: ownerOptions(v, people, "", false), Back: d.Back}
	}
	d.SaveQuery = apiQuery(v, q)
	d.Saved = a.savedFilters(r, v, listURL(v, d.SaveQuery))
	tasks, now := a.nextTasks(r, leads), time.Now()
	for _, l := range leads {
		row := leadRow{Lead: l, Owner: ownerName(v, people, l.OwnerID), Task: tasks[l.ID]}
		row.Late = row.Task != nil && row.Task.DueAt.Before(now)
		d.Rows = append(d.Rows, row)
	}
	if next != "" {
		nq := url.Values{}
		for _, k := range []string{"stage", "source", "owner", "q", "no_next_step"} {
			if q.Get(k) != "" {
				nq.Set(k, q.Get(k))
			}
		}
		if d.Sort != "" { // the cursor carries the sort key; the next page keeps the order
			nq.Set("sort", d.Sort)
		}
		nq.Set("cursor", next)
		d.NextURL = "/app/leads?" + nq.Encode()
	}
	v.Title, v.Nav, v.Data = v.L.T("nav.leads"), "leads", d
	a.render(w, r, v, "leads", http.StatusOK)
}

// nextTasks finds the soonest open task of each lead of a list page, for its
// "next step": one read of the actor's open tasks (soonest due first, as many
// as Tasks returns), not one per lead. A lead whose tasks are not among them
// (somebody else's, or past that bound) shows its count of open tasks instead.
// The list does without next steps when they cannot be read.
func (a *App) nextTasks(r *http.Request, leads []*crm.Lead) map[string]*crm.Task {
	out := map[string]*crm.Task{}
	want := map[string]bool{}
	for _, l := range leads {
		if l.OpenTasks > 0 {
			want[l.ID] = true
		}
	}
	if len(want) == 0 {
		return out
	}
	open := false
	tasks, err := a.deps.Leads.Tasks(r.Context(), crm.TaskFilter{Done: &open})
	if err != nil {
		request.NoteError(r.Context(), err)
		return out
	}
	for _, t := range tasks {
		if want[t.LeadID] && out[t.LeadID] == nil {
			out[t.LeadID] = t
		}
	}
	return out
}

type column struct {
	Stage  string
	Rows   []leadRow
	More   bool
	Count  int                 // every lead of the stage the actor sees, not only the shown
	Totals []crm.CurrencyTotal // sales boards only
}

type boardData struct {
	Columns    []column
	NoNextStep int
}

const boardColumnSize = 50

func (a *App) boardPage(w http.ResponseWriter, r *http.Request, v *view) {
	people := a.people(r, v)
	sum, err := a.deps.Leads.LeadSummary(r.Context())
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	counts := map[string]int{}
	for _, s := range sum.Stages {
		counts[s.Stage] = s.Count
	}
	var cols []column
	for _, s := range crm.LeadStages {
		leads, next, err := a.deps.Leads.Leads(r.Context(), crm.LeadFilter{Stage: s, Limit: boardColumnSize})
		if err != nil {
			a.fail(w, r, v, err)
			return
		}
		c := column{Stage: string(s), More: next != "", Count: counts[string(s)]}
		for _, l := range leads {
			ms := leadMoves(l)
			c.Rows = append(c.Rows, leadRow{Lead: l, Owner: ownerName(v, people, l.OwnerID), Moves: ms, Next: moveStages(ms)})
		}
		cols = append(cols, c)
	}
	v.Title, v.Nav, v.Data = v.L.T("nav.board"), "board", boardData{Columns: cols, NoNextStep: sum.NoNextStep}
	a.render(w, r, v, "board", http.StatusOK)
}

// leadForm holds what was typed, so that a form with errors comes back filled in.
type leadForm struct {
	Source, BusinessDomain, MessagesCount, Name, Email, Phone, Company, Note, OwnerID string
}

type leadNewData struct {
	Form    leadForm
	Errors  map[string]string
	Sources []crm.Source
	Domains []string
	Owners  []option
	// The open leads the typed one looks like (a possible_duplicate), as the
	// user may see them; the page offers to open one or to create anyway.
	Duplicates []duplicateView
}

// duplicateView is one open lead a new one looks like.
type duplicateView struct {
	ID, Title, Owner string
}

func (a *App) leadNewData(r *http.Request, v *view, f leadForm, errs map[string]string) leadNewData {
	d := leadNewData{Form: f, Errors: errs, Sources: crm.Sources, Domains: a.domains(r)}
	if v.User.Role.SeesAll() {
		d.Owners = ownerOptions(v, a.people(r, v), f.OwnerID, true)
	}
	return d
}

func (a *App) leadNewPage(w http.ResponseWriter, r *http.Request, v *view) {
	v.Title, v.Nav = v.L.T("lead_new.title"), "leads"
	v.Data = a.leadNewData(r, v, leadForm{Source: string(crm.SourceManual), MessagesCount: "0"}, nil)
	a.render(w, r, v, "lead_new", http.StatusOK)
}

func (a *App) leadCreate(w http.ResponseWriter, r *http.Request, v *view) {
	f := leadForm{Source: r.PostFormValue("source"), BusinessDomain: r.PostFormValue("business_domain"),
		MessagesCount: strings.TrimSpace(r.PostFormValue("messages_count")), Name: r.PostFormValue("name"),
		Email: r.PostFormValue("email"), Phone: r.PostFormValue("phone"),
		Company: r.PostFormValue("company"), Note: r.PostFormValue("note"), OwnerID: r.PostFormValue("owner_id")}
	in := crm.LeadInput{Source: crm.Source(f.Source), BusinessDomain: f.BusinessDomain, Name: f.Name,
		Email: f.Email, Phone: f.Phone, Company: f.Company, Note: f.Note, OwnerID: f.OwnerID}
	in.AllowDuplicate = r.PostFormValue("allow_duplicate") == "1"
	var err error
	if f.MessagesCount != "" {
		in.MessagesCount, err = strconv.Atoi(f.MessagesCount)
	}
	// The page asks for someone to call: at least one of name, company,
	// email or phone (the API still takes a lead from its source alone).
	noContact := strings.TrimSpace(f.Name+f.Company+f.Email+f.Phone) == ""
	if err != nil || noContact {
		// The form could not even be read: show this and whatever else the
		// domain's own validation finds, without creating anything.
		errs := map[string]string{}
		if verr := in.Validate(a.domains(r)); verr != nil {
			errs, _ = fieldErrors(v.L, verr)
		}
		if err != nil {
			errs["messages_count"] = v.L.T("fe.not_a_number")
		}
		if noContact && errs["name"] == "" {
			errs["name"] = v.L.T("fe.contact_required")
		}
		a.leadNewInvalid(w, r, v, f, errs)
		return
	}
	l, err := a.deps.Leads.CreateLead(r.Context(), in)
	if err != nil {
		if errs, ok := fieldErrors(v.L, err); ok {
			a.leadNewInvalid(w, r, v, f, errs)
			return
		}
		var e *crm.Error
		if errors.As(err, &e) && e.Code == crm.CodePossibleDuplicate {
			a.leadNewDuplicate(w, r, v, f, e.Duplicates)
			return
		}
		if crm.IsKind(err, crm.EFORBIDDEN) || crm.IsKind(err, crm.ECONFLICT) {
			v.Flash = bad(a.explain(v.L, err))
			a.leadNewInvalid(w, r, v, f, nil)
			return
		}
		a.fail(w, r, v, err)
		return
	}
	a.redirect(w, r, "/app/leads/"+l.ID, ok(v.L.T("flash.lead_created")))
}

func (a *App) leadNewInvalid(w http.ResponseWriter, r *http.Request, v *view, f leadForm, errs map[string]string) {
	v.Title, v.Nav = v.L.T("lead_new.title"), "leads"
	v.Data = a.leadNewData(r, v, f, errs)
	if v.Flash == nil {
		v.Flash = bad(v.L.T("error.form"))
	}
	a.render(w, r, v, "lead_new", http.StatusUnprocessableEntity)
}

// leadNewDuplicate shows the form again, filled in, with the open leads the
// new one looks like: each with a link to open it, and a button that sends
// the same form with allow_duplicate.
func (a *App) leadNewDuplicate(w http.ResponseWriter, r *http.Request, v *view, f leadForm, dups []crm.DuplicateLead) {
	v.Title, v.Nav = v.L.T("lead_new.title"), "leads"
	d := a.leadNewData(r, v, f, nil)
	people := a.people(r, v)
	for _, dup := range dups {
		title := leadTitle(&crm.Lead{ID: dup.ID, Name: dup.Name, Company: dup.Company})
		owner := ownerName(v, people, dup.OwnerID)
		if dup.Owner != "" && dup.OwnerID != v.User.ID && people[dup.OwnerID] == nil {
			owner = dup.Owner
		}
		d.Duplicates = append(d.Duplicates, duplicateView{ID: dup.ID, Title: title, Owner: owner})
	}
	v.Data = d
	a.render(w, r, v, "lead_new", http.StatusConflict)
}

// ---- the lead page ----

type analysisView struct {
	*crm.LeadAnalysis
	Band  string // low | medium | high
	Stale bool
	// The reason in the page's language where the analysis has it, else in
	// the other; ReasonLang says which, for the lang attribute.
	ReasonText, ReasonLang string
}

// reasonIn picks the AI's reason for a page in lang: the Ukrainian one on a
// Ukrainian page, the English one otherwise, each falling back to the other
// (an analysis made before reason_uk was asked for has English only).
func reasonIn(lang, en, uk string) (text, textLang string) {
	if lang == "uk" && uk != "" || en == "" {
		return uk, "uk"
	}
	return en, "en"
}

type eventView struct {
	When time.Time
	Who  string
	Text string
}

type leadPageData struct {
	Lead     *crm.Lead
	Owner    string
	Form     leadForm
	Errors   map[string]string
	Domains  []string
	Next     []crm.LeadStage
	Blockers []string
	Analysis *analysisView
	Analyses []*crm.AnalysisRecord
	Events   []eventView
	Owners   []option // the reassign select; empty for managers
	Sale     *crm.Sale
	MinScore float64
	Final    bool
	CanMove  bool
	Track    []step
	// The conversation, and what its form may log (notes only on a closed lead).
	Activities    []activityView
	ActivityKinds []crm.ActivityKind
	Timeline      []timelineItem
	Tasks         []taskView
	// The new-task form: its default due time (an hour from now) as the
	// page's language writes it, or what was typed when it came back invalid.
	TaskForm   taskForm
	TaskErrors map[string]string
	Currency   string // the default currency of a transfer's value
}

// activityView is one line of the conversation on the lead page.
type activityView struct {
	When      time.Time
	Who, Text string
	Kind      crm.ActivityKind
}

// step is one stage of a pipeline strip (the lead page's, the sale page's).
type step struct{ Stage, Class string }

// Current reports whether the step is the stage the lead or sale is at; the
// strip marks it with aria-current="step".
func (s step) Current() bool { return strings.HasPrefix(s.Class, "current") }

// track lays out the pipeline for a lead at stage cur: done, current, to do;
// a lost lead shows lost as its current step after the stages it reached.
func track(cur crm.LeadStage, reached map[crm.LeadStage]bool) []step {
	main := []crm.LeadStage{crm.LeadNew, crm.LeadContacted, crm.LeadQualified, crm.LeadTransferred}
	return strip(cur, main, crm.LeadLost, reached)
}

// saleTrack lays out a sale's pipeline the same way: new → kyc → agreement →
// paid, or lost after the stages it reached.
func saleTrack(cur crm.SaleStage, reached map[crm.SaleStage]bool) []step {
	main := []crm.SaleStage{crm.SaleNew, crm.SaleKYC, crm.SaleAgreement, crm.SalePaid}
	return strip(cur, main, crm.SaleLost, reached)
}

func strip[S ~string](cur S, main []S, lost S, reached map[S]bool) []step {
	var out []step
	for _, s := range main {
		c := "todo"
		switch {
		case s == cur:
			c = "current"
		case reached[s]:
			c = "done"
		}
		out = append(out, step{string(s), c})
	}
	if cur == lost {
		out = append(out, step{string(lost), "current lost"})
	}
	return out
}

// band names the score's zone: high from the transfer threshold up, low below 0.4.
func band(score, threshold float64) string {
	switch {
	case crm.MeetsThreshold(score, threshold):
		return "high"
	case score < 0.4:
		return "low"
	}
	return "medium"
}

func (a *App) leadPage(w http.ResponseWriter, r *http.Request, v *view) {
	a.showLead(w, r, v, nil, nil, http.StatusOK)
}

// showLead renders the lead page; form and errs are set when an edit came back invalid.
func (a *App) showLead(w http.ResponseWriter, r *http.Request, v *view, form *leadForm, errs map[string]string, status int) {
	a.showLeadWith(w, r, v, status, func(d *leadPageData) {
		if form != nil {
			d.Form = *form
		}
		d.Errors = errs
	})
}

// showLeadWith renders the lead page, letting typed set what a form that
// came back invalid shows.
func (a *App) showLeadWith(w http.ResponseWriter, r *http.Request, v *view, status int, typed func(d *leadPageData)) {
	ctx, id, svc := r.Context(), r.PathValue("id"), a.deps.Services
	l, err := svc.Leads.Lead(ctx, id)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	blockers, err := svc.Leads.TransferCheck(ctx, id)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	analyses, err := svc.Analyses.Analyses(ctx, id)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	events, err := svc.Leads.LeadEvents(ctx, id)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	people := a.people(r, v)
	d := leadPageData{Lead: l, Owner: ownerName(v, people, l.OwnerID), Domains: withCurrent(a.domains(r), l.BusinessDomain),
		Next: l.Stage.NextStages(), Blockers: blockers, Analyses: analyses, MinScore: svc.Leads.MinScore(),
		Final: l.Stage.Final()}
	d.CanMove = len(d.Next) > 0
	if v.User.Role.SeesAll() {
		d.Owners = ownerOptions(v, people, l.OwnerID, false)
	}
	d.Form = leadForm{Name: l.Name, Email: l.Email, Phone: l.Phone, Company: l.Company, Note: l.Note,
		BusinessDomain: l.BusinessDomain, MessagesCount: strconv.Itoa(l.MessagesCount)}
	if l.AI != nil {
		d.Analysis = &analysisView{LeadAnalysis: l.AI, Band: band(l.AI.Score, d.MinScore), Stale: l.AnalysisStale()}
		d.Analysis.ReasonText, d.Analysis.ReasonLang = reasonIn(v.L.Lang, l.AI.Reason, l.AI.ReasonUK)
	}
	if l.Stage == crm.LeadTransferred {
		if s, err := svc.Leads.LeadSale(ctx, id); err == nil {
			d.Sale = s
		}
	}
	reached := map[crm.LeadStage]bool{crm.LeadNew: true}
	for _, e := range events {
		if e.Action == crm.ActionLeadStage || e.Action == crm.ActionLeadTransferred {
			reached[crm.LeadStage(e.From)] = true
		}
		d.Events = append(d.Events, eventView{When: e.CreatedAt, Who: actorName(v, people, e.ActorID), Text: describeEvent(v.L, e, namer(v, people))})
	}
	d.Track = track(l.Stage, reached)
	acts, err := svc.Leads.Activities(ctx, id)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	for _, act := range acts {
		d.Activities = append(d.Activities, activityView{When: act.At, Who: actorName(v, people, act.ActorID), Text: act.Text, Kind: act.Kind})
	}
	d.ActivityKinds = crm.ActivityKinds
	if d.Final {
		d.ActivityKinds = []crm.ActivityKind{crm.ActivityNote}
	}
	entries, err := svc.Leads.Timeline(ctx, id)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	d.Timeline = timeline(v, people, entries)
	tasks, err := svc.Leads.LeadTasks(ctx, id)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	d.Tasks = leadTasks(v, people, tasks)
	d.TaskForm.Due = v.L.DateTimeValue(time.Now().Add(time.Hour).Truncate(time.Minute))
	d.Currency, _ = svc.Leads.DefaultCurrency(ctx)
	typed(&d)
	v.Title, v.Nav, v.Data = leadTitle(l), "leads", d
	a.render(w, r, v, "lead", status)
}

func actorName(v *view, people map[string]*crm.User, id string) string {
	if id == "" {
		return v.L.T("event.system")
	}
	return namer(v, people)(id)
}

// namer names users in sentences: by name when people has them (the actor
// included), otherwise by a short id.
func namer(v *view, people map[string]*crm.User) func(id string) string {
	return func(id string) string {
		switch {
		case id == "":
			return "—"
		case people[id] != nil:
			return displayName(people[id])
		case len(id) > 6:
			return v.L.T("owner.colleague", id[len(id)-6:])
		}
		return v.L.T("owner.colleague", id)
	}
}

// describeEvent writes one entry of the audit trail as a sentence, for the
// lead page's history and the audit page; name names a user by id.
func describeEvent(l *Locale, e *crm.Event, name func(id string) string) string {
	changes, _ := e.Data["changes"].(map[string]any)
	switch e.Action {
	case crm.ActionLeadCreated:
		return l.T("event.lead_created")
	case crm.ActionLeadStage:
		return l.T("event.lead_stage", l.T("lead_stage."+e.From), l.T("lead_stage."+e.To))
	case crm.ActionLeadMessages:
		return l.T("event.lead_messages", fmt.Sprint(e.Data["from"]), fmt.Sprint(e.Data["to"]))
	case crm.ActionLeadOwner:
		if c, ok := changes["owner_id"].(map[string]any); ok && len(changes) == 1 {
			from, _ := c["from"].(string)
			to, _ := c["to"].(string)
			return l.T("event.lead_owner", name(from), name(to))
		}
		return l.T("event.lead_updated", changedFields(l, changes))
	case crm.ActionLeadUpdated:
		return l.T("event.lead_updated", changedFields(l, changes))
	case crm.ActionLeadAnalyzed:
		score, _ := e.Data["score"].(float64)
		rec, _ := e.Data["recommendation"].(string)
		return l.T("event.lead_analyzed", l.Num(score), l.T("rec."+rec))
	case crm.ActionLeadTransferred:
		// Since the calibrated gate exists, the event names the score the
		// gate compared and which one it was.
		if score, ok := e.Data["gate_score"].(float64); ok {
			basis, _ := e.Data["gate_basis"].(string)
			return l.T("event.lead_transferred_gate", l.Num(score), l.TOr("gate."+basis, basis))
		}
		return l.T("event.lead_transferred")
	case crm.ActionTaskCreated, crm.ActionTaskUpdated, crm.ActionTaskDone, crm.ActionTaskReopen, crm.ActionTaskDeleted:
		title, _ := e.Data["title"].(string)
		return l.T("event."+strings.ReplaceAll(e.Action, ".", "_"), title)
	case crm.ActionSaleStage:
		return l.T("event.sale_stage", l.T("sale_stage."+e.From), l.T("sale_stage."+e.To))
	case crm.ActionSaleValue:
		amount, _ := e.Data["amount"].(string)
		currency, _ := e.Data["currency"].(string)
		return l.T("event.sale_value", l.Decimal(amount)+"\u00a0"+currency)
	case crm.ActionUserCreated:
		return l.T("event.user_created", name(e.UserID), l.TOr("role."+e.To, e.To))
	case crm.ActionUserUpdated:
		return l.T("event.user_updated", name(e.UserID), changedFields(l, changes))
	case crm.ActionSettingsUpdated:
		if c, ok := changes["business_domains"].(map[string]any); ok {
			return l.T("event.domains_updated", listed(c["from"]), listed(c["to"]))
		}
		if c, ok := changes["transfer_gate"].(map[string]any); ok {
			from, _ := c["from"].(string)
			to, _ := c["to"].(string)
			return l.T("event.gate_updated", l.TOr("gate."+from, from), l.TOr("gate."+to, to))
		}
		return l.T("event.settings_updated", changedFields(l, changes))
	}
	return e.Action
}

// listed writes a list read from an event's data (a JSON array) comma-separated.
func listed(v any) string {
	items, _ := v.([]any)
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = fmt.Sprint(it)
	}
	return strings.Join(parts, ", ")
}

// changedFields lists the labels of the changed fields, sorted.
func changedFields(l *Locale, changes map[string]any) string {
	var fields []string
	for k := range changes {
		fields = append(fields, l.TOr("field."+k, k))
	}
	sort.Strings(fields)
	return strings.Join(fields, ", ")
}

// ---- lead actions: each is a POST that ends in a redirect to the lead ----

func (a *App) leadURL(r *http.Request) string {
	return "/app/leads/" + url.PathEscape(r.PathValue("id"))
}

// afterLeadAction redirects back to the lead with a flash saying how it went;
// an invisible lead is a 404 page, never a hint that it exists.
func (a *App) afterLeadAction(w http.ResponseWriter, r *http.Request, v *view, err error, success string) {
	switch {
	case err == nil:
		a.redirect(w, r, a.leadURL(r), ok(success))
	case crm.IsKind(err, crm.ENOTFOUND), crm.IsKind(err, crm.EUNAUTHORIZED), crm.IsKind(err, crm.EINTERNAL):
		a.fail(w, r, v, err)
	default:
		a.redirect(w, r, a.leadURL(r), bad(a.explain(v.L, err)))
	}
}

func (a *App) leadUpdate(w http.ResponseWriter, r *http.Request, v *view) {
	f := leadForm{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"),
		Phone: r.PostFormValue("phone"), Company: r.PostFormValue("company"), Note: r.PostFormValue("note"),
		BusinessDomain: r.PostFormValue("business_domain")}
	u := crm.LeadUpdate{Name: &f.Name, Email: &f.Email, Phone: &f.Phone, Company: &f.Company, Note: &f.Note}
	// A closed lead's page sends no domain (its select is disabled): leave it alone.
	if _, sent := r.PostForm["business_domain"]; sent {
		if f.BusinessDomain == "" {
			u.ClearBusinessDomain = true
		} else {
			u.BusinessDomain = &f.BusinessDomain
		}
	}
	_, err := a.deps.Leads.UpdateLead(r.Context(), r.PathValue("id"), u)
	if errs, invalid := fieldErrors(v.L, err); invalid {
		v.Flash = bad(v.L.T("error.form"))
		a.showLead(w, r, v, &f, errs, http.StatusUnprocessableEntity)
		return
	}
	a.afterLeadAction(w, r, v, err, v.L.T("flash.lead_saved"))
}

func (a *App) leadMessages(w http.ResponseWriter, r *http.Request, v *view) {
	n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("messages_count")))
	if err != nil {
		a.redirect(w, r, a.leadURL(r), bad(v.L.T("field.messages_count")+": "+v.L.T("fe.not_a_number")))
		return
	}
	_, err = a.deps.Leads.SetMessages(r.Context(), r.PathValue("id"), n)
	a.afterLeadAction(w, r, v, err, v.L.T("flash.messages_saved"))
}

func (a *App) leadIncrement(w http.ResponseWriter, r *http.Request, v *view) {
	l, err := a.deps.Leads.IncrementMessages(r.Context(), r.PathValue("id"))
	msg := ""
	if err == nil {
		msg = v.L.T("flash.messages_now", v.L.Int(l.MessagesCount))
	}
	a.afterLeadAction(w, r, v, err, msg)
}

func (a *App) leadStage(w http.ResponseWriter, r *http.Request, v *view) {
	to := r.PostFormValue("stage")
	c := crm.StageChange{Stage: crm.LeadStage(to)}
	if c.Stage == crm.LeadLost { // the reason field is only for a loss
		c.LostReason = r.PostFormValue("lost_reason")
	}
	_, err := a.deps.Leads.ChangeStage(r.Context(), r.PathValue("id"), c)
	a.afterMove(w, r, v, err, a.leadURL(r), v.L.T("flash.stage_moved", v.L.TOr("lead_stage."+to, to)))
}

func (a *App) leadAnalyze(w http.ResponseWriter, r *http.Request, v *view) {
	res, err := a.deps.Analyses.Analyze(r.Context(), r.PathValue("id"))
	msg := ""
	if err == nil {
		msg = v.L.T("flash.analyzed", v.L.Num(res.Score), v.L.T("rec."+string(res.Recommendation)))
	} else if k := crm.ErrorKind(err); k == crm.EBADGATEWAY || k == crm.EUNAVAILABLE {
		a.log.Warn("analyze", "error", err, "request_id", v.Actor.RequestID)
	}
	a.afterLeadAction(w, r, v, err, msg)
}

func (a *App) leadTransfer(w http.ResponseWriter, r *http.Request, v *view) {
	var value crm.DealValue
	// No amount typed is no value: the prefilled currency alone is none.
	if amount := strings.TrimSpace(r.PostFormValue("amount")); amount != "" {
		value = crm.DealValue{Amount: v.L.ReadDecimal(amount), Currency: r.PostFormValue("currency")}
	}
	sale, err := a.deps.Leads.TransferDeal(r.Context(), r.PathValue("id"), value)
	if err == nil {
		a.redirect(w, r, "/app/sales/"+sale.ID, ok(v.L.T("flash.transferred")))
		return
	}
	a.afterLeadAction(w, r, v, err, "")
}

// leadActivity logs a call, email, meeting or note on the lead.
func (a *App) leadActivity(w http.ResponseWriter, r *http.Request, v *view) {
	kind := crm.ActivityKind(r.PostFormValue("kind"))
	_, err := a.deps.Leads.LogActivity(r.Context(), r.PathValue("id"), crm.ActivityInput{Kind: kind, Text: r.PostFormValue("text")})
	a.afterLeadAction(w, r, v, err, v.L.T("flash.activity_logged", v.L.TOr("activity."+string(kind), string(kind))))
}

// leadOwner reassigns the lead (senior managers and admins; the service
// decides): a manager gets the 403 page, not a flash, as the form is not his.
func (a *App) leadOwner(w http.ResponseWriter, r *http.Request, v *view) {
	owner := r.PostFormValue("owner_id")
	l, err := a.deps.Leads.UpdateLead(r.Context(), r.PathValue("id"), crm.LeadUpdate{OwnerID: &owner})
	if crm.IsKind(err, crm.EFORBIDDEN) {
		a.fail(w, r, v, err)
		return
	}
	msg := ""
	if err == nil {
		msg = v.L.T("flash.owner_changed", namer(v, a.people(r, v))(l.OwnerID))
	}
	a.afterLeadAction(w, r, v, err, msg)
}

// domains returns the business-domain catalog for a form's select; if it
// cannot be read the select is empty and the service's own check still
// guards what is saved.
func (a *App) domains(r *http.Request) []string {
	d, err := a.deps.Leads.Domains(r.Context())
	if err != nil {
		return nil
	}
	return d
}

// withCurrent adds the lead's own domain to the catalog offered on its page
// when an admin has since removed it, so that saving the form keeps it.
func withCurrent(domains []string, current string) []string {
	if current == "" || slices.Contains(domains, current) {
		return domains
	}
	return append(slices.Clone(domains), current)
}

// badCursor reports whether err refuses the list's cursor only (a stale or
// hand-made one, which the list answers by starting again); any other invalid
// input, such as a NUL in q, is the error page's 422.
func badCursor(err error) bool {
	var e *crm.Error
	return errors.As(err, &e) && e.Kind == crm.EINVALID && len(e.Fields) == 1 && e.Fields[0].Field == "cursor"
}

// listQuery keeps the non-empty values of the named parameters.
func listQuery(q url.Values, keys ...string) url.Values {
	out := url.Values{}
	for _, k := range keys {
		if v := q.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// leadsExport streams the leads of the list's filters as CSV (the API's
// export, under the session), in the user's visibility.
func (a *App) leadsExport(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	owner := q.Get("owner")
	if owner == "me" || !v.User.Role.SeesAll() {
		owner = ""
		if q.Get("owner") == "me" {
			owner = v.User.ID
		}
	}
	srt, err := crm.ParseSort(q.Get("sort"), crm.LeadSortKeys)
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	f := crm.LeadFilter{Stage: crm.LeadStage(q.Get("stage")), Source: crm.Source(q.Get("source")), OwnerID: owner, Q: q.Get("q"),
		NoNextStep: q.Get("no_next_step") == "1", Sort: srt}
	if err := export.Check(r.Context(), a.deps.Leads, f); err != nil {
		a.fail(w, r, v, err)
		return
	}
	a.streamCSV(w, r, "leads.csv", func(out io.Writer) error {
		return export.Leads(r.Context(), out, a.deps.Leads, f, export.Format{BOM: true, Semicolon: v.L.Lang == "uk"})
	})
}

// streamCSV answers with the file write produces; an error once it has
// started can only cut it short, and goes to the access log.
func (a *App) streamCSV(w http.ResponseWriter, r *http.Request, name string, write func(io.Writer) error) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := write(w); err != nil {
		request.NoteError(r.Context(), err)
	}
}
