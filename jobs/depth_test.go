package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/jobs"
	"github.com/crmleads/crm/postgres"
	"github.com/crmleads/crm/sqlite"
)

// TestDepth: the queue depth counts the jobs still to do by queue, kind and
// state on each store, and its query is served by River's index on state,
// not a scan of river_job, which keeps every finished job River retains.
func TestDepth(t *testing.T) {
	onEachStore(t, func(t *testing.T, ctx context.Context, st store, newEngine engineFor) {
		e, err := newEngine(jobs.Config{})
		if err != nil {
			t.Fatal(err)
		}
		due := time.Now().Add(48 * time.Hour)
		if err := st.InTx(ctx, func(tx crm.Tx) error {
			return tx.Enqueue(ctx, crm.TaskDueJob{TaskID: crm.NewID(), DueAt: due}, crm.TaskDueJob{TaskID: crm.NewID(), DueAt: due})
		}); err != nil {
			t.Fatal(err)
		}
		depth, err := e.Depth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := jobs.QueueDepth{Queue: "default", Kind: "task_due", State: "scheduled", Jobs: 2}
		if len(depth) != 1 || depth[0] != want {
			t.Errorf("Depth = %+v, want [%+v]", depth, want)
		}

		var plan []string
		switch db := st.(type) {
		case *postgres.DB:
			// The table is tiny here, so the planner would scan it
			// anyway; with scans priced out, an index must serve.
			err = pgx.BeginFunc(ctx, db.Pool(), func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
					return err
				}
				rows, err := tx.Query(ctx, "EXPLAIN "+jobs.DepthSQL)
				if err != nil {
					return err
				}
				plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
				return err
			})
		case *sqlite.DB:
			rows, qerr := db.Writer().QueryContext(ctx, "EXPLAIN QUERY PLAN "+jobs.DepthSQL)
			if qerr != nil {
				t.Fatal(qerr)
			}
			defer rows.Close()
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			err = rows.Err()
		}
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "Seq Scan on river_job") || strings.Contains(text, "SCAN river_job") ||
			!strings.Contains(text, "river_job_prioritized_fetching_index") {
			t.Errorf("the depth query is not served by River's index on state:\n%s", text)
		}
	})
}
