package storetest

import (
	"context"
	"errors"
	"sync"
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

// aiCapLeaseTests are AICap tests on the store's slot leases.
var aiCapLeaseTests = []test{
	{"CrashedHolderSlotComesBack", func(t *testing.T, b *bundle) {
		// A process that took the only slot and died never releases it: the
		// cap refuses until the lease ends, then the slot is taken over.
		svc := crm.NewServices(crm.Config{Store: b.st, Scorer: b.scorer, Hasher: Hasher{}, Domains: Domains, Now: b.clock.Now,
			MaxConcurrentAI: 1, AIQueueWait: 20 * time.Millisecond, AILease: time.Minute})
		now := b.clock.Peek()
		ok, err := b.st.TakeAISlot(context.Background(), crm.NewID(), 1, now, now.Add(time.Minute))
		if err != nil || !ok {
			t.Fatalf("TakeAISlot = %v, %v; want the free slot", ok, err)
		}
		l := b.leadAt(t, crm.LeadNew)
		_, err = svc.Analyses.Analyze(as(b.mgr), l.ID)
		wantErr(t, err, crm.EUNAVAILABLE, crm.CodeAIUnavailable)
		b.clock.Advance(time.Minute + time.Second)
		if _, err := svc.Analyses.Analyze(as(b.mgr), l.ID); err != nil {
			t.Fatalf("Analyze after the dead holder's lease ended: %v", err)
		}
		// Released after the call: the slot is free again at once.
		if _, err := svc.Analyses.Analyze(as(b.mgr), l.ID); err != nil {
			t.Fatalf("Analyze after a released slot: %v", err)
		}
	}},
	{"ReleaseOnlyOwnLease", func(t *testing.T, b *bundle) {
		ctx := context.Background()
		now := b.clock.Peek()
		first, second := crm.NewID(), crm.NewID()
		if ok, err := b.st.TakeAISlot(ctx, first, 1, now, now.Add(time.Second)); err != nil || !ok {
			t.Fatalf("take: %v, %v", ok, err)
		}
		if ok, err := b.st.TakeAISlot(ctx, second, 1, now, now.Add(time.Second)); err != nil || ok {
			t.Fatalf("take a held slot: %v, %v; want refused", ok, err)
		}
		// The lease ended and was taken over: the first holder's late
		// release must not free the second's slot.
		later := now.Add(2 * time.Second)
		if ok, err := b.st.TakeAISlot(ctx, second, 1, later, later.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("take an expired slot: %v, %v", ok, err)
		}
		must(t, b.st.ReleaseAISlot(ctx, first))
		if ok, err := b.st.TakeAISlot(ctx, crm.NewID(), 1, later, later.Add(time.Minute)); err != nil || ok {
			t.Fatalf("after the old holder's release: %v, %v; want the slot still held", ok, err)
		}
		must(t, b.st.ReleaseAISlot(ctx, second))
		if ok, err := b.st.TakeAISlot(ctx, crm.NewID(), 1, later, later.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("after the holder's release: %v, %v; want the slot free", ok, err)
		}
	}},
}

// countingScorer holds every call until released and records how many were
// in it at once.
type countingScorer struct {
	mu       sync.Mutex
	in, most int
	entered  chan struct{}
	release  chan struct{}
}

func (c *countingScorer) Score(ctx context.Context, _ crm.Facts) (crm.Score, crm.Call, error) {
	c.mu.Lock()
	c.in++
	c.most = max(c.most, c.in)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.in--
		c.mu.Unlock()
	}()
	c.entered <- struct{}{}
	select {
	case <-c.release:
	case <-ctx.Done():
		return crm.Score{}, TestCall, ctx.Err()
	}
	return crm.Score{Score: 0.6, Recommendation: crm.RecommendNurture, Reason: "counted"}, TestCall, nil
}

// RunReplicas runs the tests that need two processes on one database: open
// returns two stores with their own connections to one fresh, migrated
// database.
func RunReplicas(t *testing.T, open func(t *testing.T) (crm.Store, crm.Store)) {
	t.Run("AICapAcrossReplicas", func(t *testing.T) {
		t.Parallel()
		// A cap of 2 on two service instances, 5 analyses at once across
		// both: at most 2 are ever in the scorer, and every one is served
		// (the others wait for a slot) once the first are let go.
		var second crm.Store
		b := setup(t, func(t *testing.T) crm.Store {
			var first crm.Store
			first, second = open(t)
			return first
		})
		sc := &countingScorer{entered: make(chan struct{}, 5), release: make(chan struct{})}
		cfg := func(st crm.Store) crm.Config {
			return crm.Config{Store: st, Scorer: sc, Hasher: Hasher{}, Domains: Domains,
				MaxConcurrentAI: 2, AIQueueWait: 30 * time.Second}
		}
		replicas := []*crm.Services{crm.NewServices(cfg(b.st)), crm.NewServices(cfg(second))}
		errs := make(chan error, 5)
		for i := range 5 {
			l := b.leadAt(t, crm.LeadNew)
			go func() {
				_, err := replicas[i%2].Analyses.Analyze(as(b.mgr), l.ID)
				errs <- err
			}()
		}
		<-sc.entered
		<-sc.entered
		// Two are in; the three others poll for a slot. Give them many
		// polls' time to (wrongly) get in.
		time.Sleep(300 * time.Millisecond)
		select {
		case <-sc.entered:
			t.Errorf("a third analysis entered the scorer while two held the cap of 2")
		default:
		}
		close(sc.release)
		for range 5 {
			if err := <-errs; err != nil {
				t.Errorf("Analyze: %v", err)
			}
		}
		if sc.most > 2 {
			t.Errorf("%d analyses were in the scorer at once, cap 2", sc.most)
		}
	})
}
