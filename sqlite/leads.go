package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"modernc.org/sqlite"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/sqlitesql"
)

// The store's statements live in internal/sqlitesql, shared with the benchmark.
const (
	qLead    = sqlitesql.LeadByID
	qLeadIns = sqlitesql.LeadInsert
	qLeadUpd = sqlitesql.LeadUpdate
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

// Lead returns the lead with the given id.
func (db *DB) Lead(ctx context.Context, id string) (*crm.Lead, error) {
	row, err := db.queryRow(ctx, qLead, id)
	if err != nil {
		return nil, mapErr("lead", "lead", err)
	}
	l, err := sqlitesql.ScanLead(row)
	return l, mapErr("lead", "lead", err)
}

// Leads returns up to f.Limit leads matching f, newest first.
func (db *DB) Leads(ctx context.Context, f crm.LeadFilter) ([]*crm.Lead, error) {
	query, args := leadsQuery(f)
	return queryAll(ctx, db, "leads", sqlitesql.ScanLead, query, args...)
}

// leadsQuery is the statement of Leads for f (the EXPLAIN QUERY PLAN test
// reads its plan for every filter and sort).
func leadsQuery(f crm.LeadFilter) (string, []any) {
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
		if utf8.RuneCountInString(f.Q) >= 3 {
			// The trigram index (leads_fts) finds the candidates; the LIKEs
			// above stay the exact condition.
			where = append(where, "rowid IN (SELECT rowid FROM leads_fts WHERE leads_fts MATCH ?)")
			args = append(args, `"`+strings.ReplaceAll(f.Q, `"`, `""`)+`"`)
		}
	}
	if f.NoNextStep {
		where = append(where, "open_tasks = 0 AND stage IN ('new', 'contacted', 'qualified')")
	}
	expr := leadSortExpr[f.Sort.Key]
	order, after := keyset(expr, "id", f.Sort)
	if f.After != "" {
		where = append(where, after)
		if expr != "" {
			args = append(args, sortArg(f.AfterValue))
		}
		args = append(args, f.After)
	}
	query := `SELECT ` + sqlitesql.LeadCols + ` FROM leads` + whereSQL(where) + order + ` LIMIT ?`
	return query, append(args, f.Limit)
}

// leadSortExpr is the SQL a sort key orders by; "" orders by id alone.
var leadSortExpr = map[string]string{
	"updated_at": "updated_at", "name": "name", "company": "company", "email": "email", "source": "source",
	"stage": stageRank("stage", crm.LeadStages), "messages_count": "messages_count", "ai_score": "coalesce(ai_score, -1)",
}

// stageRank is the SQL of a stage's place in the pipeline (crm.LeadStageRank).
func stageRank[S ~string](col string, stages []S) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for i, s := range stages {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", s, i)
	}
	b.WriteString(" END")
	return b.String()
}

// keyset returns the ORDER BY clause of a sorted list and the condition that
// starts a page after a cursor: by (expr, id) when expr is set, by id alone
// otherwise, in the sort's direction.
func keyset(expr, id string, s crm.Sort) (order, after string) {
	dir, cmp := " ASC", " > "
	if s.Descending() {
		dir, cmp = " DESC", " < "
	}
	if expr == "" {
		return " ORDER BY " + id + dir, id + cmp + "?"
	}
	return " ORDER BY " + expr + dir + ", " + id + dir, "(" + expr + ", " + id + ")" + cmp + "(?, ?)"
}

// sortArg is a cursor's sort value as SQLite compares it: times as stored text.
func sortArg(v any) any {
	if t, ok := v.(time.Time); ok {
		return fmtTime(t)
	}
	return v
}

// Duplicates returns open leads matching any of the keys.
func (db *DB) Duplicates(ctx context.Context, k crm.DuplicateKeys, ownerID string, limit int) ([]*crm.Lead, error) {
	var (
		ors  []string
		args []any
	)
	for i, v := range []string{k.Email, k.Phone, k.Name} {
		col := [...]string{"email_key", "phone_key", "name_key"}[i]
		if v != "" {
			// The conditions repeat the partial indexes' predicate so that
			// each branch of the OR is served by its index.
			ors = append(ors, "id IN (SELECT id FROM leads WHERE "+col+" = ? AND "+col+" <> '' AND "+openStages+")")
			args = append(args, v)
		}
	}
	if len(ors) == 0 {
		return []*crm.Lead{}, nil
	}
	where := []string{"(" + strings.Join(ors, " OR ") + ")"}
	if ownerID != "" {
		where, args = append(where, "owner_id = ?"), append(args, ownerID)
	}
	query := `SELECT ` + sqlitesql.LeadCols + ` FROM leads` + whereSQL(where) + ` ORDER BY id DESC LIMIT ?`
	return queryAll(ctx, db, "duplicates", sqlitesql.ScanLead, query, append(args, limit)...)
}

const openStages = "stage IN ('new', 'contacted', 'qualified')"

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
	l, err := sqlitesql.ScanLead(t.queryRow(ctx, qLead, id))
	return l, mapErr("lock lead", "lead", err)
}

// InsertLead adds a lead.
func (t *tx) InsertLead(ctx context.Context, l *crm.Lead) error {
	return mapErr("insert lead", "", t.exec(ctx, qLeadIns, sqlitesql.LeadInsertArgs(l)...))
}

// UpdateLead writes every mutable column of l.
func (t *tx) UpdateLead(ctx context.Context, l *crm.Lead) error {
	return mapErr("update lead", "lead", t.execOne(ctx, qLeadUpd, sqlitesql.LeadUpdateArgs(l)...))
}
