package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/testdb"
	"github.com/crmleads/crm/storetest"
)

// TestImportCommand: `crmleads import` previews the broken file (its row
// errors on stdout, a bar on stderr), writes nothing with --dry-run, writes
// the valid rows without it, and skips them the second time; on both stores.
func TestImportCommand(t *testing.T) {
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			env := map[string]string{"DATABASE_URL": testdb.URL(t, kind)}
			getenv := func(k string) string { return env[k] }
			if err := run(ctx, []string{"crmleads", "migrate", "up"}, getenv, nil, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			st, err := openStore(ctx, env["DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			svc := crm.NewServices(crm.Config{Store: st, Hasher: storetest.Hasher{}})
			mgr, err := svc.Users.CreateUser(crm.WithActor(ctx, crm.System), crm.UserInput{Email: "mgr@example.com",
				Name: "M", Role: crm.RoleManager, Password: "password-m"})
			if err != nil {
				t.Fatal(err)
			}
			imp := func(args ...string) (string, string, error) {
				var out, errOut bytes.Buffer
				err := run(ctx, append([]string{"crmleads", "import"}, args...), getenv, nil, &out, &errOut)
				return out.String(), errOut.String(), err
			}
			out, bar, err := imp("--as", "mgr@example.com", "--dry-run", "../../testdata/import/broken.csv")
			if err != nil {
				t.Fatalf("dry run: %v\n%s", err, out)
			}
			for _, want := range []string{"of broken.csv: 10 records, 3 valid, 6 invalid, 1 duplicates, 0 skipped",
				"  row 2: email: must be an email address like name@example.com\n",
				"  row 7: email: possible duplicate of row 1 (same email)\n",
				"  row 8: name: must be at most 200 characters\n", "dry run: nothing written"} {
				if !strings.Contains(out, want) {
					t.Errorf("dry run printed %q, want %q in it", out, want)
				}
			}
			if !strings.Contains(bar, "preview [") || !strings.Contains(bar, "100% 10/10") {
				t.Errorf("no progress bar on stderr: %q", bar)
			}
			me := crm.WithActor(ctx, crm.Actor{UserID: mgr.ID, Role: mgr.Role})
			count := func() int {
				n := 0
				if err := svc.Leads.EachLead(me, crm.LeadFilter{}, func(*crm.Lead) error { n++; return nil }); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := count(); n != 0 {
				t.Fatalf("%d leads after a dry run", n)
			}
			if out, bar, err = imp("--as", "mgr@example.com", "../../testdata/import/broken.csv"); err != nil {
				t.Fatalf("import: %v\n%s", err, out)
			}
			if !strings.Contains(out, "done: 3 leads written") || !strings.Contains(bar, "import  [") {
				t.Errorf("import printed %q, bar %q", out, bar)
			}
			if out, _, err = imp("--as", "mgr@example.com", "../../testdata/import/broken.csv"); err != nil {
				t.Fatalf("import again: %v", err)
			}
			if !strings.Contains(out, "0 valid, 6 invalid, 1 duplicates, 3 skipped") || !strings.Contains(out, "done: 0 leads written") {
				t.Errorf("import again printed %q", out)
			}
			if n := count(); n != 3 {
				t.Errorf("%d leads, want 3", n)
			}
			if _, _, err := imp("--as", "mgr@example.com", "--owner", "nobody@example.com", "x.csv"); err == nil {
				t.Error("an unknown owner: no error")
			}
			if _, _, err := imp("../../testdata/import/broken.csv"); err == nil {
				t.Error("no --as: no error")
			}
		})
	}
}
