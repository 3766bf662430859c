package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

// The schema is the last line behind the service: a write that breaks a rule
// through the raw Tx is refused with a domain error, never an internal one.
var schemaTests = []test{
	{"NegativeMessagesCount", func(t *testing.T, b *bundle) {
		bg := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		l := &crm.Lead{ID: crm.NewID(), Source: crm.SourceManual, Stage: crm.LeadNew, MessagesCount: -1, CreatedAt: now, UpdatedAt: now}
		err := b.st.InTx(bg, func(tx crm.Tx) error { return tx.InsertLead(bg, l) })
		wantErr(t, err, crm.EINVALID, "")
		_, err = b.st.Lead(bg, l.ID)
		wantErr(t, err, crm.ENOTFOUND, "")

		// The same through an update of an existing lead.
		l = b.leadAt(t, crm.LeadNew)
		err = b.st.InTx(bg, func(tx crm.Tx) error {
			locked, err := tx.LockLead(bg, l.ID)
			if err != nil {
				return err
			}
			locked.MessagesCount = -5
			return tx.UpdateLead(bg, locked)
		})
		wantErr(t, err, crm.EINVALID, "")
		if got := b.lead(t, l.ID).MessagesCount; got != 3 {
			t.Errorf("messages_count = %d after a refused update, want 3", got)
		}
	}},
	{"UnknownStage", func(t *testing.T, b *bundle) {
		bg := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		l := &crm.Lead{ID: crm.NewID(), Source: crm.SourceManual, Stage: "won", CreatedAt: now, UpdatedAt: now}
		err := b.st.InTx(bg, func(tx crm.Tx) error { return tx.InsertLead(bg, l) })
		wantErr(t, err, crm.EINVALID, "")
	}},
	{"OneSalePerLead", func(t *testing.T, b *bundle) {
		bg := context.Background()
		s := b.saleAt(t, crm.SaleNew)
		now := time.Now().UTC().Truncate(time.Microsecond)
		dup := &crm.Sale{ID: crm.NewID(), LeadID: s.LeadID, Stage: crm.SaleNew, TransferredBy: b.senior.ID, CreatedAt: now, UpdatedAt: now}
		err := b.st.InTx(bg, func(tx crm.Tx) error { return tx.InsertSale(bg, dup) })
		wantErr(t, err, crm.ECONFLICT, "")
		_, err = b.st.Sale(bg, dup.ID)
		wantErr(t, err, crm.ENOTFOUND, "")
		got, err := b.st.SaleByLead(bg, s.LeadID)
		must(t, err)
		diff(t, "the one sale", s, got)
	}},
	{"DuplicateID", func(t *testing.T, b *bundle) {
		bg := context.Background()
		l := b.leadAt(t, crm.LeadNew)
		dup := *l
		err := b.st.InTx(bg, func(tx crm.Tx) error { return tx.InsertLead(bg, &dup) })
		wantErr(t, err, crm.ECONFLICT, "")
	}},
}
