package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

// gateScorer blocks every call until released, so a test can hold analyses
// in flight.
type gateScorer struct {
	entered chan struct{}
	release chan struct{}
}

func (g *gateScorer) Score(ctx context.Context, _ crm.Facts) (crm.Score, crm.Call, error) {
	g.entered <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return crm.Score{}, TestCall, ctx.Err()
	}
	return crm.Score{Score: 0.7, Recommendation: crm.RecommendNurture, Reason: "gate"}, TestCall, nil
}

var aiCapTests = []test{
	{"ReasonInBothLanguages", func(t *testing.T, b *bundle) {
		// The reason in Ukrainian is kept beside the English one, on the lead
		// and in the log; an analysis without one (as every analysis made
		// before it was asked for) reads back with none.
		ctx := as(b.mgr)
		l := b.leadAt(t, crm.LeadContacted)
		b.scorer.mu.Lock()
		b.scorer.score = crm.Score{Score: 0.55, Recommendation: crm.RecommendNurture, Reason: "Keep going.", ReasonUK: "Працюйте далі."}
		b.scorer.mu.Unlock()
		_, err := b.svc.Analyses.Analyze(ctx, l.ID)
		must(t, err)
		if a := b.lead(t, l.ID).AI; a == nil || a.Reason != "Keep going." || a.ReasonUK != "Працюйте далі." {
			t.Fatalf("lead's analysis = %+v, want both reasons", a)
		}
		rows, err := b.st.Analyses(context.Background(), l.ID, 10)
		must(t, err)
		if len(rows) != 1 || rows[0].Reason != "Keep going." || rows[0].ReasonUK != "Працюйте далі." {
			t.Fatalf("log = %+v, want one row with both reasons", rows)
		}
		b.scorer.Set(0.5, crm.RecommendNurture, "English only.")
		_, err = b.svc.Analyses.Analyze(ctx, l.ID)
		must(t, err)
		if a := b.lead(t, l.ID).AI; a == nil || a.Reason != "English only." || a.ReasonUK != "" {
			t.Fatalf("lead's analysis = %+v, want the English reason alone", a)
		}
		rows, err = b.st.Analyses(context.Background(), l.ID, 10)
		must(t, err)
		if len(rows) != 2 || rows[0].ReasonUK != "" {
			t.Fatalf("log = %+v, want the newest row without a Ukrainian reason", rows)
		}
	}},
	{"BurstBeyondCapIsUnavailable", func(t *testing.T, b *bundle) {
		// One slot: while one analysis is in flight, another waits its queue
		// time and is then refused with 503-style EUNAVAILABLE and a
		// Retry-After, rather than piling up; nothing is logged for it, and
		// the first one still completes and is stored.
		g := &gateScorer{entered: make(chan struct{}, 2), release: make(chan struct{})}
		svc := crm.NewServices(crm.Config{Store: b.st, Scorer: g, Hasher: Hasher{}, Domains: Domains,
			MaxConcurrentAI: 1, AIQueueWait: 20 * time.Millisecond})
		first, second := b.leadAt(t, crm.LeadNew), b.leadAt(t, crm.LeadNew)
		done := make(chan error, 1)
		go func() {
			_, err := svc.Analyses.Analyze(as(b.mgr), first.ID)
			done <- err
		}()
		<-g.entered // the first call holds the only slot

		_, err := svc.Analyses.Analyze(as(b.mgr), second.ID)
		var e *crm.Error
		if !errors.As(err, &e) || e.Kind != crm.EUNAVAILABLE || e.Code != crm.CodeAIUnavailable || e.RetryAfter <= 0 {
			t.Fatalf("Analyze beyond the cap = %v, want EUNAVAILABLE ai_unavailable with a Retry-After", err)
		}
		if rows, err := b.st.Analyses(context.Background(), second.ID, 10); err != nil || len(rows) != 0 {
			t.Fatalf("refused analysis: %d log rows (%v), want none: the AI was never called", len(rows), err)
		}
		if got := b.lead(t, second.ID).AI; got != nil {
			t.Fatalf("refused analysis stored %+v", got)
		}

		close(g.release)
		if err := <-done; err != nil {
			t.Fatalf("the analysis in flight failed: %v", err)
		}
		if got := b.lead(t, first.ID).AI; got == nil || got.Reason != "gate" {
			t.Fatalf("first lead's analysis = %+v, want the gate's answer", got)
		}
		// The slot is free again.
		if _, err := svc.Analyses.Analyze(as(b.mgr), second.ID); err != nil {
			t.Fatalf("Analyze after the burst: %v", err)
		}
	}},
	{"LateAnswerIsKept", func(t *testing.T, b *bundle) {
		// A paid-for answer is stored and logged even when the client has
		// gone by the time it arrives.
		l := b.leadAt(t, crm.LeadNew)
		ctx, leave := context.WithCancel(as(b.mgr))
		defer leave()
		svc := crm.NewServices(crm.Config{Store: b.st, Scorer: leavingScorer{leave}, Hasher: Hasher{}, Domains: Domains})
		if _, err := svc.Analyses.Analyze(ctx, l.ID); err != nil {
			t.Fatalf("Analyze with the client gone after the answer: %v", err)
		}
		if got := b.lead(t, l.ID).AI; got == nil || got.Reason != "late" {
			t.Fatalf("lead's analysis = %+v, want the late answer", got)
		}
		if rows, err := b.st.Analyses(context.Background(), l.ID, 10); err != nil || len(rows) != 1 {
			t.Fatalf("analysis log: %d rows (%v), want 1", len(rows), err)
		}
	}},
}

// leavingScorer answers, but its caller's request ends (the client hung up)
// just before the answer comes back.
type leavingScorer struct{ leave context.CancelFunc }

func (s leavingScorer) Score(context.Context, crm.Facts) (crm.Score, crm.Call, error) {
	s.leave()
	return crm.Score{Score: 0.65, Recommendation: crm.RecommendTransfer, Reason: "late"}, TestCall, nil
}
