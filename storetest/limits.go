package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/crmleads/crm"
)

// limitTests: the rate limits and the daily AI quota (issue 13 §5), kept in
// the database so they hold across replicas.
var limitTests = []test{
	{"RateLimitBucket", func(t *testing.T, b *bundle) {
		// 6 a minute: a burst of 6 passes, the 7th waits until a token has
		// refilled (10 s at 0.1/s), then one more passes.
		b.clock.SetStep(time.Millisecond)
		svc := crm.NewServices(crm.Config{Store: b.st, Hasher: Hasher{}, Domains: Domains, Now: b.clock.Now, RateLimit: 6})
		bg := context.Background()
		for i := range 6 {
			if err := svc.Limits.Allow(bg, "u:alice", "c:203.0.113.1"); err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
		}
		e := wantErr(t, svc.Limits.Allow(bg, "u:alice", "c:203.0.113.1"), crm.ETOOMANY, crm.CodeRateLimited)
		if e.RetryAfter <= 9*time.Second || e.RetryAfter > 10*time.Second {
			t.Errorf("RetryAfter = %v, want just under 10 s (one token at 0.1/s)", e.RetryAfter)
		}
		// Either bucket empty refuses; other buckets are untouched.
		wantErr(t, svc.Limits.Allow(bg, "u:bob", "c:203.0.113.1"), crm.ETOOMANY, crm.CodeRateLimited)
		must(t, svc.Limits.Allow(bg, "u:bob", "c:198.51.100.1"))
		must(t, svc.Limits.Allow(bg, "", "c:198.51.100.2")) // no user: the client's bucket only
		b.clock.Advance(10 * time.Second)
		must(t, svc.Limits.Allow(bg, "u:alice", "c:203.0.113.1"))
		wantErr(t, svc.Limits.Allow(bg, "u:alice", "c:203.0.113.1"), crm.ETOOMANY, crm.CodeRateLimited)
		// Off: nothing is counted.
		off := crm.NewServices(crm.Config{Store: b.st, Hasher: Hasher{}, Domains: Domains, Now: b.clock.Now})
		for range 20 {
			must(t, off.Limits.Allow(bg, "u:alice"))
		}
	}},
	{"RateLimitBurst", func(t *testing.T, b *bundle) {
		// 60 parallel requests at a bucket of 20: exactly 20 pass, on every
		// store, since each takes its token in one conditional statement.
		b.clock.SetStep(time.Microsecond)
		svc := crm.NewServices(crm.Config{Store: b.st, Hasher: Hasher{}, Domains: Domains, Now: b.clock.Now, RateLimit: 20})
		errs := parallel(60, func(int) error { return svc.Limits.Allow(context.Background(), "u:burst") })
		diff(t, "outcomes", map[string]int{"ok": 20, crm.ETOOMANY: 40}, kinds(errs))
	}},
	{"AIDailyQuota", func(t *testing.T, b *bundle) {
		svc := crm.NewServices(crm.Config{Store: b.st, Scorer: b.scorer, Hasher: Hasher{}, Domains: Domains,
			Now: b.clock.Now, AIDailyQuota: 3})
		l := b.newLead(t, as(b.mgr), crm.LeadInput{Source: crm.SourcePartner})
		b.scorer.Set(0.7, crm.RecommendTransfer, "good")
		for range 3 {
			_, err := svc.Analyses.Analyze(as(b.mgr), l.ID)
			must(t, err)
		}
		_, err := svc.Analyses.Analyze(as(b.mgr), l.ID)
		e := wantErr(t, err, crm.ETOOMANY, crm.CodeQuotaExceeded)
		now := b.clock.Peek().UTC()
		midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
		if e.RetryAfter <= 0 || e.RetryAfter > midnight.Sub(now)+time.Second {
			t.Errorf("RetryAfter = %v, want the time to midnight UTC (%v)", e.RetryAfter, midnight.Sub(now))
		}
		if n := len(b.scorer.Calls()); n != 3 {
			t.Errorf("%d AI calls, want 3 (a refused analysis never calls the AI)", n)
		}
		// Another user has a quota of their own; tomorrow renews it.
		l2 := b.newLead(t, as(b.mgr2), crm.LeadInput{Source: crm.SourcePartner})
		_, err = svc.Analyses.Analyze(as(b.mgr2), l2.ID)
		must(t, err)
		b.clock.Advance(24 * time.Hour)
		_, err = svc.Analyses.Analyze(as(b.mgr), l.ID)
		must(t, err)
		// Parallel analyses cannot overshoot: the count is one conditional upsert.
		b.clock.Advance(24 * time.Hour)
		errs := parallel(10, func(int) error {
			_, err := svc.Analyses.Analyze(as(b.mgr), l.ID)
			return err
		})
		if n := kinds(errs)["ok"]; n != 3 {
			t.Errorf("%d of 10 parallel analyses passed a quota of 3: %v", n, kinds(errs))
		}
	}},
}
