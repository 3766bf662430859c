package web

import (
	"encoding/json"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/crmleads/crm"
)

// Lead is the JSON form of a lead.
type Lead struct {
	ID                string     `json:"id" format:"uuid"`
	Source            string     `json:"source" enum:"scanner,partner,manual"`
	Stage             string     `json:"stage" enum:"new,contacted,qualified,transferred,lost"`
	BusinessDomain    *string    `json:"business_domain" nullable:"true"`
	HasBusinessDomain bool       `json:"has_business_domain"`
	MessagesCount     int        `json:"messages_count"`
	Name              string     `json:"name"`
	Email             string     `json:"email"`
	Phone             string     `json:"phone"`
	Company           string     `json:"company"`
	Note              string     `json:"note"`
	OwnerID           *string    `json:"owner_id" nullable:"true" format:"uuid"`
	AIScore           *float64   `json:"ai_score" nullable:"true"`
	AIRecommendation  *string    `json:"ai_recommendation" nullable:"true" enum:"transfer_to_sales,continue_nurturing,mark_as_lost"`
	AIReason          *string    `json:"ai_reason" nullable:"true"`
	AIReasonUK        *string    `json:"ai_reason_uk" nullable:"true" required:"false" doc:"ai_reason in Ukrainian; null without an analysis, and for one whose prompt version (v1) gave the reason in English only"`
	AIAnalyzedAt      *time.Time `json:"ai_analyzed_at" nullable:"true"`
	AIProvider        *string    `json:"ai_provider" nullable:"true"`
	AIModel           *string    `json:"ai_model" nullable:"true"`
	AIPromptVersion   *string    `json:"ai_prompt_version" nullable:"true"`
	AIScoreCalibrated *float64   `json:"ai_score_calibrated" nullable:"true" doc:"The score under the calibration of its prompt version; null until 120 outcomes of it exist"`
	AIFactors         []Factor   `json:"ai_factors" doc:"How each of the four facts moves the score (the baseline's view; see docs/AI.md); empty when not analyzed"`
	AIStale           bool       `json:"ai_stale" doc:"The lead changed (source, stage, messages_count or has_business_domain) since its analysis"`
	LostReason        string     `json:"lost_reason" required:"false" doc:"Why it was lost; \"\" otherwise"`
	OpenTasks         int        `json:"open_tasks" required:"false" doc:"Tasks not done yet"`
	NoNextStep        bool       `json:"no_next_step" required:"false" doc:"Open, with no open task"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func leadOut(l *crm.Lead) Lead {
	out := Lead{ID: l.ID, Source: string(l.Source), Stage: string(l.Stage), BusinessDomain: optional(l.BusinessDomain),
		HasBusinessDomain: l.HasBusinessDomain(), MessagesCount: l.MessagesCount, Name: l.Name, Email: l.Email,
		Phone: l.Phone, Company: l.Company, Note: l.Note, OwnerID: optional(l.OwnerID),
		LostReason: l.LostReason, OpenTasks: l.OpenTasks, NoNextStep: l.NoNextStep(),
		CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt, AIFactors: []Factor{}}
	if a := l.AI; a != nil {
		rec := string(a.Recommendation)
		at := a.AnalyzedAt
		out.AIScore, out.AIRecommendation, out.AIReason, out.AIAnalyzedAt = &a.Score, &rec, &a.Reason, &at
		out.AIReasonUK = optional(a.ReasonUK)
		out.AIProvider, out.AIModel, out.AIPromptVersion = &a.Provider, &a.Model, &a.PromptVersion
		out.AIStale = l.AnalysisStale()
		out.AIScoreCalibrated = a.ScoreCalibrated
		out.AIFactors = factorsOut(a.Factors)
	}
	return out
}

// Sale is the JSON form of a sale.
type Sale struct {
	ID            string    `json:"id" format:"uuid"`
	LeadID        string    `json:"lead_id" format:"uuid"`
	Stage         string    `json:"stage" enum:"new,kyc,agreement,paid,lost"`
	TransferredBy *string   `json:"transferred_by" nullable:"true" format:"uuid"`
	Amount        *string   `json:"amount" nullable:"true" required:"false" doc:"The deal's value, a decimal string (\"1250.00\"); null until set"`
	Currency      *string   `json:"currency" nullable:"true" required:"false" doc:"ISO 4217; null until a value is set"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func saleOut(s *crm.Sale) Sale {
	out := Sale{ID: s.ID, LeadID: s.LeadID, Stage: string(s.Stage), TransferredBy: optional(s.TransferredBy),
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	if s.HasValue() {
		amount, currency := s.Amount.Format(s.Currency), s.Currency
		out.Amount, out.Currency = &amount, &currency
	}
	return out
}

// Event is the JSON form of an audit-trail entry.
type Event struct {
	ID        string         `json:"id" format:"uuid"`
	LeadID    *string        `json:"lead_id" nullable:"true" format:"uuid"`
	SaleID    *string        `json:"sale_id" nullable:"true" format:"uuid"`
	UserID    *string        `json:"user_id" nullable:"true" format:"uuid"`
	Action    string         `json:"action"`
	From      string         `json:"from"`
	To        string         `json:"to"`
	ActorID   *string        `json:"actor_id" nullable:"true" format:"uuid" doc:"The acting user; null for the system"`
	RequestID string         `json:"request_id"`
	Data      map[string]any `json:"data,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
}

func eventOut(e *crm.Event) Event {
	return Event{ID: e.ID, LeadID: optional(e.LeadID), SaleID: optional(e.SaleID), UserID: optional(e.UserID),
		Action: e.Action, From: e.From, To: e.To, ActorID: optional(e.ActorID), RequestID: e.RequestID,
		Data: e.Data, CreatedAt: e.CreatedAt}
}

// Analysis is the answer of POST /leads/{id}/analyze.
type Analysis struct {
	Score          float64   `json:"score" minimum:"0" maximum:"1"`
	Recommendation string    `json:"recommendation" enum:"transfer_to_sales,continue_nurturing,mark_as_lost"`
	Reason         string    `json:"reason"`
	ReasonUK       *string   `json:"reason_uk" nullable:"true" required:"false" doc:"reason in Ukrainian; null from a prompt version (v1) that gives it in English only"`
	AnalyzedAt     time.Time `json:"analyzed_at"`
	Provider       string    `json:"provider" doc:"claude or baseline (the local, offline scorer)"`
	Model          string    `json:"model"`
	PromptVersion  string    `json:"prompt_version"`
	// Beyond the original contract: the calibrated score and the factors.
	ScoreCalibrated *float64 `json:"score_calibrated" nullable:"true" doc:"null until a calibration is fitted for the prompt version"`
	Factors         []Factor `json:"factors" doc:"How each of the four facts moves the score (the baseline's view)"`
}

// Facts are the four facts an analysis sends to the AI.
type Facts struct {
	Source            string `json:"source" enum:"scanner,partner,manual"`
	Stage             string `json:"stage" enum:"new,contacted,qualified,transferred,lost"`
	MessagesCount     int    `json:"messages_count" minimum:"0"`
	HasBusinessDomain bool   `json:"has_business_domain"`
}

// AnalysisRecord is one row of a lead's analysis log.
type AnalysisRecord struct {
	ID              string    `json:"id" format:"uuid"`
	LeadID          string    `json:"lead_id" format:"uuid"`
	ActorID         *string   `json:"actor_id" nullable:"true" format:"uuid"`
	Facts           Facts     `json:"facts" doc:"The four facts sent, exactly"`
	Provider        string    `json:"provider"`
	Model           string    `json:"model"`
	PromptVersion   string    `json:"prompt_version"`
	Score           *float64  `json:"score" nullable:"true"`
	Recommendation  *string   `json:"recommendation" nullable:"true" enum:"transfer_to_sales,continue_nurturing,mark_as_lost"`
	Reason          *string   `json:"reason" nullable:"true"`
	ReasonUK        *string   `json:"reason_uk" nullable:"true" required:"false" doc:"reason in Ukrainian; null on failure and from a prompt version (v1) that gives it in English only"`
	RawOutput       string    `json:"raw_output"`
	ErrorCode       *string   `json:"error_code" nullable:"true"`
	ErrorMessage    *string   `json:"error_message" nullable:"true"`
	InputTokens     int       `json:"input_tokens"`
	OutputTokens    int       `json:"output_tokens"`
	LatencyMS       int64     `json:"latency_ms"`
	CostUSD         float64   `json:"cost_usd"`
	CreatedAt       time.Time `json:"created_at"`
	ScoreCalibrated *float64  `json:"score_calibrated" nullable:"true"`
	Factors         []Factor  `json:"factors" doc:"Empty on failure"`
	BatchID         *string   `json:"batch_id" nullable:"true" format:"uuid" doc:"The batch re-analysis the call was part of"`
}

func analysisRecordOut(a *crm.AnalysisRecord) AnalysisRecord {
	f := a.Facts
	return AnalysisRecord{ID: a.ID, LeadID: a.LeadID, ActorID: optional(a.ActorID),
		Facts: Facts{Source: string(f.Source), Stage: string(f.Stage), MessagesCount: f.MessagesCount,
			HasBusinessDomain: f.HasBusinessDomain},
		Provider: a.Provider, Model: a.Model, PromptVersion: a.PromptVersion, Score: a.Score,
		Recommendation: optional(string(a.Recommendation)), Reason: optional(a.Reason), ReasonUK: optional(a.ReasonUK), RawOutput: a.RawOutput,
		ErrorCode: optional(a.ErrorCode), ErrorMessage: optional(a.ErrorMessage), InputTokens: a.InputTokens,
		OutputTokens: a.OutputTokens, LatencyMS: a.LatencyMS, CostUSD: a.CostUSD, CreatedAt: a.CreatedAt,
		ScoreCalibrated: a.ScoreCalibrated, Factors: factorsOut(a.Factors), BatchID: optional(a.BatchID)}
}

// User is the JSON form of a user; it never carries the password hash.
type User struct {
	ID        string    `json:"id" format:"uuid"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role" enum:"manager,senior_manager,admin"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func userOut(u *crm.User) User {
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), Active: u.Active,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// NullableString is a PATCH field that tells "absent" (leave as is) from
// null (clear) from a value.
type NullableString struct {
	Set   bool
	Null  bool
	Value string
}

// UnmarshalJSON records that the field was present.
func (n *NullableString) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Null = true
		return nil
	}
	return json.Unmarshal(b, &n.Value)
}

// Schema describes the field as a nullable string to huma and OpenAPI.
func (n NullableString) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: "string", Nullable: true}
}

// ptr returns the update for a text field: nil when absent, "" when null.
func (n NullableString) ptr() *string {
	if !n.Set {
		return nil
	}
	v := n.Value
	return &v
}
