package postgres

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/testdb"
)

func open(t *testing.T, url string) *DB {
	t.Helper()
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	db := open(t, testdb.PostgresURL(t))

	if err := db.Ping(ctx); crm.ErrorKind(err) != crm.EUNAVAILABLE {
		t.Fatalf("Ping before migrating = %v, want EUNAVAILABLE", err)
	}
	var out bytes.Buffer
	if err := db.Migrate(ctx, "up", &out); err != nil {
		t.Fatalf("up: %v", err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping after up: %v", err)
	}
	out.Reset()
	if err := db.Migrate(ctx, "status", &out); err != nil {
		t.Fatalf("status: %v", err)
	}
	if !strings.Contains(out.String(), "applied") || !strings.Contains(out.String(), "00001_init.sql") {
		t.Fatalf("status after up:\n%s", out.String())
	}
	if err := db.Migrate(ctx, "down", &out); err != nil {
		t.Fatalf("down: %v", err)
	}
	if err := db.Ping(ctx); crm.ErrorKind(err) != crm.EUNAVAILABLE {
		t.Fatalf("Ping after down = %v, want EUNAVAILABLE", err)
	}
	out.Reset()
	if err := db.Migrate(ctx, "status", &out); err != nil {
		t.Fatalf("status: %v", err)
	}
	if !strings.Contains(out.String(), "pending") {
		t.Fatalf("status after down:\n%s", out.String())
	}
	if err := db.Migrate(ctx, "up", &out); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping after up again: %v", err)
	}
	if err := db.Migrate(ctx, "sideways", &out); err == nil {
		t.Fatal("unknown command: no error")
	}
}

func TestMigrateConcurrent(t *testing.T) {
	ctx := context.Background()
	url := testdb.PostgresURL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := Open(ctx, url)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = db.Migrate(ctx, "up", nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	if err := open(t, url).Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db := open(t, "postgres://postgres@127.0.0.1:1/test?sslmode=disable")
	_, err := db.Lead(ctx, crm.NewID())
	if crm.ErrorKind(err) != crm.EUNAVAILABLE {
		t.Fatalf("Lead = %v, want EUNAVAILABLE", err)
	}
	var e *crm.Error
	if errors.As(err, &e) && e.Code != crm.CodeDBUnavailable {
		t.Fatalf("code = %q", e.Code)
	}
	// A transaction that writes (its queue is sent at the end) and one that
	// reads (it begins at once) both report the outage.
	write := func(tx crm.Tx) error {
		return tx.InsertEvent(ctx, &crm.Event{ID: crm.NewID(), Action: "test", CreatedAt: time.Now()})
	}
	if err := db.InTx(ctx, write); crm.ErrorKind(err) != crm.EUNAVAILABLE {
		t.Fatalf("InTx(write) = %v, want EUNAVAILABLE", err)
	}
	read := func(tx crm.Tx) error { _, err := tx.LockLead(ctx, crm.NewID()); return err }
	if err := db.InTx(ctx, read); crm.ErrorKind(err) != crm.EUNAVAILABLE {
		t.Fatalf("InTx(read) = %v, want EUNAVAILABLE", err)
	}
	if err := db.Ping(ctx); crm.ErrorKind(err) != crm.EUNAVAILABLE {
		t.Fatalf("Ping = %v, want EUNAVAILABLE", err)
	}
}

// TestRoundTrip checks the value mapping the conformance suite relies on:
// NULLs, uuids as strings, times in UTC, the sale's owner and error kinds.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := open(t, testdb.PostgresURL(t))
	if err := db.Migrate(ctx, "up", nil); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := &crm.User{ID: crm.NewID(), Email: "a@example.com", Name: "A", Role: crm.RoleAdmin, Active: true,
		PasswordHash: "h", CreatedAt: now, UpdatedAt: now}
	l := &crm.Lead{ID: crm.NewID(), Source: crm.SourceManual, Stage: crm.LeadNew, Name: "Ann 50%_x\\",
		OwnerID: u.ID, CreatedAt: now, UpdatedAt: now}
	err := db.InTx(ctx, func(tx crm.Tx) error {
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		if err := tx.InsertLead(ctx, l); err != nil {
			return err
		}
		return tx.InsertEvent(ctx, &crm.Event{ID: crm.NewID(), LeadID: l.ID, Action: crm.ActionLeadCreated,
			ActorID: u.ID, Data: map[string]any{"k": "v"}, CreatedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Lead(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != l.ID || got.OwnerID != u.ID || got.AI != nil || got.BusinessDomain != "" ||
		!got.CreatedAt.Equal(now) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("lead = %+v", got)
	}
	for q, want := range map[string]int{"50%": 1, "%": 1, "0%_x\\": 1, "ann": 1, "5_%": 0, "x%": 0} {
		ls, err := db.Leads(ctx, crm.LeadFilter{Q: q, Limit: 10})
		if err != nil || len(ls) != want {
			t.Errorf("Leads(Q=%q) = %d, %v; want %d", q, len(ls), err, want)
		}
	}

	// An analysis, a domain and a transfer.
	l.AI = &crm.LeadAnalysis{Score: 0.9, Recommendation: crm.RecommendTransfer, Reason: "r", AnalyzedAt: now,
		Provider: "p", Model: "m", PromptVersion: "v1", Facts: crm.Facts{Source: crm.SourceManual, Stage: crm.LeadNew,
			MessagesCount: 3, HasBusinessDomain: true},
		AnalysisID: crm.NewID(), ScoreCalibrated: new(0.42),
		Factors: []crm.Factor{{Fact: "source", Direction: crm.FactorUp, Weight: 0.1}}}
	l.BusinessDomain, l.Stage = "retail", crm.LeadTransferred
	s := &crm.Sale{ID: crm.NewID(), LeadID: l.ID, Stage: crm.SaleNew, CreatedAt: now, UpdatedAt: now}
	err = db.InTx(ctx, func(tx crm.Tx) error {
		if _, err := tx.LockLead(ctx, l.ID); err != nil {
			return err
		}
		if err := tx.UpdateLead(ctx, l); err != nil {
			return err
		}
		return tx.InsertSale(ctx, s)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = db.Lead(ctx, l.ID)
	if got.AI == nil || !reflect.DeepEqual(*got.AI, *l.AI) || got.BusinessDomain != "retail" {
		t.Fatalf("lead after update = %+v %+v", got, got.AI)
	}
	gs, err := db.SaleByLead(ctx, l.ID)
	if err != nil || gs.OwnerID != u.ID || gs.TransferredBy != "" || gs.ID != s.ID {
		t.Fatalf("SaleByLead = %+v, %v", gs, err)
	}
	err = db.InTx(ctx, func(tx crm.Tx) error {
		return tx.InsertSale(ctx, &crm.Sale{ID: crm.NewID(), LeadID: l.ID, Stage: crm.SaleNew, CreatedAt: now, UpdatedAt: now})
	})
	if crm.ErrorKind(err) != crm.ECONFLICT {
		t.Fatalf("second sale: %v", err)
	}
	err = db.InTx(ctx, func(tx crm.Tx) error {
		u2 := *u
		u2.ID = crm.NewID()
		return tx.InsertUser(ctx, &u2)
	})
	var ce *crm.Error
	if !errors.As(err, &ce) || ce.Code != crm.CodeEmailTaken {
		t.Fatalf("taken email: %v", err)
	}
	err = db.InTx(ctx, func(tx crm.Tx) error {
		bad := *l
		bad.ID, bad.MessagesCount = crm.NewID(), -1
		return tx.InsertLead(ctx, &bad)
	})
	if crm.ErrorKind(err) != crm.EINVALID {
		t.Fatalf("check violation: %v", err)
	}
	if _, err := db.Sale(ctx, crm.NewID()); crm.ErrorKind(err) != crm.ENOTFOUND {
		t.Fatalf("missing sale: %v", err)
	}
	evs, err := db.Events(ctx, crm.EventFilter{LeadID: l.ID, Limit: 10})
	if err != nil || len(evs) != 1 || evs[0].Data["k"] != "v" || evs[0].SaleID != "" || evs[0].ActorID != u.ID {
		t.Fatalf("events = %+v, %v", evs, err)
	}
	n, err := db.InTxCount(ctx)
	if err != nil || n != 1 {
		t.Fatalf("admins = %d, %v", n, err)
	}
	v1, err1 := db.EnsureSetting(ctx, "k", "one")
	v2, err2 := db.EnsureSetting(ctx, "k", "two")
	if err1 != nil || err2 != nil || v1 != "one" || v2 != "one" {
		t.Fatalf("EnsureSetting = %q %q, %v %v", v1, v2, err1, err2)
	}
}

// InTxCount counts the active admins in a transaction (test helper).
func (db *DB) InTxCount(ctx context.Context) (n int, err error) {
	err = db.InTx(ctx, func(tx crm.Tx) error {
		n, err = tx.CountActiveAdmins(ctx)
		return err
	})
	return n, err
}

// TestOutage kills the pool's connections server-side: calls fail as
// EUNAVAILABLE (or succeed on a fresh connection), and the pool recovers
// without a restart.
func TestOutage(t *testing.T) {
	ctx := context.Background()
	url := testdb.PostgresURL(t)
	app := "crm_outage_" + strings.ReplaceAll(crm.NewID(), "-", "")
	db := open(t, url+"&application_name="+app)
	if err := db.Migrate(ctx, "up", nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	killer := open(t, url)
	for range 3 {
		if _, err := killer.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = $1`, app); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		_, err := db.Lead(ctx, crm.NewID())
		switch crm.ErrorKind(err) {
		case crm.ENOTFOUND:
		case crm.EUNAVAILABLE:
			t.Logf("after kill: %v", err)
		default:
			t.Fatalf("Lead after kill = %v, want EUNAVAILABLE or ENOTFOUND", err)
		}
	}
	if _, err := db.Lead(ctx, crm.NewID()); crm.ErrorKind(err) != crm.ENOTFOUND {
		t.Fatalf("Lead after recovery = %v, want ENOTFOUND", err)
	}
}

// TestLastAdminRace: two admins demoting themselves at once must not leave
// the system without an active admin.
func TestLastAdminRace(t *testing.T) {
	ctx := context.Background()
	db := open(t, testdb.PostgresURL(t))
	if err := db.Migrate(ctx, "up", nil); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	ids := []string{crm.NewID(), crm.NewID()}
	err := db.InTx(ctx, func(tx crm.Tx) error {
		for i, id := range ids {
			u := &crm.User{ID: id, Email: []string{"a@x.io", "b@x.io"}[i], Role: crm.RoleAdmin, Active: true,
				PasswordHash: "h", CreatedAt: now, UpdatedAt: now}
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg, locked sync.WaitGroup
	locked.Add(2)
	errs := make([]error, 2)
	for i, id := range ids {
		wg.Go(func() {
			errs[i] = db.InTx(ctx, func(tx crm.Tx) error {
				u, err := tx.LockUser(ctx, id)
				locked.Done()
				if err != nil {
					return err
				}
				locked.Wait() // both hold their own row before counting
				n, err := tx.CountActiveAdmins(ctx)
				if err != nil {
					return err
				}
				if n <= 1 {
					return crm.Errorf(crm.ECONFLICT, crm.CodeLastAdmin, "last admin")
				}
				u.Role = crm.RoleManager
				return tx.UpdateUser(ctx, u)
			})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch crm.ErrorKind(err) {
		case crm.ECONFLICT:
			t.Logf("loser: %v", err)
		default:
			if err != nil {
				t.Fatal(err)
			}
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d demotions succeeded, want 1 (%v)", ok, errs)
	}
	n, err := db.InTxCount(ctx)
	if err != nil || n != 1 {
		t.Fatalf("active admins = %d, %v", n, err)
	}
}

// TestQueuedWritesAreAtomic: a transaction of inserts only is sent as one
// pipeline (one implicit transaction). When one statement of it fails, none
// of it may land, and the error is the failing statement's.
func TestQueuedWritesAreAtomic(t *testing.T) {
	ctx := context.Background()
	db := open(t, testdb.PostgresURL(t))
	if err := db.Migrate(ctx, "up", nil); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	l := &crm.Lead{ID: crm.NewID(), Source: crm.SourceManual, Stage: crm.LeadNew, CreatedAt: now, UpdatedAt: now}
	err := db.InTx(ctx, func(tx crm.Tx) error {
		if err := tx.InsertLead(ctx, l); err != nil {
			return err
		}
		if err := tx.InsertEvent(ctx, &crm.Event{ID: crm.NewID(), LeadID: l.ID, Action: "lead.created", CreatedAt: now}); err != nil {
			return err
		}
		bad := *l
		bad.ID, bad.MessagesCount = crm.NewID(), -1 // violates the CHECK
		return tx.InsertLead(ctx, &bad)
	})
	if crm.ErrorKind(err) != crm.EINVALID {
		t.Fatalf("InTx = %v, want EINVALID from the failing insert", err)
	}
	if _, err := db.Lead(ctx, l.ID); crm.ErrorKind(err) != crm.ENOTFOUND {
		t.Fatalf("the first insert landed although its transaction failed: %v", err)
	}
	if ev, _ := db.Events(ctx, crm.EventFilter{LeadID: l.ID, Limit: 10}); len(ev) != 0 {
		t.Fatalf("%d events landed from a failed transaction", len(ev))
	}

	// An update of a missing row in a transaction that also inserts: not
	// found, and the insert is rolled back with it.
	l2 := *l
	l2.ID = crm.NewID()
	err = db.InTx(ctx, func(tx crm.Tx) error {
		if err := tx.InsertLead(ctx, &l2); err != nil {
			return err
		}
		return tx.UpdateSale(ctx, &crm.Sale{ID: crm.NewID(), Stage: crm.SaleKYC, UpdatedAt: now})
	})
	if crm.ErrorKind(err) != crm.ENOTFOUND {
		t.Fatalf("InTx = %v, want ENOTFOUND", err)
	}
	if _, err := db.Lead(ctx, l2.ID); crm.ErrorKind(err) != crm.ENOTFOUND {
		t.Fatalf("the insert landed although the update found no row: %v", err)
	}
}
