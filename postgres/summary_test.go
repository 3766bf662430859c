package postgres

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/testdb"
)

// TestSummaryMigrationBackfills fills a database at the schema before the
// board summary (migration 00013), applies it, and compares the summary with
// the GROUP BY the boards ran before — then again after changes made by the
// triggers alone.
func TestSummaryMigrationBackfills(t *testing.T) {
	ctx := context.Background()
	db := open(t, testdb.PostgresURL(t))
	sqlDB := stdlib.OpenDB(*db.cfg.ConnConfig.Copy())
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrationsFS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 12); err != nil {
		t.Fatalf("up to 12: %v", err)
	}
	const u1, u2 = "0190aaaa-0000-7000-8000-000000000001", "0190aaaa-0000-7000-8000-000000000002"
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
		VALUES ($1, 'a@example.com', 'a', 'manager', 'x', now(), now()), ($2, 'b@example.com', 'b', 'manager', 'x', now(), now())`, u1, u2)
	exec(`INSERT INTO leads (id, source, stage, owner_id, open_tasks, created_at, updated_at)
		SELECT gen_random_uuid(), 'manual', (ARRAY['new', 'contacted', 'qualified', 'lost'])[1 + i % 4],
			(ARRAY[NULL, $1, $2]::uuid[])[1 + i % 3], i % 2, now(), now()
		FROM generate_series(1, 600) i`, u1, u2)
	exec(`INSERT INTO sales (id, lead_id, stage, created_at, updated_at, amount, currency)
		SELECT gen_random_uuid(), id, (ARRAY['new', 'kyc', 'agreement', 'paid', 'lost'])[1 + k % 5], now(), now(),
			CASE WHEN k % 4 > 0 THEN k * 12345 END, (ARRAY[NULL, 'EUR', 'USD', 'UAH'])[1 + k % 4]
		FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM leads) l WHERE k % 2 = 0`)
	if _, err := p.UpTo(ctx, 13); err != nil {
		t.Fatalf("up to 13: %v", err)
	}
	compare := func(when string) {
		t.Helper()
		for _, owner := range []string{"", u1, u2} {
			w, _ := ownerWhere("owner_id", owner)
			want, err := collect(ctx, db, "lead counts", func(r pgx.Row) (crm.LeadCount, error) {
				var c crm.LeadCount
				return c, r.Scan(&c.Stage, &c.NoNextStep, &c.Count)
			}, `SELECT stage, open_tasks = 0 AND `+openStages+`, count(*) FROM leads`+w.sql()+` GROUP BY 1, 2 ORDER BY 1, 2`, w.args...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.LeadCounts(ctx, owner)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, sortedCounts(got)); d != "" || len(want) == 0 {
				t.Errorf("%s: lead counts of %q (-GROUP BY +summary):\n%s", when, owner, d)
			}
			w, _ = ownerWhere("l.owner_id", owner)
			wantT, err := collect(ctx, db, "sale totals", func(r pgx.Row) (crm.SaleTotal, error) {
				var (
					s   crm.SaleTotal
					sum int64
				)
				err := r.Scan(&s.Stage, &s.Currency, &s.Count, &sum)
				s.Sum = crm.Amount(sum)
				return s, err
			}, `SELECT s.stage, coalesce(s.currency, ''), count(*), coalesce(sum(s.amount), 0)::bigint
				FROM sales s JOIN leads l ON l.id = s.lead_id`+w.sql()+` GROUP BY 1, 2 ORDER BY 1, 2`, w.args...)
			if err != nil {
				t.Fatal(err)
			}
			gotT, err := db.SaleTotals(ctx, owner)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(wantT, sortedTotals(gotT)); d != "" || len(wantT) == 0 {
				t.Errorf("%s: sale totals of %q (-GROUP BY +summary):\n%s", when, owner, d)
			}
		}
	}
	compare("after the backfill")
	// The triggers carry on from the backfilled rows.
	exec(`UPDATE leads SET owner_id = $1 WHERE owner_id = $2 AND stage = 'new'`, u1, u2)
	exec(`UPDATE leads SET stage = 'lost', open_tasks = 0 WHERE stage = 'contacted' AND owner_id IS NULL`)
	exec(`UPDATE sales SET amount = 7, currency = 'EUR' WHERE stage = 'kyc'`)
	exec(`UPDATE sales SET stage = 'paid' WHERE stage = 'agreement'`)
	exec(`DELETE FROM sales WHERE stage = 'lost'`)
	compare("after changes")
}

// sortedCounts orders counts as the GROUP BY … ORDER BY 1, 2 does (false
// before true).
func sortedCounts(cs []crm.LeadCount) []crm.LeadCount {
	slices.SortFunc(cs, func(x, y crm.LeadCount) int {
		if c := strings.Compare(string(x.Stage), string(y.Stage)); c != 0 {
			return c
		}
		switch {
		case x.NoNextStep == y.NoNextStep:
			return 0
		case !x.NoNextStep:
			return -1
		}
		return 1
	})
	return cs
}

func sortedTotals(ts []crm.SaleTotal) []crm.SaleTotal {
	slices.SortFunc(ts, func(x, y crm.SaleTotal) int {
		return strings.Compare(string(x.Stage)+"/"+x.Currency, string(y.Stage)+"/"+y.Currency)
	})
	return ts
}
