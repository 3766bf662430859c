package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/testdb"
	"github.com/crmleads/crm/postgres"
	"github.com/crmleads/crm/sqlite"
)

// demo seed through run(), on both stores: it creates the configured admin,
// loads the demo model's rows (COPY on PostgreSQL) so that the quality report
// sees them, refuses a second run without --force, and adds with it.
func TestDemoSeed(t *testing.T) {
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			url := testdb.URL(t, kind)
			env := map[string]string{"DATABASE_URL": url, "CRM_ADMIN_EMAIL": "boss@example.com",
				"CRM_ADMIN_PASSWORD": "a long password", "CRM_BCRYPT_COST": "4"}
			getenv := func(k string) string { return env[k] }
			var out bytes.Buffer
			seed := func(args ...string) error {
				out.Reset()
				return run(context.Background(), append([]string{"crmleads", "demo", "seed"}, args...), getenv, nil, &out, io.Discard)
			}
			if err := seed("--leads", "3000", "--seed", "7"); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "3000 leads") {
				t.Errorf("output %q", out.String())
			}
			if err := seed("--leads", "10"); err == nil || !strings.Contains(err.Error(), "--force") {
				t.Errorf("a second seed without --force: %v", err)
			}
			if err := seed("--leads", "10", "--force"); err != nil {
				t.Fatal(err)
			}

			ctx := context.Background()
			var st crm.Store
			if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
				db, err := sqlite.Open(ctx, path)
				if err != nil {
					t.Fatal(err)
				}
				st = db
			} else {
				db, err := postgres.Open(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				st = db
			}
			defer st.Close()
			admin, err := st.UserByEmail(ctx, "boss@example.com")
			if err != nil || admin.Role != crm.RoleAdmin {
				t.Fatalf("first admin: %+v, %v", admin, err)
			}
			svc := crm.NewServices(crm.Config{Store: st})
			r, err := svc.Analyses.Quality(crm.WithActor(ctx, crm.System), crm.OutcomeFilter{})
			if err != nil || len(r.Groups) != 1 {
				t.Fatalf("quality: %+v, %v", r, err)
			}
			g := r.Groups[0]
			if g.Provider != "baseline" || g.Count < 1000 || g.AUC == nil || !g.Trustworthy {
				t.Errorf("quality of the demo data: %+v", g)
			}
			// Lost leads are all negatives and score lower than transferred
			// ones, so the model ranks well: AUC well above a coin.
			if *g.AUC < 0.75 || math.IsNaN(g.Brier) {
				t.Errorf("AUC %v on demo data", *g.AUC)
			}
			if _, err := st.Calibration(ctx, "baseline", "baseline-v1", "baseline-v1"); err != nil {
				t.Errorf("no calibration fitted after the seed: %v", err)
			}
		})
	}
}
