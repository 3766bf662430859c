package jobs_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/ai"
	"github.com/crmleads/crm/ai/fakeclaude"
	"github.com/crmleads/crm/jobs"
	"github.com/crmleads/crm/storetest"
)

// TestBatchReanalysis runs a batch re-analysis on the real engine of each
// store, through the SDK's Messages.Batches against the fake API speaking
// the real wire format, with one errored request: the job sends the open
// leads only (their four facts, under keys of ours), snoozes while the batch
// is in progress, then lands the results as single analyses land (log rows
// with tokens, cost at half, the batch's id; the lead's analysis), leaves
// the errored request's lead untouched, ends done with the counts, and tells
// its starter. No time is asserted.
func TestBatchReanalysis(t *testing.T) {
	onEachStore(t, func(t *testing.T, ctx context.Context, st store, newEngine engineFor) {
		fake := fakeclaude.New()
		t.Cleanup(fake.Close)
		fake.SetBatchPolls(2) // in progress at the first two polls
		fake.SetBatchOutcomes(func(i int) string {
			if i == 1 {
				return "errored"
			}
			return "succeeded"
		})
		cfg := ai.Config{Provider: ai.ProviderClaude, APIKey: "test-key", BaseURL: fake.URL(), MaxRetries: -1}
		scorer, err := ai.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		batcher, err := ai.NewBatcher(cfg)
		if err != nil {
			t.Fatal(err)
		}
		svc := crm.NewServices(crm.Config{Store: st, Scorer: scorer, Batches: batcher,
			BatchPollInterval: time.Second, Hasher: storetest.Hasher{}, Domains: storetest.Domains})
		sys := crm.WithActor(ctx, crm.System)
		senior, err := svc.Users.CreateUser(sys, crm.UserInput{Email: "s@example.com", Name: "S",
			Role: crm.RoleSeniorManager, Password: "password-s"})
		if err != nil {
			t.Fatal(err)
		}
		me := crm.WithActor(ctx, crm.Actor{UserID: senior.ID, Role: senior.Role})
		var open3 []*crm.Lead
		for _, n := range []string{"Zoryana Qwerty", "Yaroslav Xyzzy", "Wolodymyr Plugh"} {
			l, err := svc.Leads.CreateLead(me, crm.LeadInput{Source: crm.SourcePartner, Name: n})
			if err != nil {
				t.Fatal(err)
			}
			open3 = append(open3, l)
		}
		closed, err := svc.Leads.CreateLead(me, crm.LeadInput{Source: crm.SourceManual, Name: "Vasylyna Frotz"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Leads.ChangeStage(me, closed.ID, crm.StageChange{Stage: crm.LeadLost}); err != nil {
			t.Fatal(err)
		}

		if _, err := svc.Analyses.StartBatch(crm.WithActor(ctx, crm.Actor{UserID: senior.ID, Role: crm.RoleManager}),
			crm.BatchInput{}); !crm.IsKind(err, crm.EFORBIDDEN) {
			t.Errorf("a manager's batch: %v, want EFORBIDDEN", err)
		}
		if _, err := svc.Analyses.StartBatch(me, crm.BatchInput{Stage: crm.LeadLost}); !crm.IsKind(err, crm.EINVALID) {
			t.Errorf("a batch of lost leads: %v, want EINVALID", err)
		}
		b, err := svc.Analyses.StartBatch(me, crm.BatchInput{})
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != crm.BatchQueued {
			t.Errorf("new batch %s, want queued", b.Status)
		}

		startEngine(t, ctx, newEngine, jobs.Config{Batches: svc.Analyses, PollInterval: 200 * time.Millisecond,
			JobTimeout: 10 * time.Second, RescueAfter: 20 * time.Second, SoftStop: time.Second})

		deadline := time.Now().Add(90 * time.Second)
		for {
			b, err = svc.Analyses.Batch(me, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			if b.Finished() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("batch not finished in time: %+v", b)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if b.Status != crm.BatchDone || b.Total != 3 || b.Done != 2 || b.Failed != 1 || b.FinishedAt.IsZero() {
			t.Fatalf("batch %+v; want done, 3 total, 2 done, 1 failed", b)
		}

		// What left: one batch of the three open leads, under keys
		// that are not their ids.
		sent := fake.BatchRequests()
		if len(sent) != 1 || len(sent[0]) != 3 {
			t.Fatalf("batches sent: %v", sent)
		}
		for _, raw := range sent[0] {
			for _, l := range append(open3, closed) {
				if containsFold(string(raw), l.ID) || containsFold(string(raw), l.Name) {
					t.Errorf("a request carries lead %s's id or name: %s", l.Name, raw)
				}
			}
		}
		// Polls were snoozes: at least the two in-progress polls and
		// the final one reached the provider.
		polls := 0
		for _, r := range fake.Requests() {
			if r.Method == "GET" && r.Path == "/v1/messages/batches/"+b.ProviderID {
				polls++
			}
		}
		if polls < 3 {
			t.Errorf("%d polls, want at least 3", polls)
		}

		analyzed, failed := 0, 0
		var costs float64
		for _, l := range open3 {
			cur, err := svc.Leads.Lead(me, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			log, err := svc.Analyses.Analyses(me, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(log) != 1 || log[0].BatchID != b.ID {
				t.Fatalf("lead %s log %+v, want one row of the batch", l.Name, log)
			}
			r := log[0]
			if r.ErrorCode != "" {
				failed++
				if cur.AI != nil {
					t.Errorf("lead %s: errored request, yet analyzed %+v", l.Name, cur.AI)
				}
				if r.InputTokens != 0 || r.CostUSD != 0 {
					t.Errorf("errored request billed: %+v", r)
				}
				continue
			}
			analyzed++
			if cur.AI == nil || cur.AI.AnalysisID != r.ID || cur.AI.PromptVersion == "" || cur.AI.Facts != cur.Facts() ||
				len(cur.AI.Factors) != 4 || cur.AnalysisStale() {
				t.Errorf("lead %s analysis %+v, want the batch's result, fresh", l.Name, cur.AI)
			}
			if r.InputTokens == 0 || r.OutputTokens == 0 || r.CostUSD != ai.BatchCost(r.Model, r.InputTokens, r.OutputTokens) {
				t.Errorf("lead %s log %+v, want tokens and the batch price", l.Name, r)
			}
			costs += r.CostUSD
		}
		if analyzed != 2 || failed != 1 {
			t.Errorf("%d analyzed, %d failed; want 2 and 1", analyzed, failed)
		}
		if log, _ := svc.Analyses.Analyses(me, closed.ID); len(log) != 0 {
			t.Errorf("the lost lead was analyzed: %+v", log)
		}
		rep, err := svc.Analyses.Costs(me, crm.CostFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Analyses != 2 || rep.CostUSD != costs {
			t.Errorf("costs %d calls, $%v; want 2 billed calls, $%v", rep.Analyses, rep.CostUSD, costs)
		}

		ns, _, err := svc.Leads.Notifications(me, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		told := 0
		for _, n := range ns {
			if n.Kind == crm.NotifyBatchFinished {
				told++
			}
		}
		if told != 1 {
			t.Errorf("%d batch_finished notifications, want 1: %+v", told, ns)
		}
	})
}

func containsFold(s, sub string) bool {
	return sub != "" && strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// TestBatchBudget: with the month's budget reached, a batch's job waits a
// poll interval and sends nothing, while single analyses still run.
func TestBatchBudget(t *testing.T) {
	for name, open := range engines {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, _ := open(t)
			if err := st.Migrate(ctx, "up", io.Discard); err != nil {
				t.Fatal(err)
			}
			fake := fakeclaude.New()
			t.Cleanup(fake.Close)
			cfg := ai.Config{Provider: ai.ProviderClaude, APIKey: "test-key", BaseURL: fake.URL(), MaxRetries: -1}
			scorer, _ := ai.New(cfg)
			batcher, _ := ai.NewBatcher(cfg)
			svc := crm.NewServices(crm.Config{Store: st, Scorer: scorer, Batches: batcher, MonthlyBudgetUSD: 1e-9,
				BatchPollInterval: 7 * time.Second, Hasher: storetest.Hasher{}, Domains: storetest.Domains})
			admin, err := svc.Users.CreateUser(crm.WithActor(ctx, crm.System), crm.UserInput{Email: "a@example.com",
				Name: "A", Role: crm.RoleAdmin, Password: "password-a"})
			if err != nil {
				t.Fatal(err)
			}
			me := crm.WithActor(ctx, crm.Actor{UserID: admin.ID, Role: admin.Role})
			l, err := svc.Leads.CreateLead(me, crm.LeadInput{Source: crm.SourcePartner, Name: "Budget"})
			if err != nil {
				t.Fatal(err)
			}
			// A single analysis runs under any budget, and spends it.
			if _, err := svc.Analyses.Analyze(me, l.ID); err != nil {
				t.Fatalf("single analysis: %v", err)
			}
			b, err := svc.Analyses.StartBatch(me, crm.BatchInput{})
			if err != nil {
				t.Fatal(err)
			}
			next, err := svc.Analyses.RunBatch(ctx, crm.AIBatchJob{BatchID: b.ID})
			if err != nil {
				t.Fatal(err)
			}
			if !next.Again || next.After != 7*time.Second {
				t.Errorf("next %+v, want another run after the poll interval", next)
			}
			if b, _ = svc.Analyses.Batch(me, b.ID); b.Status != crm.BatchQueued {
				t.Errorf("batch %s, want queued", b.Status)
			}
			if n := len(fake.BatchRequests()); n != 0 {
				t.Errorf("%d batches sent over budget", n)
			}
			rep, err := svc.Analyses.Costs(me, crm.CostFilter{})
			if err != nil || !rep.BatchPaused {
				t.Errorf("costs %+v, %v; want batch_paused", rep, err)
			}
			if _, err := svc.Analyses.Analyze(me, l.ID); err != nil {
				t.Errorf("single analysis over budget: %v", err)
			}
		})
	}
}
