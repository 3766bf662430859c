package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

// Both stores map a failure of the database to the same *crm.Error: the same
// kind, code and message, built by the domain's constructors. Each case is
// reached through the raw Store and Tx, as a caller that skipped the
// service's checks would.
var errorTests = []test{
	{"Mapping", func(t *testing.T, b *bundle) {
		bg := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		unknown := crm.NewID()
		lead := b.leadAt(t, crm.LeadNew)
		sale := b.saleAt(t, crm.SaleNew)
		newLead := func(mod func(l *crm.Lead)) *crm.Lead {
			l := &crm.Lead{ID: crm.NewID(), Source: crm.SourceManual, Stage: crm.LeadNew, CreatedAt: now, UpdatedAt: now}
			mod(l)
			return l
		}
		inTx := func(fn func(tx crm.Tx) error) error { return b.st.InTx(bg, fn) }
		read := func(fn func() (any, error)) error { _, err := fn(); return err }
		lock := func(fn func(tx crm.Tx) (any, error)) error {
			return inTx(func(tx crm.Tx) error { _, err := fn(tx); return err })
		}
		ghostLead := *lead
		ghostLead.ID = unknown
		ghostSale := *sale
		ghostSale.ID = unknown
		ghostUser := *b.mgr
		ghostUser.ID = unknown
		for _, tc := range []struct {
			name string
			err  error
			want *crm.Error
		}{
			{"Lead", read(func() (any, error) { return b.st.Lead(bg, unknown) }), crm.NotFound("lead")},
			{"Lead malformed id", read(func() (any, error) { return b.st.Lead(bg, "not-an-id") }), crm.NotFound("lead")},
			{"Sale", read(func() (any, error) { return b.st.Sale(bg, unknown) }), crm.NotFound("sale")},
			{"SaleByLead", read(func() (any, error) { return b.st.SaleByLead(bg, lead.ID) }), crm.NotFound("sale")},
			{"User", read(func() (any, error) { return b.st.User(bg, unknown) }), crm.NotFound("user")},
			{"UserByEmail", read(func() (any, error) { return b.st.UserByEmail(bg, "nobody@example.com") }), crm.NotFound("user")},
			{"Setting", read(func() (any, error) { return b.st.Setting(bg, "no such key") }), crm.NotFound("setting")},
			{"LockLead", lock(func(tx crm.Tx) (any, error) { return tx.LockLead(bg, unknown) }), crm.NotFound("lead")},
			{"LockLead malformed id", lock(func(tx crm.Tx) (any, error) { return tx.LockLead(bg, "x") }), crm.NotFound("lead")},
			{"LockSale", lock(func(tx crm.Tx) (any, error) { return tx.LockSale(bg, unknown) }), crm.NotFound("sale")},
			{"LockUser", lock(func(tx crm.Tx) (any, error) { return tx.LockUser(bg, unknown) }), crm.NotFound("user")},
			{"UpdateLead", inTx(func(tx crm.Tx) error { return tx.UpdateLead(bg, &ghostLead) }), crm.NotFound("lead")},
			{"UpdateSale", inTx(func(tx crm.Tx) error { return tx.UpdateSale(bg, &ghostSale) }), crm.NotFound("sale")},
			{"UpdateUser", inTx(func(tx crm.Tx) error { return tx.UpdateUser(bg, &ghostUser) }), crm.NotFound("user")},

			{"second sale for a lead", inTx(func(tx crm.Tx) error {
				return tx.InsertSale(bg, &crm.Sale{ID: crm.NewID(), LeadID: sale.LeadID, Stage: crm.SaleNew, CreatedAt: now, UpdatedAt: now})
			}), crm.SaleExists(nil)},
			{"duplicate email", inTx(func(tx crm.Tx) error {
				return tx.InsertUser(bg, &crm.User{ID: crm.NewID(), Email: b.mgr.Email, Role: crm.RoleManager, Active: true,
					PasswordHash: "h:x", CreatedAt: now, UpdatedAt: now})
			}), crm.EmailTaken(nil)},
			{"duplicate id", inTx(func(tx crm.Tx) error { dup := *lead; return tx.InsertLead(bg, &dup) }), crm.Duplicate(nil)},
			{"lead of an unknown owner", inTx(func(tx crm.Tx) error {
				return tx.InsertLead(bg, newLead(func(l *crm.Lead) { l.OwnerID = unknown }))
			}), crm.MissingReference(nil)},
			{"sale of an unknown lead", inTx(func(tx crm.Tx) error {
				return tx.InsertSale(bg, &crm.Sale{ID: crm.NewID(), LeadID: unknown, Stage: crm.SaleNew, CreatedAt: now, UpdatedAt: now})
			}), crm.MissingReference(nil)},
			{"event of an unknown lead", inTx(func(tx crm.Tx) error {
				return tx.InsertEvent(bg, &crm.Event{ID: crm.NewID(), LeadID: unknown, Action: crm.ActionLeadCreated, CreatedAt: now})
			}), crm.MissingReference(nil)},
			{"unknown stage", inTx(func(tx crm.Tx) error {
				return tx.InsertLead(bg, newLead(func(l *crm.Lead) { l.Stage = "won" }))
			}), crm.BrokenRule(nil)},
		} {
			sameErr(t, tc.name, tc.err, tc.want)
		}

		// Last, as it ends the store: a closed store is an unavailable database.
		must(t, b.st.Close())
		sameErr(t, "closed store: read", read(func() (any, error) { return b.st.Lead(bg, lead.ID) }), crm.DBUnavailable(nil))
		sameErr(t, "closed store: write", inTx(func(tx crm.Tx) error { return tx.InsertLead(bg, newLead(func(*crm.Lead) {})) }),
			crm.DBUnavailable(nil))
	}},
	{"DeferredWriteRollsBack", func(t *testing.T, b *bundle) {
		// PostgreSQL defers writes to the end of the transaction (or its next
		// read): a write that fails there must still take the whole
		// transaction with it, the writes before it included.
		bg := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		for _, tc := range []struct {
			name    string
			readMid bool // a read between the writes (PostgreSQL: a real transaction from there)
			fail    func(tx crm.Tx) error
			want    *crm.Error
		}{
			{"writes only, duplicate email", false, func(tx crm.Tx) error {
				return tx.InsertUser(bg, &crm.User{ID: crm.NewID(), Email: b.mgr.Email, Role: crm.RoleManager, Active: true,
					PasswordHash: "h:x", CreatedAt: now, UpdatedAt: now})
			}, crm.EmailTaken(nil)},
			{"writes only, unknown reference", false, func(tx crm.Tx) error {
				return tx.InsertSale(bg, &crm.Sale{ID: crm.NewID(), LeadID: crm.NewID(), Stage: crm.SaleNew, CreatedAt: now, UpdatedAt: now})
			}, crm.MissingReference(nil)},
			{"writes only, update of a missing row", false, func(tx crm.Tx) error {
				ghost := *b.mgr
				ghost.ID = crm.NewID()
				return tx.UpdateUser(bg, &ghost)
			}, crm.NotFound("user")},
			{"read between, duplicate email", true, func(tx crm.Tx) error {
				return tx.InsertUser(bg, &crm.User{ID: crm.NewID(), Email: b.mgr.Email, Role: crm.RoleManager, Active: true,
					PasswordHash: "h:x", CreatedAt: now, UpdatedAt: now})
			}, crm.EmailTaken(nil)},
		} {
			l := &crm.Lead{ID: crm.NewID(), Source: crm.SourceManual, Stage: crm.LeadNew, Name: tc.name, CreatedAt: now, UpdatedAt: now}
			e := &crm.Event{ID: crm.NewID(), LeadID: l.ID, Action: crm.ActionLeadCreated, CreatedAt: now}
			err := b.st.InTx(bg, func(tx crm.Tx) error {
				if err := tx.InsertLead(bg, l); err != nil {
					return err
				}
				if err := tx.InsertEvent(bg, e); err != nil {
					return err
				}
				if tc.readMid {
					if _, err := tx.LockLead(bg, l.ID); err != nil {
						return err
					}
				}
				return tc.fail(tx)
			})
			sameErr(t, tc.name, err, tc.want)
			_, err = b.st.Lead(bg, l.ID)
			sameErr(t, tc.name+": the lead written before the failure", err, crm.NotFound("lead"))
			ev, err := b.st.Events(bg, crm.EventFilter{LeadID: l.ID})
			must(t, err)
			if len(ev) != 0 {
				t.Errorf("%s: %d events of the rolled-back lead kept", tc.name, len(ev))
			}
		}
	}},
}

// sameErr fails unless err is a *crm.Error with want's kind, code and message.
func sameErr(t *testing.T, name string, err error, want *crm.Error) {
	t.Helper()
	var e *crm.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: error = %v (%T), want %s %s %q", name, err, err, want.Kind, want.Code, want.Message)
		return
	}
	if e.Kind != want.Kind || e.Code != want.Code || e.Message != want.Message {
		t.Errorf("%s: error = %s %s %q (%v), want %s %s %q", name, e.Kind, e.Code, e.Message, err,
			want.Kind, want.Code, want.Message)
	}
}
