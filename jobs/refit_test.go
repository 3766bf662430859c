package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/demo"
	"github.com/crmleads/crm/jobs"
	"github.com/crmleads/crm/storetest"
)

// TestCalibrationRefit runs the periodic refit on the real engine of each
// store, with two engines (two replicas) on one database: the calibration
// appears without anybody calling Recalibrate; the refit keeps coming, on the
// next leader too when the first one stops; and no period ever has two refit
// jobs (only River's elected leader enqueues periodic jobs, and the job is
// unique by period). No time is asserted: the test waits, up to a generous
// bound, for the jobs to have run.
func TestCalibrationRefit(t *testing.T) {
	onEachStore(t, func(t *testing.T, ctx context.Context, st store, newEngine engineFor) {
		svc := crm.NewServices(crm.Config{Store: st, Hasher: storetest.Hasher{}, Domains: storetest.Domains})
		sys := crm.WithActor(ctx, crm.System)
		u, err := svc.Users.CreateUser(sys,
			crm.UserInput{Email: "m@example.com", Name: "M", Role: crm.RoleManager, Password: "password-m"})
		if err != nil {
			t.Fatal(err)
		}
		loader := st.(crm.BulkLoader)
		sum, err := demo.Generate(demo.Config{Leads: 1500, Seed: 7, Owners: []string{u.ID}, Now: time.Now()},
			func(b *crm.Bulk) error { return loader.BulkLoad(ctx, b) })
		if err != nil {
			t.Fatal(err)
		}
		if sum.Outcomes < crm.MinTrustworthyOutcomes {
			t.Fatalf("the demo gave %d outcomes, fewer than a fit needs", sum.Outcomes)
		}
		const interval = time.Second // River's shortest
		start := func(id string) func() {
			t.Helper()
			e, err := newEngine(jobs.Config{ID: id, Calibrations: svc.Analyses, RefitInterval: interval,
				PollInterval: 200 * time.Millisecond, JobTimeout: 10 * time.Second, RescueAfter: 20 * time.Second,
				SoftStop: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Start(ctx); err != nil {
				t.Fatal(err)
			}
			stop := sync.OnceFunc(func() {
				sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				if err := e.Stop(sctx); err != nil {
					t.Errorf("stop %s: %v", id, err)
				}
			})
			t.Cleanup(stop)
			return stop
		}
		kind := crm.CalibrationRefitJob{}.Kind()
		// waitCompleted waits until n refit jobs have completed.
		waitCompleted := func(n int) []crm.QueuedJob {
			t.Helper()
			deadline := time.Now().Add(90 * time.Second)
			for {
				queued, err := st.QueuedJobs(ctx, kind)
				if err != nil {
					t.Fatal(err)
				}
				done := 0
				for _, q := range queued {
					if q.State == "completed" {
						done++
					}
				}
				if done >= n {
					return queued
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d refits completed in time: %+v", done, n, queued)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}

		groups := storetestGroups(t, svc)
		for _, g := range groups {
			if _, err := st.Calibration(ctx, g[0], g[1], g[2]); !crm.IsKind(err, crm.ENOTFOUND) {
				t.Fatalf("calibration of %v before any refit: %v, want ENOTFOUND", g, err)
			}
		}
		stopA, stopB := start("replica-a"), start("replica-b")
		waitCompleted(1)
		for _, g := range groups {
			if _, err := st.Calibration(ctx, g[0], g[1], g[2]); err != nil {
				t.Errorf("calibration of %v after the refit job: %v", g, err)
			}
		}
		// The leader, whichever it is, goes: the other replica takes
		// over and the refits go on.
		before := len(waitCompleted(1))
		stopA()
		queued := waitCompleted(before + 2)
		stopB()

		perPeriod := map[time.Time]int{}
		for _, q := range queued {
			perPeriod[q.ScheduledAt.Truncate(interval)]++
		}
		for p, n := range perPeriod {
			if n > 1 {
				t.Errorf("%d refit jobs in the period from %s, want at most one: %+v", n, p, queued)
			}
		}
	})
}

// storetestGroups returns the provider, model and prompt version of every
// group of the quality report with enough outcomes for a fit.
func storetestGroups(t *testing.T, svc *crm.Services) [][3]string {
	t.Helper()
	r, err := svc.Analyses.Quality(crm.WithActor(context.Background(), crm.System), crm.OutcomeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out [][3]string
	for _, g := range r.Groups {
		if g.Count >= crm.MinTrustworthyOutcomes {
			out = append(out, [3]string{g.Provider, g.Model, g.PromptVersion})
		}
	}
	if len(out) == 0 {
		t.Fatal("no group has enough outcomes for a fit")
	}
	return out
}
