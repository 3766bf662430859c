// Package pgsql holds the lead and event statements of the PostgreSQL store,
// with their arguments and row scanning, in one place: the store runs them and
// cmd/crmbench's direct-SQL baseline runs the very same, so the baseline
// cannot drift from what the store does.
package pgsql

import (
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmleads/crm"
)

// LeadCols is the column list of every lead query, in the order of ScanLead.
const LeadCols = `id, source, stage, business_domain, messages_count, name, email, phone, company, note, owner_id,
	ai_score, ai_recommendation, ai_reason, ai_analyzed_at, ai_provider, ai_model, ai_prompt_version,
	ai_source, ai_stage, ai_messages_count, ai_has_business_domain, created_at, updated_at,
	ai_analysis_id, ai_score_calibrated, ai_factors, lost_reason, open_tasks, ai_reason_uk`

// LeadWriteCols are the columns LeadArgs fills: LeadCols and the duplicate keys.
const LeadWriteCols = LeadCols + `, email_key, phone_key, name_key`

// Lead statements. LeadInsert and LeadUpdate take LeadArgs and
// LeadUpdateArgs; every mutable column is written, id, source and created_at
// never change.
const (
	LeadSelect = `SELECT ` + LeadCols + ` FROM leads`
	LeadByID   = LeadSelect + ` WHERE id = $1`
	LeadInsert = `INSERT INTO leads (` + LeadWriteCols + `) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
		$25, $26, $27, $28, $29, $30, $31, $32, $33)`
	LeadUpdate = `UPDATE leads SET stage = $2, business_domain = $3, messages_count = $4,
		name = $5, email = $6, phone = $7, company = $8, note = $9, owner_id = $10,
		ai_score = $11, ai_recommendation = $12, ai_reason = $13, ai_analyzed_at = $14, ai_provider = $15,
		ai_model = $16, ai_prompt_version = $17, ai_source = $18, ai_stage = $19, ai_messages_count = $20,
		ai_has_business_domain = $21, updated_at = $22, ai_analysis_id = $23, ai_score_calibrated = $24,
		ai_factors = $25, lost_reason = $26, open_tasks = $27, ai_reason_uk = $28, email_key = $29, phone_key = $30,
		name_key = $31
		WHERE id = $1`
)

// ScanLead reads a row of LeadCols.
func ScanLead(row pgx.Row) (*crm.Lead, error) {
	var (
		l                                crm.Lead
		domain, owner                    *string
		score                            *float64
		rec, reason, prov, model, prompt *string
		analyzedAt                       *time.Time
		aiSource, aiStage                *string
		aiMessages                       *int
		aiHasDomain                      *bool
		analysisID, reasonUK             *string
		calibrated                       *float64
		factors                          []crm.Factor
	)
	err := row.Scan(&l.ID, &l.Source, &l.Stage, &domain, &l.MessagesCount, &l.Name, &l.Email, &l.Phone,
		&l.Company, &l.Note, &owner, &score, &rec, &reason, &analyzedAt, &prov, &model, &prompt,
		&aiSource, &aiStage, &aiMessages, &aiHasDomain, &l.CreatedAt, &l.UpdatedAt,
		&analysisID, &calibrated, &factors, &l.LostReason, &l.OpenTasks, &reasonUK)
	if err != nil {
		return nil, err
	}
	l.BusinessDomain, l.OwnerID = str(domain), str(owner)
	l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC()
	// The schema stores an analysis whole or not at all (leads_ai_whole).
	if score != nil {
		a := &crm.LeadAnalysis{Score: *score, Recommendation: crm.Recommendation(str(rec)), Reason: str(reason),
			ReasonUK: str(reasonUK), Provider: str(prov), Model: str(model), PromptVersion: str(prompt),
			Facts: crm.Facts{Source: crm.Source(str(aiSource)), Stage: crm.LeadStage(str(aiStage))}}
		if analyzedAt != nil {
			a.AnalyzedAt = analyzedAt.UTC()
		}
		if aiMessages != nil {
			a.Facts.MessagesCount = *aiMessages
		}
		if aiHasDomain != nil {
			a.Facts.HasBusinessDomain = *aiHasDomain
		}
		a.AnalysisID, a.ScoreCalibrated, a.Factors = str(analysisID), calibrated, factors
		l.AI = a
	}
	return &l, nil
}

// LeadArgs returns every column of LeadCols in order, then the duplicate keys.
func LeadArgs(l *crm.Lead) []any {
	var domain any
	if l.BusinessDomain != "" {
		domain = l.BusinessDomain
	}
	args := []any{l.ID, string(l.Source), string(l.Stage), domain, l.MessagesCount, l.Name, l.Email, l.Phone,
		l.Company, l.Note, NullID(l.OwnerID)}
	if a := l.AI; a != nil {
		args = append(args, a.Score, string(a.Recommendation), a.Reason, a.AnalyzedAt, a.Provider, a.Model,
			a.PromptVersion, string(a.Facts.Source), string(a.Facts.Stage), a.Facts.MessagesCount,
			a.Facts.HasBusinessDomain)
	} else {
		args = append(args, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
	}
	args = append(args, l.CreatedAt, l.UpdatedAt)
	if a := l.AI; a != nil {
		args = append(args, NullID(a.AnalysisID), a.ScoreCalibrated, FactorsJSON(a.Factors))
	} else {
		args = append(args, nil, nil, nil)
	}
	var reasonUK any // NULL without an analysis, or for one made before it was asked for
	if l.AI != nil && l.AI.ReasonUK != "" {
		reasonUK = l.AI.ReasonUK
	}
	k := l.Keys()
	return append(args, l.LostReason, l.OpenTasks, reasonUK, k.Email, k.Phone, k.Name)
}

// FactorsJSON is the jsonb value of factors; none is NULL.
func FactorsJSON(fs []crm.Factor) any {
	if len(fs) == 0 {
		return nil
	}
	return fs
}

// LeadUpdateArgs returns the arguments of LeadUpdate.
func LeadUpdateArgs(l *crm.Lead) []any {
	args := LeadArgs(l)
	return append(append(append([]any{args[0]}, args[2:22]...), l.UpdatedAt), args[24:]...)
}

// EventCols is the column list of every event query.
const EventCols = `id, lead_id, sale_id, user_id, action, from_state, to_state, actor_id, request_id, data, created_at`

// EventInsert inserts an event; it takes EventArgs.
const EventInsert = `INSERT INTO events (` + EventCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// EventArgs returns the arguments of EventInsert.
func EventArgs(e *crm.Event) []any {
	var data any
	if e.Data != nil {
		data = e.Data
	}
	return []any{e.ID, NullID(e.LeadID), NullID(e.SaleID), NullID(e.UserID), e.Action, e.From, e.To,
		NullID(e.ActorID), e.RequestID, data, e.CreatedAt}
}

// NullID is NULL for an empty id.
func NullID(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
