package sqlite

import (
	"context"

	"github.com/crmleads/crm"
)

var _ crm.BulkLoader = (*DB)(nil)

// BulkLoad writes the rows in one transaction through the prepared inserts
// of Tx: SQLite has no COPY, and one transaction of prepared statements is
// what its bulk loads come down to.
func (db *DB) BulkLoad(ctx context.Context, b *crm.Bulk) error {
	return db.InTx(ctx, func(tx crm.Tx) error {
		for _, l := range b.Leads {
			if err := tx.InsertLead(ctx, l); err != nil {
				return err
			}
		}
		for _, a := range b.Analyses {
			if err := tx.InsertAnalysis(ctx, a); err != nil {
				return err
			}
		}
		for _, s := range b.Sales {
			if err := tx.InsertSale(ctx, s); err != nil {
				return err
			}
		}
		for _, o := range b.Outcomes {
			if err := tx.InsertOutcome(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
}
