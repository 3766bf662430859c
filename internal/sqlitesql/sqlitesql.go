// Package sqlitesql holds the lead and event statements of the SQLite store,
// their arguments, row scanning and the stored forms of values (times as
// fixed-width UTC text, booleans as integers, JSON as text), in one place: the
// store runs them and cmd/crmbench's direct-SQL baseline runs the very same,
// so the baseline cannot drift from what the store does.
package sqlitesql

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crmleads/crm"
)

// LeadCols is the column list of every lead query, in the order of ScanLead.
const LeadCols = `id, source, stage, business_domain, messages_count, name, email, phone, company, note, owner_id,
	ai_score, ai_recommendation, ai_reason, ai_analyzed_at, ai_provider, ai_model, ai_prompt_version,
	ai_source, ai_stage, ai_messages_count, ai_has_business_domain, created_at, updated_at,
	ai_analysis_id, ai_score_calibrated, ai_factors, lost_reason, open_tasks, ai_reason_uk`

// Lead statements: LeadInsert takes LeadInsertArgs, LeadUpdate
// LeadUpdateArgs; every mutable column is written, id, source and created_at
// never change.
const (
	LeadSelect = `SELECT ` + LeadCols + ` FROM leads`
	LeadByID   = LeadSelect + ` WHERE id = ?`
	LeadInsert = `INSERT INTO leads (id, source, created_at,
	stage, business_domain, messages_count, name, email, phone, company, note, owner_id,
	ai_score, ai_recommendation, ai_reason, ai_analyzed_at, ai_provider, ai_model, ai_prompt_version,
	ai_source, ai_stage, ai_messages_count, ai_has_business_domain, ai_analysis_id, ai_score_calibrated, ai_factors,
	updated_at, lost_reason, open_tasks, email_key, phone_key, name_key, ai_reason_uk)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	LeadUpdate = `UPDATE leads SET
	stage = ?, business_domain = ?, messages_count = ?, name = ?, email = ?, phone = ?, company = ?, note = ?, owner_id = ?,
	ai_score = ?, ai_recommendation = ?, ai_reason = ?, ai_analyzed_at = ?, ai_provider = ?, ai_model = ?, ai_prompt_version = ?,
	ai_source = ?, ai_stage = ?, ai_messages_count = ?, ai_has_business_domain = ?,
	ai_analysis_id = ?, ai_score_calibrated = ?, ai_factors = ?, updated_at = ?,
	lost_reason = ?, open_tasks = ?, email_key = ?, phone_key = ?, name_key = ?, ai_reason_uk = ?
	WHERE id = ?`
)

// ScanLead reads a row of LeadCols.
func ScanLead(r Scanner) (*crm.Lead, error) {
	var (
		l                                     crm.Lead
		domain, owner                         sql.NullString
		score                                 sql.NullFloat64
		rec, reason, at, prov, model, pv, src sql.NullString
		stage                                 sql.NullString
		aiCount, aiHasDomain                  sql.NullInt64
		created, updated                      string
		analysisID, factors, reasonUK         sql.NullString
		calibrated                            sql.NullFloat64
	)
	err := r.Scan(&l.ID, &l.Source, &l.Stage, &domain, &l.MessagesCount, &l.Name, &l.Email, &l.Phone, &l.Company, &l.Note, &owner,
		&score, &rec, &reason, &at, &prov, &model, &pv, &src, &stage, &aiCount, &aiHasDomain, &created, &updated,
		&analysisID, &calibrated, &factors, &l.LostReason, &l.OpenTasks, &reasonUK)
	if err != nil {
		return nil, err
	}
	l.BusinessDomain, l.OwnerID = domain.String, owner.String
	if l.CreatedAt, err = ParseTime(created); err != nil {
		return nil, err
	}
	if l.UpdatedAt, err = ParseTime(updated); err != nil {
		return nil, err
	}
	if score.Valid {
		a := &crm.LeadAnalysis{
			Score:          score.Float64,
			Recommendation: crm.Recommendation(rec.String),
			Reason:         reason.String,
			ReasonUK:       reasonUK.String,
			Provider:       prov.String,
			Model:          model.String,
			PromptVersion:  pv.String,
			Facts: crm.Facts{
				Source:            crm.Source(src.String),
				Stage:             crm.LeadStage(stage.String),
				MessagesCount:     int(aiCount.Int64),
				HasBusinessDomain: aiHasDomain.Int64 != 0,
			},
		}
		if a.AnalyzedAt, err = ParseTime(at.String); err != nil {
			return nil, err
		}
		a.AnalysisID = analysisID.String
		if calibrated.Valid {
			a.ScoreCalibrated = &calibrated.Float64
		}
		if a.Factors, err = ParseFactors(factors); err != nil {
			return nil, err
		}
		l.AI = a
	}
	return &l, nil
}

// leadArgs returns prefix followed by the values of the mutable columns, in
// the order of LeadInsert and LeadUpdate.
func leadArgs(l *crm.Lead, prefix ...any) []any {
	args := make([]any, 0, 32)
	args = append(args, prefix...)
	args = append(args, string(l.Stage), NullStr(l.BusinessDomain), l.MessagesCount,
		l.Name, l.Email, l.Phone, l.Company, l.Note, NullStr(l.OwnerID))
	if a := l.AI; a != nil {
		args = append(args, a.Score, string(a.Recommendation), a.Reason, FmtTime(a.AnalyzedAt), a.Provider, a.Model, a.PromptVersion,
			string(a.Facts.Source), string(a.Facts.Stage), a.Facts.MessagesCount, BoolInt(a.Facts.HasBusinessDomain),
			NullStr(a.AnalysisID), NullFloat(a.ScoreCalibrated), FactorsText(a.Factors))
	} else {
		args = append(args, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
	}
	var reasonUK any // NULL without an analysis, or for one made before it was asked for
	if l.AI != nil && l.AI.ReasonUK != "" {
		reasonUK = l.AI.ReasonUK
	}
	k := l.Keys()
	return append(args, FmtTime(l.UpdatedAt), l.LostReason, l.OpenTasks, k.Email, k.Phone, k.Name, reasonUK)
}

// LeadInsertArgs returns the arguments of LeadInsert.
func LeadInsertArgs(l *crm.Lead) []any {
	return leadArgs(l, l.ID, string(l.Source), FmtTime(l.CreatedAt))
}

// LeadUpdateArgs returns the arguments of LeadUpdate.
func LeadUpdateArgs(l *crm.Lead) []any { return append(leadArgs(l), l.ID) }

// EventCols is the column list of every event query.
const EventCols = `id, lead_id, sale_id, user_id, action, from_state, to_state, actor_id, request_id, data, created_at`

// EventInsert inserts an event; it takes EventArgs.
const EventInsert = `INSERT INTO events (` + EventCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// EventArgs returns the arguments of EventInsert.
func EventArgs(e *crm.Event) ([]any, error) {
	data, err := JSONText(e.Data)
	if err != nil {
		return nil, err
	}
	return []any{e.ID, NullStr(e.LeadID), NullStr(e.SaleID), NullStr(e.UserID), e.Action, e.From, e.To,
		NullStr(e.ActorID), e.RequestID, data, FmtTime(e.CreatedAt)}, nil
}

// TimeLayout is the stored form of a time: fixed width and UTC, so that text
// order is time order. Times keep microseconds, like PostgreSQL's.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// FmtTime is the stored form of t.
func FmtTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime reads a stored time.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad stored time %q: %w", s, err)
	}
	return t, nil
}

// NullStr maps "" to NULL (empty ids, unset optional text).
func NullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// BoolInt is SQLite's boolean.
func BoolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// JSONText encodes event data; nil is NULL.
func JSONText(m map[string]any) (any, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode event data: %w", err)
	}
	return string(b), nil
}

// ParseJSON reads stored event data.
func ParseJSON(s sql.NullString) (map[string]any, error) {
	if !s.Valid {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s.String), &m); err != nil {
		return nil, fmt.Errorf("bad stored event data: %w", err)
	}
	return m, nil
}

// Scanner is a *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// NullFloat is NULL for nil.
func NullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// FactorsText encodes factors as a JSON list; none is NULL.
func FactorsText(fs []crm.Factor) any {
	if len(fs) == 0 {
		return nil
	}
	b, _ := json.Marshal(fs) // cannot fail: plain fields
	return string(b)
}

// ParseFactors reads stored factors.
func ParseFactors(s sql.NullString) ([]crm.Factor, error) {
	if !s.Valid {
		return nil, nil
	}
	var fs []crm.Factor
	if err := json.Unmarshal([]byte(s.String), &fs); err != nil {
		return nil, fmt.Errorf("bad stored factors: %w", err)
	}
	return fs, nil
}
