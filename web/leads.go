package web

import (
	"context"
	"net/url"
	"strconv"

	"github.com/crmleads/crm"
)

type idPath struct {
	ID string `path:"id" doc:"UUID; anything else is simply not found"`
}

type leadResponse struct{ Body Lead }

func leadResult(l *crm.Lead, err error) (*leadResponse, error) {
	if err != nil {
		return nil, err
	}
	return &leadResponse{Body: leadOut(l)}, nil
}

type leadCreateInput struct {
	AllowDuplicate bool `query:"allow_duplicate" doc:"Create the lead even when it looks like an open one (409 possible_duplicate otherwise)"`
	Body           struct {
		Source         string `json:"source" enum:"scanner,partner,manual"`
		BusinessDomain string `json:"business_domain,omitempty" maxLength:"64" doc:"One of the configured catalog (default first, second, third)"`
		MessagesCount  int    `json:"messages_count,omitempty" minimum:"0" maximum:"1000000"`
		Name           string `json:"name,omitempty" maxLength:"200"`
		Email          string `json:"email,omitempty" maxLength:"200"`
		Phone          string `json:"phone,omitempty" maxLength:"200"`
		Company        string `json:"company,omitempty" maxLength:"200"`
		Note           string `json:"note,omitempty" maxLength:"5000"`
		OwnerID        string `json:"owner_id,omitempty" doc:"Senior managers and admins only; defaults to the creator"`
	}
}

func handleLeadCreate(d Deps) func(context.Context, *leadCreateInput) (*leadResponse, error) {
	return func(ctx context.Context, in *leadCreateInput) (*leadResponse, error) {
		b := in.Body
		return leadResult(d.Leads.CreateLead(ctx, crm.LeadInput{Source: crm.Source(b.Source),
			BusinessDomain: b.BusinessDomain, MessagesCount: b.MessagesCount, Name: b.Name, Email: b.Email,
			Phone: b.Phone, Company: b.Company, Note: b.Note, OwnerID: b.OwnerID, AllowDuplicate: in.AllowDuplicate}))
	}
}

type leadListInput struct {
	Stage   string `query:"stage" enum:"new,contacted,qualified,transferred,lost"`
	Source  string `query:"source" enum:"scanner,partner,manual"`
	OwnerID string `query:"owner_id"`
	Q       string `query:"q" maxLength:"200" doc:"Case-insensitive search in name, email, phone, company and note"`
	// No enum here: an unknown sort key is a 422 naming the keys, from the domain.
	Sort       string `query:"sort" doc:"created_at, updated_at, name, company, email, source, stage, messages_count or ai_score; a leading - sorts descending. Default: newest first"`
	NoNextStep bool   `query:"no_next_step" doc:"Only open leads without an open task"`
	Limit      int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
	Cursor     string `query:"cursor" doc:"From the previous page's Link rel=next; it carries the sort key"`
}

type leadListResponse struct {
	Link string `header:"Link" doc:"<…>; rel=\"next\" when there is a next page"`
	Body []Lead
}

// nextLink builds the Link header of the next page: the same query with the
// cursor advanced.
func nextLink(path string, q url.Values, cursor string) string {
	if cursor == "" {
		return ""
	}
	for k, v := range q {
		if len(v) == 0 || v[0] == "" {
			delete(q, k)
		}
	}
	q.Set("cursor", cursor)
	return "<" + path + "?" + q.Encode() + `>; rel="next"`
}

func handleLeadList(d Deps) func(context.Context, *leadListInput) (*leadListResponse, error) {
	return func(ctx context.Context, in *leadListInput) (*leadListResponse, error) {
		srt, err := crm.ParseSort(in.Sort, crm.LeadSortKeys)
		if err != nil {
			return nil, err
		}
		leads, next, err := d.Leads.Leads(ctx, crm.LeadFilter{Stage: crm.LeadStage(in.Stage),
			Source: crm.Source(in.Source), OwnerID: in.OwnerID, Q: in.Q, NoNextStep: in.NoNextStep, Sort: srt,
			After: in.Cursor, Limit: in.Limit})
		if err != nil {
			return nil, err
		}
		noNext := ""
		if in.NoNextStep {
			noNext = "true"
		}
		out := &leadListResponse{Body: make([]Lead, len(leads))}
		for i, l := range leads {
			out.Body[i] = leadOut(l)
		}
		out.Link = nextLink("/leads", url.Values{"stage": {in.Stage}, "source": {in.Source},
			"owner_id": {in.OwnerID}, "q": {in.Q}, "sort": {in.Sort}, "no_next_step": {noNext},
			"limit": {strconv.Itoa(in.Limit)}}, next)
		return out, nil
	}
}

func handleLeadGet(d Deps) func(context.Context, *idPath) (*leadResponse, error) {
	return func(ctx context.Context, in *idPath) (*leadResponse, error) {
		return leadResult(d.Leads.Lead(ctx, in.ID))
	}
}

type leadUpdateInput struct {
	ID   string `path:"id"`
	Body struct {
		Name           NullableString `json:"name,omitempty" maxLength:"200" doc:"null or \"\" clears"`
		Email          NullableString `json:"email,omitempty" maxLength:"200"`
		Phone          NullableString `json:"phone,omitempty" maxLength:"200"`
		Company        NullableString `json:"company,omitempty" maxLength:"200"`
		Note           NullableString `json:"note,omitempty" maxLength:"5000"`
		BusinessDomain NullableString `json:"business_domain,omitempty" maxLength:"64" doc:"One of the catalog; null clears. Frozen once the lead is closed."`
		OwnerID        string         `json:"owner_id,omitempty" doc:"Reassign (senior managers and admins)"`
	}
}

func handleLeadUpdate(d Deps) func(context.Context, *leadUpdateInput) (*leadResponse, error) {
	return func(ctx context.Context, in *leadUpdateInput) (*leadResponse, error) {
		b := in.Body
		u := crm.LeadUpdate{Name: b.Name.ptr(), Email: b.Email.ptr(), Phone: b.Phone.ptr(), Company: b.Company.ptr(),
			Note: b.Note.ptr()}
		if b.BusinessDomain.Set {
			if b.BusinessDomain.Null || b.BusinessDomain.Value == "" {
				u.ClearBusinessDomain = true
			} else {
				u.BusinessDomain = &b.BusinessDomain.Value
			}
		}
		if b.OwnerID != "" {
			owner := b.OwnerID
			u.OwnerID = &owner
		}
		return leadResult(d.Leads.UpdateLead(ctx, in.ID, u))
	}
}

type messagesInput struct {
	ID   string `path:"id"`
	Body struct {
		MessagesCount int `json:"messages_count" minimum:"0" maximum:"1000000"`
	}
}

func handleLeadMessages(d Deps) func(context.Context, *messagesInput) (*leadResponse, error) {
	return func(ctx context.Context, in *messagesInput) (*leadResponse, error) {
		return leadResult(d.Leads.SetMessages(ctx, in.ID, in.Body.MessagesCount))
	}
}

type leadStageInput struct {
	ID   string `path:"id"`
	Body struct {
		Stage      string `json:"stage" enum:"new,contacted,qualified,transferred,lost" doc:"One step forward, or lost; transferred only via /transfer"`
		LostReason string `json:"lost_reason,omitempty" maxLength:"500" doc:"Why the lead was lost (with stage lost only; optional)"`
	}
}

func handleLeadStage(d Deps) func(context.Context, *leadStageInput) (*leadResponse, error) {
	return func(ctx context.Context, in *leadStageInput) (*leadResponse, error) {
		return leadResult(d.Leads.ChangeStage(ctx, in.ID, crm.StageChange{Stage: crm.LeadStage(in.Body.Stage),
			LostReason: in.Body.LostReason}))
	}
}

type transferCheckResponse struct {
	Body struct {
		Allowed   bool     `json:"allowed"`
		Blockers  []string `json:"blockers" doc:"stage_not_qualified, no_business_domain, not_analyzed, analysis_stale, score_below_threshold"`
		Threshold float64  `json:"threshold"`
	}
}

func handleTransferCheck(d Deps) func(context.Context, *idPath) (*transferCheckResponse, error) {
	return func(ctx context.Context, in *idPath) (*transferCheckResponse, error) {
		b, err := d.Leads.TransferCheck(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &transferCheckResponse{}
		if b == nil {
			b = []string{} // "blockers": [], never null
		}
		out.Body.Allowed, out.Body.Blockers, out.Body.Threshold = len(b) == 0, b, d.Leads.MinScore()
		return out, nil
	}
}

type saleResponse struct{ Body Sale }

func saleResult(s *crm.Sale, err error) (*saleResponse, error) {
	if err != nil {
		return nil, err
	}
	return &saleResponse{Body: saleOut(s)}, nil
}

// transferInput's body is optional, as the original contract sends none.
type transferInput struct {
	ID   string `path:"id"`
	Body *struct {
		Amount   string `json:"amount,omitempty" pattern:"^[0-9]+(\\.[0-9]+)?$" maxLength:"20" doc:"The deal's value, a decimal string ≥ 0 such as \"1250.00\" (a JSON number is refused)"`
		Currency string `json:"currency,omitempty" maxLength:"3" doc:"ISO 4217; the default of the settings when left out"`
	}
}

func handleTransfer(d Deps) func(context.Context, *transferInput) (*saleResponse, error) {
	return func(ctx context.Context, in *transferInput) (*saleResponse, error) {
		var v crm.DealValue
		if in.Body != nil {
			v = crm.DealValue{Amount: in.Body.Amount, Currency: in.Body.Currency}
		}
		return saleResult(d.Leads.TransferDeal(ctx, in.ID, v))
	}
}

func handleLeadSale(d Deps) func(context.Context, *idPath) (*saleResponse, error) {
	return func(ctx context.Context, in *idPath) (*saleResponse, error) {
		return saleResult(d.Leads.LeadSale(ctx, in.ID))
	}
}

type eventsResponse struct {
	Link string `header:"Link"`
	Body []Event
}

func eventsResult(events []*crm.Event, err error) (*eventsResponse, error) {
	if err != nil {
		return nil, err
	}
	out := &eventsResponse{Body: make([]Event, len(events))}
	for i, e := range events {
		out.Body[i] = eventOut(e)
	}
	return out, nil
}

func handleLeadEvents(d Deps) func(context.Context, *idPath) (*eventsResponse, error) {
	return func(ctx context.Context, in *idPath) (*eventsResponse, error) {
		return eventsResult(d.Leads.LeadEvents(ctx, in.ID))
	}
}

type analysisResponse struct{ Body Analysis }

func handleAnalyze(d Deps) func(context.Context, *idPath) (*analysisResponse, error) {
	return func(ctx context.Context, in *idPath) (*analysisResponse, error) {
		a, err := d.Analyses.Analyze(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &analysisResponse{Body: Analysis{Score: a.Score, Recommendation: string(a.Recommendation),
			Reason: a.Reason, ReasonUK: optional(a.ReasonUK), AnalyzedAt: a.AnalyzedAt, Provider: a.Provider, Model: a.Model,
			PromptVersion: a.PromptVersion, ScoreCalibrated: a.ScoreCalibrated, Factors: factorsOut(a.Factors)}}, nil
	}
}

type analysesResponse struct{ Body []AnalysisRecord }

func handleAnalyses(d Deps) func(context.Context, *idPath) (*analysesResponse, error) {
	return func(ctx context.Context, in *idPath) (*analysesResponse, error) {
		rows, err := d.Analyses.Analyses(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &analysesResponse{Body: make([]AnalysisRecord, len(rows))}
		for i, r := range rows {
			out.Body[i] = analysisRecordOut(r)
		}
		return out, nil
	}
}
