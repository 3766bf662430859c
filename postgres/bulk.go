package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/pgsql"
)

var _ crm.BulkLoader = (*DB)(nil)

// BulkLoad writes the rows with COPY, in one transaction, in the order the
// foreign keys need: leads, analyses, sales, outcomes. The column lists and
// values are those of the single-row inserts (pgsql.LeadArgs and friends), so a
// COPYed row is the row an insert would have written.
func (db *DB) BulkLoad(ctx context.Context, b *crm.Bulk) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		leadRows := make([][]any, len(b.Leads))
		for i, l := range b.Leads {
			leadRows[i] = pgsql.LeadArgs(l)
		}
		cols := splitCols(pgsql.LeadWriteCols)
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"leads"}, cols, pgx.CopyFromRows(leadRows)); err != nil {
			return classify("copy leads", err, "")
		}
		aRows := make([][]any, len(b.Analyses))
		for i, a := range b.Analyses {
			aRows[i] = []any{a.ID, a.LeadID, nullID(a.ActorID), string(a.Facts.Source), string(a.Facts.Stage),
				a.Facts.MessagesCount, a.Facts.HasBusinessDomain, a.Provider, a.Model, a.PromptVersion, a.Score,
				string(a.Recommendation), a.Reason, a.RawOutput, a.ErrorCode, a.ErrorMessage, a.InputTokens,
				a.OutputTokens, a.LatencyMS, a.CostUSD, a.CreatedAt, a.ScoreCalibrated, pgsql.FactorsJSON(a.Factors),
				nullID(a.BatchID), nullID(a.ReasonUK)}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"analyses"}, splitCols(analysisCols), pgx.CopyFromRows(aRows)); err != nil {
			return classify("copy analyses", err, "")
		}
		sRows := make([][]any, len(b.Sales))
		for i, s := range b.Sales {
			sRows[i] = []any{s.ID, s.LeadID, string(s.Stage), nullID(s.TransferredBy), s.CreatedAt, s.UpdatedAt,
				saleAmount(s), nullID(s.Currency)}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"sales"},
			[]string{"id", "lead_id", "stage", "transferred_by", "created_at", "updated_at", "amount", "currency"},
			pgx.CopyFromRows(sRows)); err != nil {
			return classify("copy sales", err, "")
		}
		oRows := make([][]any, len(b.Outcomes))
		for i, o := range b.Outcomes {
			oRows[i] = []any{o.LeadID, nullID(o.AnalysisID), o.Provider, o.Model, o.PromptVersion, o.Score,
				o.Positive, o.DecidedAt}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"outcomes"},
			[]string{"lead_id", "analysis_id", "provider", "model", "prompt_version", "score", "positive", "decided_at"},
			pgx.CopyFromRows(oRows)); err != nil {
			return classify("copy outcomes", err, "")
		}
		return nil
	})
}

// splitCols turns a column list constant into names.
func splitCols(list string) []string {
	var out []string
	cur := []byte{}
	for i := 0; i < len(list); i++ {
		c := list[i]
		switch {
		case c == ',':
			out = append(out, string(cur))
			cur = cur[:0]
		case c == ' ' || c == '\n' || c == '\t':
		default:
			cur = append(cur, c)
		}
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out
}
