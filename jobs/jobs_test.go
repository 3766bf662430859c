package jobs_test

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/internal/testdb"
	"github.com/crmleads/crm/jobs"
	"github.com/crmleads/crm/postgres"
	"github.com/crmleads/crm/sqlite"
	"github.com/crmleads/crm/storetest"
)

// store is what the test needs of either store.
type store interface {
	crm.Store
	storetest.JobLister
	Migrate(ctx context.Context, cmd string, w io.Writer) error
}

// engineFor makes an engine on a store opened by engines.
type engineFor func(jobs.Config) (jobs.Engine, error)

// engines open a store of each kind, and an engine on it.
var engines = map[string]func(t *testing.T) (store, engineFor){
	"sqlite": func(t *testing.T) (store, engineFor) {
		db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db, func(c jobs.Config) (jobs.Engine, error) { return jobs.NewSQLite(db.Writer(), c) }
	},
	"postgres": func(t *testing.T) (store, engineFor) {
		db, err := postgres.Open(context.Background(), testdb.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db, func(c jobs.Config) (jobs.Engine, error) { return jobs.NewPostgres(db.Pool(), c) }
	},
}

// onEachStore runs test in parallel on a migrated store of each kind, with
// what makes an engine on it.
func onEachStore(t *testing.T, test func(t *testing.T, ctx context.Context, st store, newEngine engineFor)) {
	for name, open := range engines {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, newEngine := open(t)
			if err := st.Migrate(ctx, "up", io.Discard); err != nil {
				t.Fatal(err)
			}
			test(t, ctx, st, newEngine)
		})
	}
}

// startEngine starts an engine made by newEngine with cfg, stopped when the
// test ends.
func startEngine(t *testing.T, ctx context.Context, newEngine engineFor, cfg jobs.Config) {
	t.Helper()
	e, err := newEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := e.Stop(sctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
}

// TestReminders runs the real engine on each store: a task falling due
// reminds its assignee through River, while the jobs of a task moved away
// and of a task done before its time remind nobody. No time is asserted:
// the test waits (up to a generous bound) for the engine to have worked
// every job that is due.
func TestReminders(t *testing.T) {
	onEachStore(t, func(t *testing.T, ctx context.Context, st store, newEngine engineFor) {
		svc := crm.NewServices(crm.Config{Store: st, Hasher: storetest.Hasher{}, Domains: storetest.Domains})
		u, err := svc.Users.CreateUser(crm.WithActor(ctx, crm.System),
			crm.UserInput{Email: "m@example.com", Name: "M", Role: crm.RoleManager, Password: "password-m"})
		if err != nil {
			t.Fatal(err)
		}
		me := crm.WithActor(ctx, crm.Actor{UserID: u.ID, Role: u.Role})
		l, err := svc.Leads.CreateLead(me, crm.LeadInput{Source: crm.SourceManual, Name: "Olena"})
		if err != nil {
			t.Fatal(err)
		}
		// Due a moment from now: scheduled, not yet available, when
		// the engine starts.
		due := time.Now().Add(time.Second)
		task := func(title string) *crm.Task {
			t.Helper()
			tk, err := svc.Leads.CreateTask(me, l.ID, crm.TaskInput{Title: title, DueAt: due})
			if err != nil {
				t.Fatal(err)
			}
			return tk
		}
		call, moved, done := task("Call Olena"), task("Moved away"), task("Done early")
		later := due.Add(time.Hour)
		if _, err := svc.Leads.UpdateTask(me, moved.ID, crm.TaskUpdate{DueAt: &later}); err != nil {
			t.Fatal(err)
		}
		yes := true
		if _, err := svc.Leads.UpdateTask(me, done.ID, crm.TaskUpdate{Done: &yes}); err != nil {
			t.Fatal(err)
		}

		startEngine(t, ctx, newEngine, jobs.Config{Reminders: svc.Leads, PollInterval: 200 * time.Millisecond,
			JobTimeout: 5 * time.Second, RescueAfter: 10 * time.Second, SoftStop: time.Second})

		// Wait until every reminder that is due has been worked.
		deadline := time.Now().Add(60 * time.Second)
		for {
			queued, err := st.QueuedJobs(ctx, crm.TaskDueJob{}.Kind())
			if err != nil {
				t.Fatal(err)
			}
			pending := 0
			for _, q := range queued {
				var j crm.TaskDueJob
				if err := json.Unmarshal([]byte(q.Args), &j); err != nil {
					t.Fatal(err)
				}
				if !j.DueAt.After(due) && q.State != "completed" {
					pending++
				}
			}
			if pending == 0 && len(queued) == 4 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("reminders not worked in time: %+v", queued)
			}
			time.Sleep(100 * time.Millisecond)
		}
		ns, unread, err := svc.Leads.Notifications(me, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range ns {
			if n.Kind == crm.NotifyTaskDue {
				got = append(got, n.TaskID)
			}
		}
		if len(got) != 1 || got[0] != call.ID || unread != 1 {
			t.Errorf("reminded of %v (unread %d), want only %s (Call Olena)", got, unread, call.ID)
		}
	})
}
