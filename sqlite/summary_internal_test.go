package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3"

	"github.com/crmleads/crm"
)

// TestSummaryMigrationBackfills fills a database at the schema before the
// board summary (migration 00013), applies it, and compares the summary with
// the GROUP BY the boards ran before — then again after changes made by the
// triggers alone.
func TestSummaryMigrationBackfills(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "crm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectSQLite3, db.w, db.migrations,
		goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 12); err != nil {
		t.Fatalf("up to 12: %v", err)
	}
	const u1, u2 = "0190aaaa-0000-7000-8000-000000000001", "0190aaaa-0000-7000-8000-000000000002"
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.w.ExecContext(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	now := "2026-01-01T00:00:00.000000Z"
	exec(`INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
		VALUES (?1, 'a@example.com', 'a', 'manager', 'x', ?3, ?3), (?2, 'b@example.com', 'b', 'manager', 'x', ?3, ?3)`, u1, u2, now)
	exec(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 600)
		INSERT INTO leads (id, source, stage, owner_id, open_tasks, created_at, updated_at)
		SELECT printf('0190bbbb-0000-7000-8000-%012d', i), 'manual',
			CASE i % 4 WHEN 0 THEN 'new' WHEN 1 THEN 'contacted' WHEN 2 THEN 'qualified' ELSE 'lost' END,
			CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN ?1 ELSE ?2 END, i % 2, ?3, ?3 FROM s`, u1, u2, now)
	exec(`INSERT INTO sales (id, lead_id, stage, created_at, updated_at, amount, currency)
		SELECT 'sale-' || id, id, CASE k % 5 WHEN 0 THEN 'new' WHEN 1 THEN 'kyc' WHEN 2 THEN 'agreement' WHEN 3 THEN 'paid' ELSE 'lost' END,
			?1, ?1, CASE WHEN k % 4 > 0 THEN k * 12345 END, CASE k % 4 WHEN 1 THEN 'EUR' WHEN 2 THEN 'USD' WHEN 3 THEN 'UAH' END
		FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM leads) WHERE k % 2 = 0`, now)
	if _, err := p.UpTo(ctx, 13); err != nil {
		t.Fatalf("up to 13: %v", err)
	}
	compare := func(when string) {
		t.Helper()
		for _, owner := range []string{"", u1, u2} {
			where, args := ownerCond("owner_id", owner)
			want, err := queryAll(ctx, db, "lead counts", func(r scanner) (crm.LeadCount, error) {
				var c crm.LeadCount
				return c, r.Scan(&c.Stage, &c.NoNextStep, &c.Count)
			}, `SELECT stage, open_tasks = 0 AND `+openStages+`, count(*) FROM leads`+whereSQL(where)+` GROUP BY 1, 2 ORDER BY 1, 2`, args...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.LeadCounts(ctx, owner)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(got, func(x, y crm.LeadCount) int {
				if c := strings.Compare(string(x.Stage), string(y.Stage)); c != 0 {
					return c
				}
				return boolCmp(x.NoNextStep, y.NoNextStep)
			})
			if d := cmp.Diff(want, got); d != "" || len(want) == 0 {
				t.Errorf("%s: lead counts of %q (-GROUP BY +summary):\n%s", when, owner, d)
			}
			where, args = ownerCond("l.owner_id", owner)
			wantT, err := queryAll(ctx, db, "sale totals", func(r scanner) (crm.SaleTotal, error) {
				var s crm.SaleTotal
				return s, r.Scan(&s.Stage, &s.Currency, &s.Count, &s.Sum)
			}, `SELECT s.stage, coalesce(s.currency, ''), count(*), coalesce(sum(s.amount), 0)
				FROM sales s JOIN leads l ON l.id = s.lead_id`+whereSQL(where)+` GROUP BY 1, 2 ORDER BY 1, 2`, args...)
			if err != nil {
				t.Fatal(err)
			}
			gotT, err := db.SaleTotals(ctx, owner)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(gotT, func(x, y crm.SaleTotal) int {
				return strings.Compare(string(x.Stage)+"/"+x.Currency, string(y.Stage)+"/"+y.Currency)
			})
			if d := cmp.Diff(wantT, gotT); d != "" || len(wantT) == 0 {
				t.Errorf("%s: sale totals of %q (-GROUP BY +summary):\n%s", when, owner, d)
			}
		}
	}
	compare("after the backfill")
	// The triggers carry on from the backfilled rows.
	exec(`UPDATE leads SET owner_id = ?1 WHERE owner_id = ?2 AND stage = 'new'`, u1, u2)
	exec(`UPDATE leads SET stage = 'lost', open_tasks = 0 WHERE stage = 'contacted' AND owner_id IS NULL`)
	exec(`UPDATE sales SET amount = 7, currency = 'EUR' WHERE stage = 'kyc'`)
	exec(`UPDATE sales SET stage = 'paid' WHERE stage = 'agreement'`)
	exec(`DELETE FROM sales WHERE stage = 'lost'`)
	compare("after changes")
}

func boolCmp(x, y bool) int {
	switch {
	case x == y:
		return 0
	case !x:
		return -1
	}
	return 1
}
