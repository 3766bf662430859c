package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/sqlite"
)

func openTemp(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a", "b", "crm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenMigratePing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new", "dir", "crm.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not created: %v", err)
	}

	err = db.Ping(ctx)
	if !crm.IsKind(err, crm.EUNAVAILABLE) {
		t.Fatalf("Ping before migrating = %v, want unavailable", err)
	}

	var out bytes.Buffer
	if err := db.Migrate(ctx, "up", &out); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping after up: %v", err)
	}
	out.Reset()
	if err := db.Migrate(ctx, "status", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "00001_init.sql") || !strings.Contains(out.String(), "applied") {
		t.Fatalf("status output:\n%s", out.String())
	}

	if err := db.Migrate(ctx, "down", &out); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); !crm.IsKind(err, crm.EUNAVAILABLE) {
		t.Fatalf("Ping after down = %v, want unavailable", err)
	}
	out.Reset()
	if err := db.Migrate(ctx, "status", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "pending") {
		t.Fatalf("status after down:\n%s", out.String())
	}
	if err := db.Migrate(ctx, "up", &out); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping after second up: %v", err)
	}
	if err := db.Migrate(ctx, "sideways", &out); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func migrated(t testing.TB) *sqlite.DB {
	t.Helper()
	db := openTemp(t)
	if err := db.Migrate(context.Background(), "up", nil); err != nil {
		t.Fatal(err)
	}
	return db
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// TestSmoke is a quick round trip of the mapping; the storetest suite is the
// real check of the contract.
func TestSmoke(t *testing.T) {
	ctx := context.Background()
	db := migrated(t)
	ts := now()
	u := &crm.User{ID: crm.NewID(), Email: "a@example.com", Name: "A", Role: crm.RoleAdmin, Active: true,
		PasswordHash: "h", CreatedAt: ts, UpdatedAt: ts}
	l := &crm.Lead{ID: crm.NewID(), Source: crm.SourceManual, Stage: crm.LeadNew, Name: "Ирина Петрова",
		Note: "50% off_", OwnerID: u.ID, CreatedAt: ts, UpdatedAt: ts}
	err := db.InTx(ctx, func(tx crm.Tx) error {
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		if err := tx.InsertLead(ctx, l); err != nil {
			return err
		}
		return tx.InsertEvent(ctx, &crm.Event{ID: crm.NewID(), LeadID: l.ID, Action: crm.ActionLeadCreated,
			ActorID: u.ID, Data: map[string]any{"k": "v"}, CreatedAt: ts})
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Lead(ctx, l.ID)
	if err != nil || got.Name != l.Name || !got.CreatedAt.Equal(ts) || got.AI != nil || got.OwnerID != u.ID {
		t.Fatalf("Lead = %+v, %v", got, err)
	}
	for q, want := range map[string]int{"ИРИНА": 1, "петр": 1, "50%": 1, "0_": 0, "off_": 1, "%": 1, "x": 0} {
		ls, err := db.Leads(ctx, crm.LeadFilter{Q: q, Limit: 10})
		if err != nil || len(ls) != want {
			t.Errorf("Leads(Q=%q) = %d, %v; want %d", q, len(ls), err, want)
		}
	}
	ev, err := db.Events(ctx, crm.EventFilter{LeadID: l.ID, Limit: 10})
	if err != nil || len(ev) != 1 || ev[0].Data["k"] != "v" {
		t.Fatalf("Events = %v, %v", ev, err)
	}

	// AI round trip and update.
	l.AI = &crm.LeadAnalysis{Score: 0.5, Recommendation: crm.RecommendNurture, AnalyzedAt: ts,
		Facts:      crm.Facts{Source: l.Source, Stage: l.Stage, MessagesCount: 3, HasBusinessDomain: true},
		AnalysisID: crm.NewID(), ScoreCalibrated: new(0.42),
		Factors: []crm.Factor{{Fact: "source", Direction: crm.FactorUp, Weight: 0.1}}}
	l.BusinessDomain = "fintech"
	err = db.InTx(ctx, func(tx crm.Tx) error { return tx.UpdateLead(ctx, l) })
	if err != nil {
		t.Fatal(err)
	}
	got, _ = db.Lead(ctx, l.ID)
	if got.AI == nil || !reflect.DeepEqual(*got.AI, *l.AI) || got.BusinessDomain != "fintech" {
		t.Fatalf("after update: %+v", got)
	}

	// Errors.
	if _, err := db.Lead(ctx, crm.NewID()); !crm.IsKind(err, crm.ENOTFOUND) {
		t.Errorf("missing lead: %v", err)
	}
	err = db.InTx(ctx, func(tx crm.Tx) error {
		u2 := *u
		u2.ID = crm.NewID()
		return tx.InsertUser(ctx, &u2)
	})
	var ce *crm.Error
	if !crm.IsKind(err, crm.ECONFLICT) || !asErr(err, &ce) || ce.Code != crm.CodeEmailTaken {
		t.Errorf("duplicate email: %v", err)
	}
	s := &crm.Sale{ID: crm.NewID(), LeadID: l.ID, Stage: crm.SaleNew, CreatedAt: ts, UpdatedAt: ts}
	if err := db.InTx(ctx, func(tx crm.Tx) error { return tx.InsertSale(ctx, s) }); err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(tx crm.Tx) error {
		s2 := *s
		s2.ID = crm.NewID()
		return tx.InsertSale(ctx, &s2)
	})
	if !crm.IsKind(err, crm.ECONFLICT) {
		t.Errorf("second sale: %v", err)
	}
	if gs, err := db.SaleByLead(ctx, l.ID); err != nil || gs.OwnerID != u.ID {
		t.Errorf("SaleByLead = %+v, %v", gs, err)
	}
	err = db.InTx(ctx, func(tx crm.Tx) error {
		return tx.InsertLead(ctx, &crm.Lead{ID: crm.NewID(), Source: "bogus", Stage: crm.LeadNew, CreatedAt: ts, UpdatedAt: ts})
	})
	if !crm.IsKind(err, crm.EINVALID) {
		t.Errorf("bad source: %v", err)
	}
	err = db.InTx(ctx, func(tx crm.Tx) error {
		return tx.InsertLead(ctx, &crm.Lead{ID: crm.NewID(), Source: crm.SourceManual, Stage: crm.LeadNew,
			OwnerID: crm.NewID(), CreatedAt: ts, UpdatedAt: ts})
	})
	if !crm.IsKind(err, crm.EINVALID) {
		t.Errorf("unknown owner: %v", err)
	}
	if v, err := db.EnsureSetting(ctx, "k", "one"); err != nil || v != "one" {
		t.Errorf("EnsureSetting = %q, %v", v, err)
	}
	if v, err := db.EnsureSetting(ctx, "k", "two"); err != nil || v != "one" {
		t.Errorf("EnsureSetting again = %q, %v", v, err)
	}
}

func asErr(err error, target **crm.Error) bool {
	e, ok := err.(*crm.Error)
	*target = e
	return ok
}

// BenchmarkCreateLead measures a lead create as the service does it: one
// transaction with the lead and its event.
func BenchmarkCreateLead(b *testing.B) {
	ctx := context.Background()
	db := migrated(b)
	ts := now()
	b.ReportAllocs()
	for b.Loop() {
		l := &crm.Lead{ID: crm.NewID(), Source: crm.SourceScanner, Stage: crm.LeadNew, Name: "Bench",
			Email: "bench@example.com", CreatedAt: ts, UpdatedAt: ts}
		err := db.InTx(ctx, func(tx crm.Tx) error {
			if err := tx.InsertLead(ctx, l); err != nil {
				return err
			}
			return tx.InsertEvent(ctx, &crm.Event{ID: crm.NewID(), LeadID: l.ID, Action: crm.ActionLeadCreated,
				Data: map[string]any{"source": "scanner"}, CreatedAt: ts})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestConcurrent runs writers and readers at once (run it with -race): the
// single writer connection must serialize transactions without errors, and
// readers must never see a lead without its event.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	db := migrated(t)
	ts := now()
	errs := make(chan error, 8)
	for range 4 {
		go func() {
			for range 50 {
				l := &crm.Lead{ID: crm.NewID(), Source: crm.SourceScanner, Stage: crm.LeadNew, CreatedAt: ts, UpdatedAt: ts}
				err := db.InTx(ctx, func(tx crm.Tx) error {
					if err := tx.InsertLead(ctx, l); err != nil {
						return err
					}
					if _, err := tx.LockLead(ctx, l.ID); err != nil {
						return err
					}
					return tx.InsertEvent(ctx, &crm.Event{ID: crm.NewID(), LeadID: l.ID, Action: crm.ActionLeadCreated, CreatedAt: ts})
				})
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
		go func() {
			for range 50 {
				ls, err := db.Leads(ctx, crm.LeadFilter{Limit: 5})
				if err != nil {
					errs <- err
					return
				}
				for _, l := range ls {
					ev, err := db.Events(ctx, crm.EventFilter{LeadID: l.ID, Limit: 5})
					if err != nil || len(ev) != 1 {
						errs <- fmt.Errorf("events of %s: %d, %v", l.ID, len(ev), err)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
