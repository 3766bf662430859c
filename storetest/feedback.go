package storetest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crmleads/crm"
)

// The feedback loop (issue 11): outcomes, the quality report, calibration,
// the transfer gate and costs, on a real store.

var feedbackTests = []test{
	{"OutcomesAgainstTheAnalysisInForce", testOutcomes},
	{"QualityReportByHand", testQualityByHand},
	{"Calibration", testCalibration},
	{"TransferGate", testTransferGate},
	{"Costs", testCosts},
}

// lowGate returns services over b's store whose transfer threshold is 0.01,
// so that leads with any score can reach a sale and a positive outcome.
func (b *bundle) lowGate() *crm.Services {
	return crm.NewServices(crm.Config{Store: b.st, Scorer: b.scorer, Hasher: Hasher{}, Domains: Domains,
		Now: b.clock.Now, MinScore: 0.01})
}

// decide takes a fresh lead of mgr to an outcome: positive through a
// transfer and a paid sale; negative alternately by losing the lead and by
// losing its sale. It returns the lead's id.
func (b *bundle) decide(t *testing.T, svc *crm.Services, score float64, positive bool, i int) string {
	t.Helper()
	ctx := as(b.mgr)
	l := b.newLead(t, ctx, crm.LeadInput{Source: crm.SourcePartner, BusinessDomain: "first", MessagesCount: 2})
	move := func(stages ...crm.LeadStage) {
		for _, s := range stages {
			if _, err := svc.Leads.MoveLead(ctx, l.ID, s); err != nil {
				t.Fatalf("MoveLead(%s): %v", s, err)
			}
		}
	}
	sell := func(stages ...crm.SaleStage) {
		b.analyze(t, ctx, l.ID, score, crm.RecommendNurture)
		s, err := svc.Leads.Transfer(ctx, l.ID)
		if err != nil {
			t.Fatalf("Transfer: %v", err)
		}
		for _, st := range stages {
			if _, err := svc.Leads.MoveSale(ctx, s.ID, st); err != nil {
				t.Fatalf("MoveSale(%s): %v", st, err)
			}
		}
	}
	switch {
	case positive:
		move(crm.LeadContacted, crm.LeadQualified)
		sell(crm.SaleKYC, crm.SaleAgreement, crm.SalePaid)
	case i%2 == 0:
		b.analyze(t, ctx, l.ID, score, crm.RecommendNurture)
		move(crm.LeadLost)
	default:
		move(crm.LeadContacted, crm.LeadQualified)
		sell(crm.SaleLost)
	}
	return l.ID
}

func testOutcomes(t *testing.T, b *bundle) {
	ctx, bg := as(b.mgr), context.Background()
	svc := b.lowGate()
	outcomes := func() []crm.ScoreCount {
		t.Helper()
		got, err := b.st.OutcomeScores(bg, crm.OutcomeFilter{})
		must(t, err)
		return got
	}
	bin := func(score float64, n, pos int) crm.ScoreCount {
		return crm.ScoreCount{Provider: TestCall.Provider, Model: TestCall.Model, PromptVersion: TestCall.PromptVersion,
			Score: score, N: n, Positives: pos}
	}

	// Analyzed twice, then transferred and paid: one positive outcome, at the
	// score the transfer relied on.
	l := b.leadAt(t, crm.LeadQualified)
	b.analyze(t, ctx, l.ID, 0.3, crm.RecommendNurture)
	b.analyze(t, ctx, l.ID, 0.7, crm.RecommendTransfer)
	relied := b.lead(t, l.ID).AI
	sale, err := svc.Leads.Transfer(ctx, l.ID)
	must(t, err)
	ev := only(b.trail(t, l.ID), crm.ActionLeadTransferred)
	if len(ev) != 1 || ev[0].Data["analysis_id"] != relied.AnalysisID || relied.AnalysisID == "" {
		t.Errorf("transfer event = %+v, want analysis_id %q", ev, relied.AnalysisID)
	}
	log, err := b.st.Analyses(bg, l.ID, 10)
	must(t, err)
	if len(log) != 2 || log[0].ID != relied.AnalysisID {
		t.Fatalf("the lead's analysis id %q is not its latest log row (%d rows)", relied.AnalysisID, len(log))
	}
	if len(outcomes()) != 0 {
		t.Fatal("an open sale has an outcome")
	}
	for _, st := range []crm.SaleStage{crm.SaleKYC, crm.SaleAgreement} {
		_, err = svc.Leads.MoveSale(ctx, sale.ID, st)
		must(t, err)
	}
	if len(outcomes()) != 0 {
		t.Fatal("a sale at agreement has an outcome")
	}
	_, err = svc.Leads.MoveSale(ctx, sale.ID, crm.SalePaid)
	must(t, err)
	diff(t, "outcomes after a paid sale", []crm.ScoreCount{bin(0.7, 1, 1)}, outcomes())

	// Analyzed, then lost: a negative outcome at its last score.
	lost := b.leadAt(t, crm.LeadContacted)
	b.analyze(t, ctx, lost.ID, 0.9, crm.RecommendNurture)
	b.analyze(t, ctx, lost.ID, 0.2, crm.RecommendLost)
	_, err = svc.Leads.MoveLead(ctx, lost.ID, crm.LeadLost)
	must(t, err)
	// Never analyzed, then lost: no outcome. Analyzed and still open: none.
	b.leadAt(t, crm.LeadLost)
	open := b.leadAt(t, crm.LeadContacted)
	b.analyze(t, ctx, open.ID, 0.5, crm.RecommendNurture)
	// A sale that is lost: a negative outcome.
	l2 := b.leadAt(t, crm.LeadQualified)
	b.analyze(t, ctx, l2.ID, 0.7, crm.RecommendTransfer)
	s2, err := svc.Leads.Transfer(ctx, l2.ID)
	must(t, err)
	_, err = svc.Leads.MoveSale(ctx, s2.ID, crm.SaleLost)
	must(t, err)
	diff(t, "outcomes", []crm.ScoreCount{bin(0.2, 1, 0), bin(0.7, 2, 1)}, outcomes())

	// The schema keeps one outcome per lead.
	err = b.st.InTx(bg, func(tx crm.Tx) error {
		return tx.InsertOutcome(bg, &crm.Outcome{LeadID: lost.ID, Provider: "p", Model: "m", PromptVersion: "v",
			Score: 0.5, DecidedAt: b.clock.Now()})
	})
	wantErr(t, err, crm.ECONFLICT, "")
}

func testQualityByHand(t *testing.T, b *bundle) {
	svc := b.lowGate()
	// The hand-made set of quality_test.go (computed there by hand): ties at
	// 0.1 and 0.6, [0.4, 0.6) empty, 0.6 and 1.0 exactly.
	set := []struct {
		score    float64
		positive bool
	}{{0.1, false}, {0.1, false}, {0.1, true}, {0.3, false}, {0.6, true}, {0.6, false}, {0.9, true}, {1.0, true}}
	start := b.clock.Peek()
	for i, o := range set {
		b.decide(t, svc, o.score, o.positive, i)
	}
	mid := b.clock.Peek()
	// Decided later, and only positives: a window around it lacks a class.
	b.decide(t, svc, 0.8, true, 0)
	b.decide(t, svc, 0.2, true, 0)

	_, err := b.svc.Analyses.Quality(as(b.mgr), crm.OutcomeFilter{})
	wantErr(t, err, crm.EFORBIDDEN, crm.CodeForbidden)

	r, err := b.svc.Analyses.Quality(as(b.senior), crm.OutcomeFilter{From: start, To: mid})
	must(t, err)
	ptr := func(v float64) *float64 { return &v }
	want := []crm.QualityGroup{{
		Provider: TestCall.Provider, Model: TestCall.Model, PromptVersion: TestCall.PromptVersion,
		Count: 8, Positives: 4, Brier: 1.45 / 8, AUC: ptr(12.5 / 16),
		Bands: []crm.Band{
			{From: 0, To: 0.2, Count: 3, MeanPredicted: ptr(0.1), ObservedRate: ptr(1.0 / 3)},
			{From: 0.2, To: 0.4, Count: 1, MeanPredicted: ptr(0.3), ObservedRate: ptr(0)},
			{From: 0.4, To: 0.6},
			{From: 0.6, To: 0.8, Count: 2, MeanPredicted: ptr(0.6), ObservedRate: ptr(0.5)},
			{From: 0.8, To: 1.0, Count: 2, MeanPredicted: ptr(0.95), ObservedRate: ptr(1)},
		},
		Trustworthy: false, Warnings: []string{crm.WarningTooFewOutcomes},
	}}
	diff(t, "quality of the hand-made set", want, r.Groups, cmpopts.EquateApprox(0, 1e-12))

	// The later two alone: one class missing.
	r, err = b.svc.Analyses.Quality(as(b.admin), crm.OutcomeFilter{From: mid})
	must(t, err)
	if len(r.Groups) != 1 || r.Groups[0].Count != 2 || r.Groups[0].AUC != nil ||
		math.Abs(r.Groups[0].Brier-(0.04+0.64)/2) > 1e-12 {
		t.Errorf("one class missing: %+v", r.Groups)
	}
	// All ten; another prompt version has nothing.
	r, err = b.svc.Analyses.Quality(as(b.admin), crm.OutcomeFilter{PromptVersion: TestCall.PromptVersion})
	must(t, err)
	if len(r.Groups) != 1 || r.Groups[0].Count != 10 || r.Groups[0].Positives != 6 {
		t.Errorf("all outcomes: %+v", r.Groups)
	}
	r, err = b.svc.Analyses.Quality(as(b.admin), crm.OutcomeFilter{PromptVersion: "v-none"})
	must(t, err)
	if len(r.Groups) != 0 {
		t.Errorf("another prompt version: %+v", r.Groups)
	}
}

// seedOutcomes inserts n leads with outcomes straight into the store: score
// s for all, the first pos of them positive.
func (b *bundle) seedOutcomes(t *testing.T, c crm.Call, score float64, n, pos int) {
	t.Helper()
	bg := context.Background()
	must(t, b.st.InTx(bg, func(tx crm.Tx) error {
		for i := range n {
			now := b.clock.Now()
			l := &crm.Lead{ID: crm.NewID(), Source: crm.SourceManual, Stage: crm.LeadLost, OwnerID: b.mgr.ID,
				CreatedAt: now, UpdatedAt: now}
			if err := tx.InsertLead(bg, l); err != nil {
				return err
			}
			if err := tx.InsertOutcome(bg, &crm.Outcome{LeadID: l.ID, Provider: c.Provider, Model: c.Model,
				PromptVersion: c.PromptVersion, Score: score, Positive: i < pos, DecidedAt: now}); err != nil {
				return err
			}
		}
		return nil
	}))
}

func testCalibration(t *testing.T, b *bundle) {
	ctx, bg := as(b.mgr), context.Background()
	// Below the minimum: nothing is fitted, and analyses carry no calibrated score.
	b.seedOutcomes(t, TestCall, 0.1, 50, 15)
	b.seedOutcomes(t, TestCall, 0.9, 50, 35)
	_, err := b.svc.Analyses.Recalibrate(as(b.senior))
	wantErr(t, err, crm.EFORBIDDEN, crm.CodeForbidden)
	cals, err := b.svc.Analyses.Recalibrate(sys())
	must(t, err)
	if len(cals) != 0 {
		t.Fatalf("fitted on 100 outcomes: %+v", cals)
	}
	_, err = b.st.Calibration(bg, TestCall.Provider, TestCall.Model, TestCall.PromptVersion)
	wantErr(t, err, crm.ENOTFOUND, "")
	l := b.leadAt(t, crm.LeadContacted)
	b.analyze(t, ctx, l.ID, 0.9, crm.RecommendNurture)
	if got := b.lead(t, l.ID).AI.ScoreCalibrated; got != nil {
		t.Errorf("calibrated score without a calibration: %v", *got)
	}

	// Overconfident at 120 and more: 0.1 comes true 30%, 0.9 70%.
	b.seedOutcomes(t, TestCall, 0.1, 50, 15)
	b.seedOutcomes(t, TestCall, 0.9, 50, 35)
	other := crm.Call{Provider: "test", Model: "test-model-1", PromptVersion: "v-other"}
	b.seedOutcomes(t, other, 0.5, 119, 60) // one short
	cals, err = b.svc.Analyses.Recalibrate(sys())
	must(t, err)
	if len(cals) != 1 || cals[0].PromptVersion != TestCall.PromptVersion || cals[0].Outcomes != 200 ||
		cals[0].Method != crm.CalibrationPlatt {
		t.Fatalf("Recalibrate = %+v, want one fit on 200 outcomes of %s", cals, TestCall.PromptVersion)
	}
	stored, err := b.st.Calibration(bg, TestCall.Provider, TestCall.Model, TestCall.PromptVersion)
	must(t, err)
	diff(t, "stored calibration", cals[0], stored, cmpopts.EquateApprox(0, 1e-12))
	wantUTC(t, "fitted_at", stored.FittedAt)
	if got := stored.Apply(0.9); math.Abs(got-0.7) > 0.01 {
		t.Errorf("calibrated 0.9 = %v, want about 0.7", got)
	}

	// An analysis now carries the calibrated score, on the lead and in the log.
	a := b.analyze(t, ctx, l.ID, 0.9, crm.RecommendNurture)
	want := stored.Apply(0.9)
	if a.ScoreCalibrated == nil || *a.ScoreCalibrated != want {
		t.Fatalf("analysis calibrated = %v, want %v", a.ScoreCalibrated, want)
	}
	got := b.lead(t, l.ID).AI
	if got.ScoreCalibrated == nil || *got.ScoreCalibrated != want || got.Score != 0.9 {
		t.Errorf("lead AI = %+v, want raw 0.9 and calibrated %v", got, want)
	}
	log, err := b.st.Analyses(bg, l.ID, 10)
	must(t, err)
	if log[0].ScoreCalibrated == nil || *log[0].ScoreCalibrated != want || log[1].ScoreCalibrated != nil {
		t.Errorf("log calibrated = %v, %v; want %v then none", log[0].ScoreCalibrated, log[1].ScoreCalibrated, want)
	}

	// A refit replaces the stored one.
	b.seedOutcomes(t, TestCall, 0.9, 100, 100)
	cals, err = b.svc.Analyses.Recalibrate(sys())
	must(t, err)
	again, err := b.st.Calibration(bg, TestCall.Provider, TestCall.Model, TestCall.PromptVersion)
	must(t, err)
	if again.Outcomes != 300 || again.A == stored.A || len(cals) != 1 {
		t.Errorf("refit = %+v, want 300 outcomes and a new fit", again)
	}
}

func testTransferGate(t *testing.T, b *bundle) {
	ctx, bg := as(b.mgr), context.Background()
	// Calibration of TestCall's scores: overconfident, so 0.65 calibrates
	// below the 0.6 threshold.
	must(t, b.st.InTx(bg, func(tx crm.Tx) error {
		return tx.PutCalibration(bg, &crm.Calibration{Provider: TestCall.Provider, Model: TestCall.Model,
			PromptVersion: TestCall.PromptVersion, Method: crm.CalibrationPlatt, A: 0.5, B: -0.2, Outcomes: 150,
			FittedAt: b.clock.Now()})
	}))
	l := b.leadAt(t, crm.LeadQualified)
	a := b.analyze(t, ctx, l.ID, 0.65, crm.RecommendTransfer)
	if a.ScoreCalibrated == nil || *a.ScoreCalibrated >= 0.6 {
		t.Fatalf("calibrated = %v, want one below 0.6", a.ScoreCalibrated)
	}
	check := func(want ...string) {
		t.Helper()
		got, err := b.svc.Leads.TransferCheck(ctx, l.ID)
		must(t, err)
		diff(t, "blockers", append([]string{}, want...), got)
	}
	gate, err := b.svc.Leads.TransferGate(ctx)
	must(t, err)
	if gate != crm.GateRaw {
		t.Fatalf("default gate = %q, want raw", gate)
	}
	check()

	_, err = b.svc.Leads.SetTransferGate(as(b.senior), crm.GateCalibrated)
	wantErr(t, err, crm.EFORBIDDEN, crm.CodeForbidden)
	_, err = b.svc.Leads.SetTransferGate(as(b.admin), "cooked")
	wantErr(t, err, crm.EINVALID, crm.CodeValidation)
	_, err = b.svc.Leads.SetTransferGate(as(b.admin), crm.GateCalibrated)
	must(t, err)
	audit, _, err := b.svc.Leads.Audit(as(b.admin), crm.EventFilter{Action: crm.ActionSettingsUpdated})
	must(t, err)
	wantChange := map[string]any{"transfer_gate": map[string]any{"from": "raw", "to": "calibrated"}}
	if len(audit) != 1 || audit[0].ActorID != b.admin.ID || !cmp.Equal(audit[0].Data["changes"], wantChange) {
		t.Errorf("audit of the switch = %+v", audit)
	}
	check(crm.BlockerScoreBelowThreshold)
	_, err = b.svc.Leads.Transfer(ctx, l.ID)
	e := wantErr(t, err, crm.ECONFLICT, crm.CodeTransferBlocked)
	diff(t, "transfer blockers", []string{crm.BlockerScoreBelowThreshold}, e.Blockers)

	// A lead analyzed with a score that calibrates high enough passes; the
	// transfer event says which score the gate compared.
	l2 := b.leadAt(t, crm.LeadQualified)
	a2 := b.analyze(t, ctx, l2.ID, 0.99, crm.RecommendTransfer)
	_, err = b.svc.Leads.Transfer(ctx, l2.ID)
	must(t, err)
	ev := only(b.trail(t, l2.ID), crm.ActionLeadTransferred)
	if len(ev) != 1 || ev[0].Data["gate"] != crm.GateCalibrated || ev[0].Data["gate_basis"] != crm.GateCalibrated ||
		ev[0].Data["gate_score"] != *a2.ScoreCalibrated || ev[0].Data["score"] != 0.99 {
		t.Errorf("transfer event data = %v", ev[0].Data)
	}

	// Back to raw: the first lead passes again.
	_, err = b.svc.Leads.SetTransferGate(as(b.admin), crm.GateRaw)
	must(t, err)
	check()
}

func testCosts(t *testing.T, b *bundle) {
	ctx, bg := as(b.mgr), context.Background()
	l := b.leadAt(t, crm.LeadContacted)
	start := b.clock.Peek()
	for range 3 {
		b.analyze(t, ctx, l.ID, 0.5, crm.RecommendNurture)
	}
	// A bad answer is billed too.
	b.scorer.Fail(&crm.Error{Kind: crm.EBADGATEWAY, Code: crm.CodeAIBadAnswer, Message: "bad"})
	_, err := b.svc.Analyses.Analyze(ctx, l.ID)
	wantErr(t, err, crm.EBADGATEWAY, crm.CodeAIBadAnswer)
	// A call that never reached the provider (no tokens) is not, and rows of
	// another model and of a later time sum apart.
	row := func(model string, in, out int, cost float64, at time.Time) *crm.AnalysisRecord {
		return &crm.AnalysisRecord{ID: crm.NewID(), LeadID: l.ID, Facts: l.Facts(), Provider: "claude", Model: model,
			PromptVersion: "v1", ErrorCode: crm.CodeAIUnavailable, InputTokens: in, OutputTokens: out, CostUSD: cost,
			CreatedAt: at}
	}
	mid := b.clock.Now()
	must(t, b.st.InTx(bg, func(tx crm.Tx) error {
		for _, r := range []*crm.AnalysisRecord{
			row("m-unbilled", 0, 0, 0, mid),
			row("m-other", 1000, 100, 0.00015, mid),
			row("m-other", 2000, 10, 0.000205, b.clock.Now()),
		} {
			if err := tx.InsertAnalysis(bg, r); err != nil {
				return err
			}
		}
		return nil
	}))

	_, err = b.svc.Analyses.Costs(ctx, crm.CostFilter{})
	wantErr(t, err, crm.EFORBIDDEN, crm.CodeForbidden)
	r, err := b.svc.Analyses.Costs(as(b.senior), crm.CostFilter{})
	must(t, err)
	want := []crm.ModelCost{
		{Model: "m-other", Analyses: 2, InputTokens: 3000, OutputTokens: 110, CostUSD: 0.000355},
		{Model: TestCall.Model, Analyses: 4, InputTokens: 4 * 42, OutputTokens: 4 * 7, CostUSD: 4 * TestCall.CostUSD},
	}
	approx := cmpopts.EquateApprox(0, 1e-15)
	diff(t, "costs by model", want, r.ByModel, approx)
	if r.Analyses != 6 || r.InputTokens != 3168 || r.OutputTokens != 138 ||
		math.Abs(r.CostUSD-(0.000355+4*TestCall.CostUSD)) > 1e-15 ||
		math.Abs(r.CostPer1KUSD-r.CostUSD/6*1000) > 1e-12 {
		t.Errorf("totals = %+v", r)
	}
	// The window [start, mid) holds the four calls of the test model only.
	r, err = b.svc.Analyses.Costs(as(b.admin), crm.CostFilter{From: start, To: mid})
	must(t, err)
	diff(t, "costs in a window", want[1:], r.ByModel, approx)
	if r.BatchPaused || r.MonthlyBudgetUSD != 0 {
		t.Errorf("no budget, yet %+v", r)
	}

	// A budget the month has reached pauses batch work.
	budgeted := crm.NewServices(crm.Config{Store: b.st, Scorer: b.scorer, Hasher: Hasher{}, Domains: Domains,
		Now: b.clock.Now, MonthlyBudgetUSD: 0.0005})
	r, err = budgeted.Analyses.Costs(as(b.admin), crm.CostFilter{})
	must(t, err)
	if !r.BatchPaused || math.Abs(r.MonthToDateUSD-r.CostUSD) > 1e-15 {
		t.Errorf("budget 0.0005 with %v spent: %+v", r.CostUSD, r)
	}
}
