package sqlite

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/testdb"
)

// TestListQueriesUseIndexes: EXPLAIN QUERY PLAN of every lead list query
// the store can issue (each filter and the combinations the API allows, q
// short and long, each sort key both ways, first and cursor pages) on
// 20,000 analysed leads never scans leads without an index ("SCAN leads" on
// its own; an ordered "SCAN leads USING INDEX" that stops at the page's
// LIMIT is what keyset pages are), and a search of three characters or more
// goes through the trigram index leads_fts. No duration is measured.
func TestListQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx, "up", io.Discard); err != nil {
		t.Fatal(err)
	}
	owner := crm.NewID()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	if _, err := db.w.ExecContext(ctx, `INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
		VALUES (?, 'u@example.com', 'U', 'manager', 'x', ?, ?)`, owner, now, now); err != nil {
		t.Fatal(err)
	}
	_, err = db.w.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000)
		INSERT INTO leads (id, source, stage, messages_count, name, email, phone, company, note, owner_id, created_at, updated_at)
		SELECT printf('%08x-0000-7000-8000-%012x', i, i), (CASE i % 3 WHEN 0 THEN 'scanner' WHEN 1 THEN 'partner' ELSE 'manual' END),
			(CASE i % 10 WHEN 7 THEN 'contacted' WHEN 8 THEN 'qualified' WHEN 9 THEN 'lost' ELSE 'new' END),
			i % 50, 'Name ' || i, 'user' || i || '@example.com', '+1 555 ' || i, 'Co ' || (i % 500), 'a note about lead ' || i,
			CASE WHEN i % 20 = 0 THEN ? END, ?, ? FROM s`, owner, now, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	filters := []crm.LeadFilter{
		{}, {Stage: crm.LeadLost}, {Source: crm.SourcePartner}, {OwnerID: owner},
		{Stage: crm.LeadNew, Source: crm.SourcePartner}, {OwnerID: owner, Stage: crm.LeadQualified},
		{OwnerID: owner, Source: crm.SourceScanner, Stage: crm.LeadContacted},
		{NoNextStep: true}, {NoNextStep: true, OwnerID: owner},
		{Q: "ser123"}, {Q: "er12@e"}, {Q: "Ünïcödé"}, {Q: "ab"}, {Q: "ser123", OwnerID: owner}, {Q: "ser123", Stage: crm.LeadNew},
	}
	values := map[string]any{"updated_at": time.Now(), "name": "Name 5", "company": "Co 5", "email": "user5@example.com",
		"source": "partner", "stage": 2, "messages_count": 7, "ai_score": 0.5}
	n := 0
	for _, f := range filters {
		for _, key := range append([]string{""}, crm.LeadSortKeys[1:]...) {
			for _, desc := range []bool{true, false} {
				for _, cursor := range []bool{false, true} {
					g := f
					g.Sort, g.Limit = crm.Sort{Key: key, Desc: desc}, 51
					if cursor {
						g.After, g.AfterValue = crm.NewID(), values[key]
					}
					query, args := leadsQuery(g)
					plan := explainQueryPlan(t, db, query, args)
					n++
					bare := false
					for _, line := range strings.Split(plan, "\n") {
						if strings.HasSuffix(strings.TrimSpace(line), "SCAN leads") {
							bare = true
						}
					}
					if bare || (len([]rune(g.Q)) >= 3 && !strings.Contains(plan, "leads_fts")) {
						t.Errorf("filter %+v: the plan does not use an index of leads:\n%s\n%s", g, query[strings.Index(query, " FROM"):], plan)
					}
				}
			}
		}
	}
	t.Logf("%d list queries explained", n)
}

func explainQueryPlan(t *testing.T, db *DB, query string, args []any) string {
	t.Helper()
	for i, a := range args {
		if v, ok := a.(time.Time); ok {
			args[i] = v.UTC().Format(time.RFC3339Nano)
		}
	}
	rows, err := db.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN %s: %v", query, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
