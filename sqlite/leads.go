package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode/utf8"

	"modernc.org/sqlite"

	"github.com/crmleads/crm"
)

func init() {
	// SQLite's LIKE and lower() fold ASCII letters only. crm_lower folds every
	// letter the way Go (and PostgreSQL's ILIKE) does, for searches that are
	// not plain ASCII.
	sqlite.MustRegisterDeterministicScalarFunction("crm_lower", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return strings.ToLower(v), nil
			case nil:
				return nil, nil
			default:
				return v, nil
			}
		})
}

const leadCols = `id, source, stage, business_domain, messages_count, name, email, phone, company, note, owner_id,
	ai_score, ai_recommendation, ai_reason, ai_analyzed_at, ai_provider, ai_model, ai_prompt_version,
	ai_source, ai_stage, ai_messages_count, ai_has_business_domain, created_at, updated_at,
	ai_analysis_id, ai_score_calibrated, ai_factors`

const (
	qLead    = `SELECT ` + leadCols + ` FROM leads WHERE id = ?`
	qLeadIns = `INSERT INTO leads (id, source, created_at,
	stage, business_domain, messages_count, name, email, phone, company, note, owner_id,
	ai_score, ai_recommendation, ai_reason, ai_analyzed_at, ai_provider, ai_model, ai_prompt_version,
	ai_source, ai_stage, ai_messages_count, ai_has_business_domain, ai_analysis_id, ai_score_calibrated, ai_factors,
	updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qLeadUpd = `UPDATE leads SET
	stage = ?, business_domain = ?, messages_count = ?, name = ?, email = ?, phone = ?, company = ?, note = ?, owner_id = ?,
	ai_score = ?, ai_recommendation = ?, ai_reason = ?, ai_analyzed_at = ?, ai_provider = ?, ai_model = ?, ai_prompt_version = ?,
	ai_source = ?, ai_stage = ?, ai_messages_count = ?, ai_has_business_domain = ?,
	ai_analysis_id = ?, ai_score_calibrated = ?, ai_factors = ?, updated_at = ?
	WHERE id = ?`
)

func scanLead(r scanner) (*crm.Lead, error) {
	var (
		l                                     crm.Lead
		domain, owner                         sql.NullString
		score                                 sql.NullFloat64
		rec, reason, at, prov, model, pv, src sql.NullString
		stage                                 sql.NullString
		aiCount, aiHasDomain                  sql.NullInt64
		created, updated                      string
		analysisID, factors                   sql.NullString
		calibrated                            sql.NullFloat64
	)
	err := r.Scan(&l.ID, &l.Source, &l.Stage, &domain, &l.MessagesCount, &l.Name, &l.Email, &l.Phone, &l.Company, &l.Note, &owner,
		&score, &rec, &reason, &at, &prov, &model, &pv, &src, &stage, &aiCount, &aiHasDomain, &created, &updated,
		&analysisID, &calibrated, &factors)
	if err != nil {
		return nil, err
	}
	l.BusinessDomain, l.OwnerID = domain.String, owner.String
	if l.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if l.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	if score.Valid {
		a := &crm.LeadAnalysis{
			Score:          score.Float64,
			Recommendation: crm.Recommendation(rec.String),
			Reason:         reason.String,
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
		if a.AnalyzedAt, err = parseTime(at.String); err != nil {
			return nil, err
		}
		a.AnalysisID = analysisID.String
		if calibrated.Valid {
			a.ScoreCalibrated = &calibrated.Float64
		}
		if a.Factors, err = parseFactors(factors); err != nil {
			return nil, err
		}
		l.AI = a
	}
	return &l, nil
}

// leadArgs returns prefix followed by the values of the mutable columns, in
// the order of qLeadIns and qLeadUpd.
func leadArgs(l *crm.Lead, prefix ...any) []any {
	args := make([]any, 0, 27)
	args = append(args, prefix...)
	args = append(args, string(l.Stage), nullStr(l.BusinessDomain), l.MessagesCount,
		l.Name, l.Email, l.Phone, l.Company, l.Note, nullStr(l.OwnerID))
	if a := l.AI; a != nil {
		args = append(args, a.Score, string(a.Recommendation), a.Reason, fmtTime(a.AnalyzedAt), a.Provider, a.Model, a.PromptVersion,
			string(a.Facts.Source), string(a.Facts.Stage), a.Facts.MessagesCount, boolInt(a.Facts.HasBusinessDomain),
			nullStr(a.AnalysisID), nullFloat(a.ScoreCalibrated), factorsText(a.Factors))
	} else {
		args = append(args, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
	}
	return append(args, fmtTime(l.UpdatedAt))
}

// Lead returns the lead with the given id.
func (db *DB) Lead(ctx context.Context, id string) (*crm.Lead, error) {
	row, err := db.queryRow(ctx, qLead, id)
	if err != nil {
		return nil, mapErr("lead", "lead", err)
	}
	l, err := scanLead(row)
	return l, mapErr("lead", "lead", err)
}

// Leads returns up to f.Limit leads matching f, newest first.
func (db *DB) Leads(ctx context.Context, f crm.LeadFilter) ([]*crm.Lead, error) {
	var (
		where []string
		args  []any
	)
	if f.Stage != "" {
		where, args = append(where, "stage = ?"), append(args, string(f.Stage))
	}
	if f.Source != "" {
		where, args = append(where, "source = ?"), append(args, string(f.Source))
	}
	if f.OwnerID != "" {
		where, args = append(where, "owner_id = ?"), append(args, f.OwnerID)
	}
	if f.Q != "" {
		// LIKE folds ASCII case by itself; other letters need crm_lower on
		// both sides, which costs a Go call per value, so only then.
		col := "%s LIKE ? ESCAPE '\\'"
		q := f.Q
		if !isASCII(q) {
			col = "crm_lower(%s) LIKE ? ESCAPE '\\'"
			q = strings.ToLower(q)
		}
		p := likePattern(q)
		var ors []string
		for _, c := range []string{"name", "email", "phone", "company", "note"} {
			ors, args = append(ors, fmt.Sprintf(col, c)), append(args, p)
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if f.After != "" {
		where, args = append(where, "id < ?"), append(args, f.After)
	}
	query := `SELECT ` + leadCols + ` FROM leads` + whereSQL(where) + ` ORDER BY id DESC LIMIT ?`
	return queryAll(ctx, db, "leads", scanLead, query, append(args, f.Limit)...)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// LockLead reads a lead inside the write transaction.
func (t *tx) LockLead(ctx context.Context, id string) (*crm.Lead, error) {
	l, err := scanLead(t.queryRow(ctx, qLead, id))
	return l, mapErr("lock lead", "lead", err)
}

// InsertLead adds a lead.
func (t *tx) InsertLead(ctx context.Context, l *crm.Lead) error {
	args := leadArgs(l, l.ID, string(l.Source), fmtTime(l.CreatedAt))
	return mapErr("insert lead", "", t.exec(ctx, qLeadIns, args...))
}

// UpdateLead writes every mutable column of l.
func (t *tx) UpdateLead(ctx context.Context, l *crm.Lead) error {
	return mapErr("update lead", "lead", t.execOne(ctx, qLeadUpd, append(leadArgs(l), l.ID)...))
}
