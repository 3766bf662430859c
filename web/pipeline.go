package web

import (
	"context"
	"time"

	"github.com/crmleads/crm"
)

// ---- tasks ----

// Task is the JSON form of a task.
type Task struct {
	ID         string     `json:"id" format:"uuid"`
	LeadID     string     `json:"lead_id" format:"uuid"`
	Title      string     `json:"title"`
	DueAt      time.Time  `json:"due_at"`
	AssigneeID string     `json:"assignee_id" format:"uuid"`
	Done       bool       `json:"done"`
	DoneAt     *time.Time `json:"done_at" nullable:"true"`
	CreatedBy  *string    `json:"created_by" nullable:"true" format:"uuid"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

func taskOut(t *crm.Task) Task {
	out := Task{ID: t.ID, LeadID: t.LeadID, Title: t.Title, DueAt: t.DueAt, AssigneeID: t.AssigneeID, Done: t.Done(),
		CreatedBy: optional(t.CreatedBy), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	if t.Done() {
		at := t.DoneAt
		out.DoneAt = &at
	}
	return out
}

type taskResponse struct{ Body Task }

func taskResult(t *crm.Task, err error) (*taskResponse, error) {
	if err != nil {
		return nil, err
	}
	return &taskResponse{Body: taskOut(t)}, nil
}

type tasksResponse struct{ Body []Task }

func tasksResult(ts []*crm.Task, err error) (*tasksResponse, error) {
	if err != nil {
		return nil, err
	}
	out := &tasksResponse{Body: make([]Task, len(ts))}
	for i, t := range ts {
		out.Body[i] = taskOut(t)
	}
	return out, nil
}

type taskCreateInput struct {
	ID   string `path:"id"`
	Body struct {
		Title      string    `json:"title" minLength:"1" maxLength:"200"`
		DueAt      time.Time `json:"due_at" doc:"RFC 3339"`
		AssigneeID string    `json:"assignee_id,omitempty" doc:"Defaults to the lead's owner; must be someone who can see the lead (its owner, a senior manager or an admin)"`
	}
}

func handleTaskCreate(d Deps) func(context.Context, *taskCreateInput) (*taskResponse, error) {
	return func(ctx context.Context, in *taskCreateInput) (*taskResponse, error) {
		return taskResult(d.Leads.CreateTask(ctx, in.ID, crm.TaskInput{Title: in.Body.Title,
			DueAt: in.Body.DueAt, AssigneeID: in.Body.AssigneeID}))
	}
}

func handleLeadTasks(d Deps) func(context.Context, *idPath) (*tasksResponse, error) {
	return func(ctx context.Context, in *idPath) (*tasksResponse, error) {
		return tasksResult(d.Leads.LeadTasks(ctx, in.ID))
	}
}

type taskUpdateInput struct {
	ID   string `path:"id"`
	Body struct {
		Title      *string    `json:"title,omitempty" minLength:"1" maxLength:"200"`
		DueAt      *time.Time `json:"due_at,omitempty"`
		AssigneeID *string    `json:"assignee_id,omitempty"`
		Done       *bool      `json:"done,omitempty" doc:"true marks the task done, false reopens it"`
	}
}

func handleTaskUpdate(d Deps) func(context.Context, *taskUpdateInput) (*taskResponse, error) {
	return func(ctx context.Context, in *taskUpdateInput) (*taskResponse, error) {
		b := in.Body
		if b.AssigneeID != nil {
			id := *b.AssigneeID
			b.AssigneeID = &id
		}
		return taskResult(d.Leads.UpdateTask(ctx, in.ID, crm.TaskUpdate{Title: b.Title, DueAt: b.DueAt,
			AssigneeID: b.AssigneeID, Done: b.Done}))
	}
}

func handleTaskDelete(d Deps) func(context.Context, *idPath) (*struct{}, error) {
	return func(ctx context.Context, in *idPath) (*struct{}, error) {
		return &struct{}{}, d.Leads.DeleteTask(ctx, in.ID)
	}
}

type taskListInput struct {
	AssigneeID string    `query:"assignee_id" doc:"Senior managers and admins; a manager only ever gets their own"`
	DueBefore  time.Time `query:"due_before" doc:"RFC 3339"`
	Done       string    `query:"done" enum:"true,false"`
}

func handleTaskList(d Deps) func(context.Context, *taskListInput) (*tasksResponse, error) {
	return func(ctx context.Context, in *taskListInput) (*tasksResponse, error) {
		f := crm.TaskFilter{AssigneeID: in.AssigneeID, DueBefore: in.DueBefore}
		if in.Done != "" {
			done := in.Done == "true"
			f.Done = &done
		}
		return tasksResult(d.Leads.Tasks(ctx, f))
	}
}

// ---- activities ----

// Activity is the JSON form of an activity.
type Activity struct {
	ID        string    `json:"id" format:"uuid"`
	LeadID    string    `json:"lead_id" format:"uuid"`
	Kind      string    `json:"kind" enum:"call,email,meeting,note"`
	Text      string    `json:"text"`
	At        time.Time `json:"at"`
	ActorID   *string   `json:"actor_id" nullable:"true" format:"uuid"`
	CreatedAt time.Time `json:"created_at"`
}

func activityOut(a *crm.Activity) Activity {
	return Activity{ID: a.ID, LeadID: a.LeadID, Kind: string(a.Kind), Text: a.Text, At: a.At,
		ActorID: optional(a.ActorID), CreatedAt: a.CreatedAt}
}

type activityInput struct {
	ID   string `path:"id"`
	Body struct {
		Kind string     `json:"kind" enum:"call,email,meeting,note" doc:"call, email and meeting are communications: each adds one to the lead's messages_count; a closed lead takes notes only"`
		Text string     `json:"text,omitempty" maxLength:"5000" doc:"Required for a note"`
		At   *time.Time `json:"at,omitempty" doc:"When it happened; now when left out"`
	}
}

type activityResponse struct{ Body Activity }

func handleActivityCreate(d Deps) func(context.Context, *activityInput) (*activityResponse, error) {
	return func(ctx context.Context, in *activityInput) (*activityResponse, error) {
		ai := crm.ActivityInput{Kind: crm.ActivityKind(in.Body.Kind), Text: in.Body.Text}
		if in.Body.At != nil {
			ai.At = *in.Body.At
		}
		a, err := d.Leads.LogActivity(ctx, in.ID, ai)
		if err != nil {
			return nil, err
		}
		return &activityResponse{Body: activityOut(a)}, nil
	}
}

type activitiesResponse struct{ Body []Activity }

func handleActivityList(d Deps) func(context.Context, *idPath) (*activitiesResponse, error) {
	return func(ctx context.Context, in *idPath) (*activitiesResponse, error) {
		as, err := d.Leads.Activities(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &activitiesResponse{Body: make([]Activity, len(as))}
		for i, a := range as {
			out.Body[i] = activityOut(a)
		}
		return out, nil
	}
}

// ---- deal value and boards ----

type saleValueInput struct {
	ID   string `path:"id"`
	Body struct {
		Amount   string `json:"amount" pattern:"^[0-9]+(\\.[0-9]+)?$" maxLength:"20" doc:"A decimal string ≥ 0 such as \"1250.00\" (a JSON number is refused)"`
		Currency string `json:"currency,omitempty" maxLength:"3" doc:"ISO 4217; the sale's currency, else the default of the settings, when left out"`
	}
}

func handleSaleValue(d Deps) func(context.Context, *saleValueInput) (*saleResponse, error) {
	return func(ctx context.Context, in *saleValueInput) (*saleResponse, error) {
		return saleResult(d.Leads.SetSaleValue(ctx, in.ID,
			crm.DealValue{Amount: in.Body.Amount, Currency: in.Body.Currency}))
	}
}

// Money is an amount in one currency.
type Money struct {
	Currency string `json:"currency"`
	Amount   string `json:"amount" doc:"Decimal string"`
}

// StageColumn is one column of a board.
type StageColumn struct {
	Stage  string  `json:"stage"`
	Count  int     `json:"count"`
	Totals []Money `json:"totals,omitempty" doc:"Sales only: the column's value per currency"`
}

func columnsOut(cs []crm.StageSummary) []StageColumn {
	out := make([]StageColumn, len(cs))
	for i, c := range cs {
		out[i] = StageColumn{Stage: c.Stage, Count: c.Count}
		for _, t := range c.Totals {
			out[i].Totals = append(out[i].Totals, Money{Currency: t.Currency, Amount: t.Amount.Format(t.Currency)})
		}
	}
	return out
}

type leadSummaryResponse struct {
	Body struct {
		Stages     []StageColumn `json:"stages"`
		NoNextStep int           `json:"no_next_step" doc:"Open leads without an open task"`
	}
}

func handleLeadSummary(d Deps) func(context.Context, *struct{}) (*leadSummaryResponse, error) {
	return func(ctx context.Context, _ *struct{}) (*leadSummaryResponse, error) {
		b, err := d.Leads.LeadSummary(ctx)
		if err != nil {
			return nil, err
		}
		out := &leadSummaryResponse{}
		out.Body.Stages, out.Body.NoNextStep = columnsOut(b.Stages), b.NoNextStep
		return out, nil
	}
}

// ForecastJSON is the expected value of the open deals in one currency.
type ForecastJSON struct {
	Currency   string `json:"currency"`
	Amount     string `json:"amount" doc:"Each open deal's value times its lead's win probability, summed"`
	Open       string `json:"open" doc:"The same deals' value, unweighted"`
	Deals      int    `json:"deals"`
	Calibrated int    `json:"calibrated_deals" doc:"Deals weighed by a calibrated score (the feedback loop's); the rest by the raw AI score"`
	Weighting  string `json:"weighting" enum:"calibrated,raw,mixed"`
}

type saleSummaryResponse struct {
	Body struct {
		Stages   []StageColumn  `json:"stages"`
		Forecast []ForecastJSON `json:"forecast"`
	}
}

func handleSaleSummary(d Deps) func(context.Context, *struct{}) (*saleSummaryResponse, error) {
	return func(ctx context.Context, _ *struct{}) (*saleSummaryResponse, error) {
		b, err := d.Leads.SaleSummary(ctx)
		if err != nil {
			return nil, err
		}
		out := &saleSummaryResponse{}
		out.Body.Stages, out.Body.Forecast = columnsOut(b.Stages), []ForecastJSON{}
		for _, f := range b.Forecast {
			out.Body.Forecast = append(out.Body.Forecast, ForecastJSON{Currency: f.Currency,
				Amount: f.Amount.Format(f.Currency), Open: f.Open.Format(f.Currency), Deals: f.Deals,
				Calibrated: f.Calibrated, Weighting: f.Weighting()})
		}
		return out, nil
	}
}

type lostReasonsResponse struct {
	Body []struct {
		Reason string `json:"reason" doc:"\"\" for leads lost without a reason"`
		Count  int    `json:"count"`
	}
}

func handleLostReasons(d Deps) func(context.Context, *struct{}) (*lostReasonsResponse, error) {
	return func(ctx context.Context, _ *struct{}) (*lostReasonsResponse, error) {
		rs, err := d.Leads.LostReasons(ctx)
		if err != nil {
			return nil, err
		}
		out := &lostReasonsResponse{}
		out.Body = make([]struct {
			Reason string `json:"reason" doc:"\"\" for leads lost without a reason"`
			Count  int    `json:"count"`
		}, len(rs))
		for i, r := range rs {
			out.Body[i].Reason, out.Body[i].Count = r.Reason, r.Count
		}
		return out, nil
	}
}

// ---- bulk ----

type bulkInput struct {
	Body struct {
		IDs     []string `json:"ids" minItems:"1" maxItems:"500"`
		Action  string   `json:"action" enum:"reassign,advance" doc:"advance moves each lead one stage forward (never to lost or transferred)"`
		OwnerID string   `json:"owner_id,omitempty" doc:"The new owner, to reassign"`
	}
}

// BulkResult is the outcome for one lead.
type BulkResult struct {
	ID     string `json:"id"`
	Status int    `json:"status" doc:"The status the single request would have answered: 200, 404, 409, 422"`
	Code   string `json:"code,omitempty" doc:"The problem code when it failed"`
}

type bulkResponse struct {
	Body struct {
		Results []BulkResult `json:"results"`
	}
}

func handleBulk(d Deps) func(context.Context, *bulkInput) (*bulkResponse, error) {
	return func(ctx context.Context, in *bulkInput) (*bulkResponse, error) {
		rs, err := d.Leads.Bulk(ctx, in.Body.IDs, in.Body.Action, in.Body.OwnerID)
		if err != nil {
			return nil, err
		}
		out := &bulkResponse{}
		out.Body.Results = make([]BulkResult, len(rs))
		for i, r := range rs {
			out.Body.Results[i] = BulkResult{ID: r.ID, Status: 200}
			if r.Err != nil {
				p := problemFrom(ctx, r.Err)
				out.Body.Results[i].Status, out.Body.Results[i].Code = p.Status, p.Code
			}
		}
		return out, nil
	}
}

// ---- saved filters ----

// SavedFilter is a named lead-list query of the signed-in user.
type SavedFilter struct {
	ID        string    `json:"id" format:"uuid"`
	Name      string    `json:"name"`
	Query     string    `json:"query" doc:"The GET /leads query string it stands for"`
	CreatedAt time.Time `json:"created_at"`
}

type filterResponse struct{ Body SavedFilter }

type filtersResponse struct{ Body []SavedFilter }

func handleFilterList(d Deps) func(context.Context, *struct{}) (*filtersResponse, error) {
	return func(ctx context.Context, _ *struct{}) (*filtersResponse, error) {
		fs, err := d.Leads.SavedFilters(ctx)
		if err != nil {
			return nil, err
		}
		out := &filtersResponse{Body: make([]SavedFilter, len(fs))}
		for i, f := range fs {
			out.Body[i] = SavedFilter{ID: f.ID, Name: f.Name, Query: f.Query, CreatedAt: f.CreatedAt}
		}
		return out, nil
	}
}

type filterInput struct {
	Body struct {
		Name  string `json:"name" minLength:"1" maxLength:"100"`
		Query string `json:"query" maxLength:"1000" doc:"stage, source, owner_id, q, sort and no_next_step, as in GET /leads"`
	}
}

func handleFilterCreate(d Deps) func(context.Context, *filterInput) (*filterResponse, error) {
	return func(ctx context.Context, in *filterInput) (*filterResponse, error) {
		f, err := d.Leads.SaveFilter(ctx, in.Body.Name, in.Body.Query)
		if err != nil {
			return nil, err
		}
		return &filterResponse{Body: SavedFilter{ID: f.ID, Name: f.Name, Query: f.Query, CreatedAt: f.CreatedAt}}, nil
	}
}

func handleFilterDelete(d Deps) func(context.Context, *idPath) (*struct{}, error) {
	return func(ctx context.Context, in *idPath) (*struct{}, error) {
		return &struct{}{}, d.Leads.DeleteFilter(ctx, in.ID)
	}
}

// ---- notifications ----

// Notification is the JSON form of a notification.
type Notification struct {
	ID        string     `json:"id" format:"uuid"`
	Kind      string     `json:"kind" enum:"lead_assigned,task_due,sale_paid,sale_lost,batch_finished"`
	LeadID    *string    `json:"lead_id" nullable:"true" format:"uuid"`
	SaleID    *string    `json:"sale_id" nullable:"true" format:"uuid"`
	TaskID    *string    `json:"task_id" nullable:"true" format:"uuid"`
	Text      string     `json:"text"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at" nullable:"true"`
}

type notificationsInput struct {
	Unread bool `query:"unread" doc:"Only the unread ones"`
	Limit  int  `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type notificationsResponse struct {
	Unread int `header:"X-Unread-Count" doc:"How many of the user's notifications are unread"`
	Body   []Notification
}

func handleNotifications(d Deps) func(context.Context, *notificationsInput) (*notificationsResponse, error) {
	return func(ctx context.Context, in *notificationsInput) (*notificationsResponse, error) {
		ns, unread, err := d.Leads.Notifications(ctx, in.Unread, in.Limit)
		if err != nil {
			return nil, err
		}
		out := &notificationsResponse{Unread: unread, Body: make([]Notification, len(ns))}
		for i, n := range ns {
			out.Body[i] = Notification{ID: n.ID, Kind: n.Kind, LeadID: optional(n.LeadID), SaleID: optional(n.SaleID),
				TaskID: optional(n.TaskID), Text: n.Text, CreatedAt: n.Created}
			if !n.Unread() {
				at := n.ReadAt
				out.Body[i].ReadAt = &at
			}
		}
		return out, nil
	}
}

type readInput struct {
	Body *struct {
		IDs []string `json:"ids,omitempty" maxItems:"200" doc:"Left out: all of them"`
	}
}

func handleNotificationsRead(d Deps) func(context.Context, *readInput) (*struct{}, error) {
	return func(ctx context.Context, in *readInput) (*struct{}, error) {
		var ids []string
		if in.Body != nil {
			ids = in.Body.IDs
		}
		return &struct{}{}, d.Leads.MarkRead(ctx, ids)
	}
}

// ---- password ----

type passwordInput struct {
	Body struct {
		CurrentPassword string `json:"current_password" maxLength:"200"`
		NewPassword     string `json:"new_password" minLength:"10" maxLength:"200"`
	}
}

func handlePassword(d Deps) func(context.Context, *passwordInput) (*struct{}, error) {
	return func(ctx context.Context, in *passwordInput) (*struct{}, error) {
		return &struct{}{}, d.Users.ChangePassword(ctx, in.Body.CurrentPassword, in.Body.NewPassword)
	}
}
