package sqlite

import (
	"context"
	"database/sql"

	"github.com/crmleads/crm"
)

// A sale's owner is its lead's owner, read through the join.
const saleSelect = `SELECT s.id, s.lead_id, s.stage, s.transferred_by, l.owner_id, s.created_at, s.updated_at,
	s.amount, s.currency
	FROM sales s JOIN leads l ON l.id = s.lead_id`

const (
	qSale       = saleSelect + ` WHERE s.id = ?`
	qSaleByLead = saleSelect + ` WHERE s.lead_id = ?`
	qSaleIns    = `INSERT INTO sales (id, lead_id, stage, transferred_by, created_at, updated_at, amount, currency)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qSaleUpd = `UPDATE sales SET stage = ?, updated_at = ?, amount = ?, currency = ? WHERE id = ?`
)

func scanSale(r scanner) (*crm.Sale, error) {
	var (
		s                crm.Sale
		by, owner        sql.NullString
		created, updated string
		amount           sql.NullInt64
		currency         sql.NullString
	)
	if err := r.Scan(&s.ID, &s.LeadID, &s.Stage, &by, &owner, &created, &updated, &amount, &currency); err != nil {
		return nil, err
	}
	s.TransferredBy, s.OwnerID = by.String, owner.String
	s.Amount, s.Currency = crm.Amount(amount.Int64), currency.String
	var err error
	if s.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if s.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &s, nil
}

// Sale returns the sale with the given id.
func (db *DB) Sale(ctx context.Context, id string) (*crm.Sale, error) {
	row, err := db.queryRow(ctx, qSale, id)
	if err != nil {
		return nil, mapErr("sale", "sale", err)
	}
	s, err := scanSale(row)
	return s, mapErr("sale", "sale", err)
}

// SaleByLead returns the sale of a lead.
func (db *DB) SaleByLead(ctx context.Context, leadID string) (*crm.Sale, error) {
	row, err := db.queryRow(ctx, qSaleByLead, leadID)
	if err != nil {
		return nil, mapErr("sale by lead", "sale", err)
	}
	s, err := scanSale(row)
	return s, mapErr("sale by lead", "sale", err)
}

// Sales returns up to f.Limit sales matching f, newest first.
func (db *DB) Sales(ctx context.Context, f crm.SaleFilter) ([]*crm.Sale, error) {
	var (
		where []string
		args  []any
	)
	if f.Stage != "" {
		where, args = append(where, "s.stage = ?"), append(args, string(f.Stage))
	}
	if f.OwnerID != "" {
		where, args = append(where, "l.owner_id = ?"), append(args, f.OwnerID)
	}
	expr := saleSortExpr[f.Sort.Key]
	order, after := keyset(expr, "s.id", f.Sort)
	if f.After != "" {
		where = append(where, after)
		if expr != "" {
			args = append(args, sortArg(f.AfterValue))
		}
		args = append(args, f.After)
	}
	query := saleSelect + whereSQL(where) + order + ` LIMIT ?`
	return queryAll(ctx, db, "sales", scanSale, query, append(args, f.Limit)...)
}

// LockSale reads a sale, with its lead's owner, inside the write transaction.
func (t *tx) LockSale(ctx context.Context, id string) (*crm.Sale, error) {
	s, err := scanSale(t.queryRow(ctx, qSale, id))
	return s, mapErr("lock sale", "sale", err)
}

// InsertSale adds a sale; a second sale for a lead is ECONFLICT.
func (t *tx) InsertSale(ctx context.Context, s *crm.Sale) error {
	return mapErr("insert sale", "", t.exec(ctx, qSaleIns,
		s.ID, s.LeadID, string(s.Stage), nullStr(s.TransferredBy), fmtTime(s.CreatedAt), fmtTime(s.UpdatedAt),
		saleAmount(s), nullStr(s.Currency)))
}

// saleAmount is the amount column of a sale: NULL without a value.
func saleAmount(s *crm.Sale) any {
	if !s.HasValue() {
		return nil
	}
	return int64(s.Amount)
}

// saleSortExpr is the SQL a sale sort key orders by; "" orders by id alone.
var saleSortExpr = map[string]string{
	"updated_at": "s.updated_at", "stage": stageRank("s.stage", crm.SaleStages), "amount": "coalesce(s.amount, -1)",
}

// UpdateSale writes the stage, value and updated_at of s.
func (t *tx) UpdateSale(ctx context.Context, s *crm.Sale) error {
	return mapErr("update sale", "sale", t.execOne(ctx, qSaleUpd, string(s.Stage), fmtTime(s.UpdatedAt),
		saleAmount(s), nullStr(s.Currency), s.ID))
}
