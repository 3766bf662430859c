package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/jobs"
	"github.com/crmleads/crm/storetest"
)

// TestImportOnTheEngine runs an import's preview and commit on the real
// engine of each store, one batch per run (ImportSlice < 0), so every batch
// after the first is a snoozed job picked up again: three batches are
// previewed and committed, and the import ends done with every row written
// once. No time is asserted.
func TestImportOnTheEngine(t *testing.T) {
	onEachStore(t, func(t *testing.T, ctx context.Context, st store, newEngine engineFor) {
		svc := crm.NewServices(crm.Config{Store: st, Hasher: storetest.Hasher{}, Domains: storetest.Domains,
			ImportSlice: -1})
		u, err := svc.Users.CreateUser(crm.WithActor(ctx, crm.System), crm.UserInput{Email: "m@example.com",
			Name: "M", Role: crm.RoleManager, Password: "password-m"})
		if err != nil {
			t.Fatal(err)
		}
		me := crm.WithActor(ctx, crm.Actor{UserID: u.ID, Role: u.Role})
		n := 2*crm.ImportBatch + 1
		var sb strings.Builder
		sb.WriteString("source,email\n")
		for i := range n {
			fmt.Fprintf(&sb, "partner,p%d@example.com\n", i)
		}
		im, err := svc.Imports.Start(me, crm.ImportInput{}, strings.NewReader(sb.String()))
		if err != nil {
			t.Fatal(err)
		}
		startEngine(t, ctx, newEngine, jobs.Config{Imports: svc.Imports, PollInterval: 100 * time.Millisecond,
			JobTimeout: 10 * time.Second, RescueAfter: 20 * time.Second, SoftStop: time.Second})
		wait := func(status string) *crm.Import {
			t.Helper()
			deadline := time.Now().Add(60 * time.Second)
			for {
				im, err := svc.Imports.Import(me, im.ID)
				if err != nil {
					t.Fatal(err)
				}
				if im.Status == status {
					return im
				}
				if time.Now().After(deadline) {
					t.Fatalf("import not %s in time: %+v", status, im)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		if got := wait(crm.ImportReady); got.Valid != n {
			t.Fatalf("preview: %+v", got)
		}
		if _, err := svc.Imports.Commit(me, im.ID); err != nil {
			t.Fatal(err)
		}
		if got := wait(crm.ImportDone); got.Imported != n {
			t.Fatalf("commit: imported %d, want %d", got.Imported, n)
		}
		count := 0
		if err := svc.Leads.EachLead(me, crm.LeadFilter{}, func(*crm.Lead) error { count++; return nil }); err != nil {
			t.Fatal(err)
		}
		if count != n {
			t.Errorf("%d leads, want %d", count, n)
		}
	})
}
