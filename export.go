package crm

import (
	"context"
	"strconv"
	"time"
)

// The columns of a lead export, which are also the headers the import reads,
// so an export imports back unchanged.
var LeadColumns = []string{"id", "source", "stage", "business_domain", "messages_count", "name", "email", "phone",
	"company", "note", "owner_id", "lost_reason", "ai_score", "ai_recommendation", "ai_reason", "ai_analyzed_at",
	"created_at", "updated_at"}

// SaleColumns are the columns of a sale export.
var SaleColumns = []string{"id", "lead_id", "stage", "amount", "currency", "transferred_by", "owner_id",
	"created_at", "updated_at"}

// NeutralizeCell defuses a spreadsheet formula as OWASP advises for CSV
// injection: a cell starting with =, +, - or @ (or a tab or carriage return,
// which some spreadsheets skip before reading a formula) gets a leading '.
// The import strips it again (UnneutralizeCell), so "+380…" phones
// round-trip. A cell that already starts with quotes before such a character
// ("'=x") gets one more, so every text round-trips exactly.
func NeutralizeCell(s string) string {
	if formulaAfterQuotes(s, 0) {
		return "'" + s
	}
	return s
}

// UnneutralizeCell undoes NeutralizeCell: it drops the leading ' of a cell
// that is one or more quotes and then a formula character.
func UnneutralizeCell(s string) string {
	if formulaAfterQuotes(s, 1) {
		return s[1:]
	}
	return s
}

// formulaAfterQuotes reports whether s is at least min quotes (') followed
// by a character that starts a formula.
func formulaAfterQuotes(s string, min int) bool {
	i := 0
	for i < len(s) && s[i] == '\'' {
		i++
	}
	if i < min || i == len(s) {
		return false
	}
	switch s[i] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// CSVRecord returns the lead's cells in LeadColumns order, neutralized.
func (l *Lead) CSVRecord() []string {
	var score, rec, reason, at string
	if l.AI != nil {
		score = strconv.FormatFloat(l.AI.Score, 'f', -1, 64)
		rec, reason, at = string(l.AI.Recommendation), l.AI.Reason, csvTime(l.AI.AnalyzedAt)
	}
	out := []string{l.ID, string(l.Source), string(l.Stage), l.BusinessDomain, strconv.Itoa(l.MessagesCount), l.Name,
		l.Email, l.Phone, l.Company, l.Note, l.OwnerID, l.LostReason, score, rec, reason, at,
		csvTime(l.CreatedAt), csvTime(l.UpdatedAt)}
	for i := range out {
		out[i] = NeutralizeCell(out[i])
	}
	return out
}

// CSVRecord returns the sale's cells in SaleColumns order, neutralized.
func (s *Sale) CSVRecord() []string {
	amount := ""
	if s.HasValue() {
		amount = s.Amount.Format(s.Currency)
	}
	out := []string{s.ID, s.LeadID, string(s.Stage), amount, s.Currency, s.TransferredBy, s.OwnerID,
		csvTime(s.CreatedAt), csvTime(s.UpdatedAt)}
	for i := range out {
		out[i] = NeutralizeCell(out[i])
	}
	return out
}

// exportPage is how many rows an export reads at a time: memory stays at one
// page whatever the number of leads.
const exportPage = MaxPageSize

// EachLead calls fn with every lead the actor may see that matches f, in f's
// order, reading a page at a time (keyset pagination) so any number of leads
// streams in constant memory. f.Limit and f.After are ignored. fn's error
// stops the walk and is returned. Errors: those of Leads.
func (s *LeadService) EachLead(ctx context.Context, f LeadFilter, fn func(*Lead) error) error {
	f.After = ""
	for {
		f.Limit = exportPage
		page, next, err := s.Leads(ctx, f)
		if err != nil {
			return err
		}
		for _, l := range page {
			if err := fn(l); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		f.After = next
	}
}

// EachSale is EachLead for sales.
func (s *LeadService) EachSale(ctx context.Context, f SaleFilter, fn func(*Sale) error) error {
	f.After = ""
	for {
		f.Limit = exportPage
		page, next, err := s.Sales(ctx, f)
		if err != nil {
			return err
		}
		for _, x := range page {
			if err := fn(x); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		f.After = next
	}
}
