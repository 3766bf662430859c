package postgres

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

// explainLeads is the number of leads the EXPLAIN test's table holds: enough
// that, with fresh statistics, the planner prefers a sequential scan wherever
// no index serves a query (a top-N sort over a full scan is what it picks
// then), few enough to insert in about a second.
const explainLeads = 60_000

// leadFilters lists every list query the service can issue: each filter
// alone and in the combinations the API allows, the search q (short and
// long), each sort key in both directions, first page and a cursor page.
func leadFilters(owner string) []crm.LeadFilter {
	filters := []crm.LeadFilter{
		{},
		{Stage: crm.LeadLost},
		{Source: crm.SourcePartner},
		{OwnerID: owner},
		{Stage: crm.LeadNew, Source: crm.SourcePartner},
		{OwnerID: owner, Stage: crm.LeadQualified},
		{OwnerID: owner, Source: crm.SourceScanner, Stage: crm.LeadContacted},
		{NoNextStep: true},
		{NoNextStep: true, OwnerID: owner},
		{Q: "ser123"},
		{Q: "er12@e"},
		{Q: "ab"},
		{Q: "ser123", OwnerID: owner},
		{Q: "ser123", Stage: crm.LeadNew},
	}
	values := map[string]any{"updated_at": time.Now(), "name": "Name 5", "company": "Co 5", "email": "user5@example.com",
		"source": "partner", "stage": 2, "messages_count": 7, "ai_score": 0.5}
	var out []crm.LeadFilter
	for _, f := range filters {
		for _, key := range append([]string{""}, crm.LeadSortKeys[1:]...) {
			for _, desc := range []bool{true, false} {
				if key == "" && !desc {
					continue
				}
				for _, cursor := range []bool{false, true} {
					g := f
					g.Sort, g.Limit = crm.Sort{Key: key, Desc: desc}, 51
					if cursor {
						g.After, g.AfterValue = crm.NewID(), values[key]
					}
					out = append(out, g)
				}
			}
		}
	}
	return out
}

// TestListQueriesUseIndexes: EXPLAIN of every lead list query the store can
// issue (leadFilters) on a table of explainLeads leads with fresh
// statistics has no sequential scan of leads. The planner is left free
// (enable_seqscan on): a sequential scan shows up exactly where no index can
// serve a filter, a sort or the search, which a small table or a disabled
// seqscan would hide (with enable_seqscan off any query can crawl the whole
// primary key instead). No duration is measured.
func TestListQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, testdb.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx, "up", io.Discard); err != nil {
		t.Fatal(err)
	}
	owner := crm.NewID()
	_, err = db.pool.Exec(ctx, `INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
		SELECT CASE WHEN i = 0 THEN $1::uuid ELSE gen_random_uuid() END, 'u' || i || '@example.com', 'U', 'manager', 'x', now(), now()
		FROM generate_series(0, 19) i`, owner)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO leads (id, source, stage, messages_count, name, email, phone, company, note,
			owner_id, created_at, updated_at)
		SELECT gen_random_uuid(), (ARRAY['scanner', 'partner', 'manual'])[1 + i % 3],
			(ARRAY['new', 'new', 'new', 'new', 'new', 'new', 'contacted', 'contacted', 'qualified', 'lost'])[1 + i % 10],
			i % 50, 'Name ' || i, 'user' || i || '@example.com', '+1 555 ' || i, 'Co ' || (i % 5000), 'a note about lead ' || i,
			(SELECT id FROM users ORDER BY id OFFSET i % 20 LIMIT 1), now() - i * interval '1 minute', now() - i * interval '1 second'
		FROM generate_series(1, $1) i`, explainLeads)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE leads`); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range leadFilters(owner) {
		sql, args, _, err := leadsQuery(f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if seen[sql+fmt.Sprint(args)] {
			continue
		}
		seen[sql+fmt.Sprint(args)] = true
		rows, err := db.pool.Query(ctx, "EXPLAIN "+sql, args...)
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", sql, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "Seq Scan on leads") {
			t.Errorf("filter %+v sort %v cursor %v: a sequential scan of leads\n%s\n%s", f.Stage+crm.LeadStage(f.Source),
				f.Sort, f.After != "", sql[strings.Index(sql, " FROM leads"):], text)
		}
	}
	t.Logf("%d distinct list queries explained", len(seen))
}
